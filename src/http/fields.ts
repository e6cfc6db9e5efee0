import type { Context } from "hono";
import { ApiError } from "../errors";

/** Fields by name; repeated names collect into a list. Names such as `__proto__` are plain fields here. */
function fromEntries(entries: Iterable<[string, string]>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, v] of entries) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** A body's text, decoded from its bytes: text() makes workerd warn for any type that is not text. */
export async function textOf(body: Pick<Request, "arrayBuffer">): Promise<string> {
  return new TextDecoder().decode(await body.arrayBuffer());
}

/**
 * The fields of a request however a no-code tool sends them: JSON, a urlencoded or multipart
 * form, or the query string (body fields win). Empty values count as absent, as Shortcuts and
 * Zapier send every field of a form whether it was filled in or not.
 */
export async function readFields(c: Context): Promise<Record<string, unknown>> {
  const query = fromEntries(new URL(c.req.url).searchParams.entries());
  const contentType = c.req.header("content-type") ?? "";
  const type = contentType.replace(/;.*$/s, "").trim().toLowerCase();
  let body: Record<string, unknown> = {};
  if (type === "multipart/form-data") {
    // Bytes, not text(): a multipart body is not text, and workerd warns when it is read as text.
    const bytes = await c.req.arrayBuffer();
    const form = await new Response(bytes, { headers: { "content-type": contentType } }).formData().catch(() => {
      throw new ApiError(400, "malformed_body", "The multipart form could not be read.");
    });
    body = fromEntries([...form.entries()].filter((e): e is [string, string] => typeof e[1] === "string"));
  } else {
    // Its size is bounded by bodyLimits (src/http/body-limit.ts).
    const text = await textOf(c.req.raw);
    if (text.trim() !== "") {
      if (type === "application/json" || type.endsWith("+json")) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new ApiError(
            400,
            "malformed_json",
            "The request body is not valid JSON. Send a JSON object, or form fields.",
          );
        }
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
          throw new ApiError(400, "malformed_json", "The JSON body must be an object of fields.");
        body = parsed as Record<string, unknown>;
      } else if (type === "application/x-www-form-urlencoded") {
        body = fromEntries(new URLSearchParams(text).entries());
      } else {
        throw new ApiError(
          415,
          "unsupported_media_type",
          "Send the fields as JSON (application/json), as a form (application/x-www-form-urlencoded or multipart/form-data), or in the query string.",
        );
      }
    }
  }
  const merged: Record<string, unknown> = Object.assign(Object.create(null), query, body);
  for (const [k, v] of Object.entries(merged)) if (v === "" || v === null) delete merged[k];
  return merged;
}
