import type { Context } from "hono";
import { ApiError } from "../errors";

/** No-code tools send small bodies; a call's fields fit in a few kilobytes. */
export const MAX_BODY_BYTES = 64 * 1024;

const tooLarge = () => new ApiError(413, "payload_too_large", `The request body is larger than ${MAX_BODY_BYTES / 1024} KB. Send only the call's fields.`);

async function readLimited(req: Request): Promise<string> {
  const declared = Number(req.headers.get("content-length"));
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}

function fromEntries(entries: Iterable<[string, string]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/**
 * The fields of a request however a no-code tool sends them: JSON, a urlencoded or multipart
 * form, or the query string (body fields win). Empty values count as absent, as Shortcuts and
 * Zapier send every field of a form whether it was filled in or not.
 */
export async function readFields(c: Context): Promise<Record<string, unknown>> {
  const query = fromEntries(new URL(c.req.url).searchParams.entries());
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  let body: Record<string, unknown> = {};
  if (type === "multipart/form-data") {
    if (Number(c.req.header("content-length")) > MAX_BODY_BYTES) throw tooLarge();
    const text = await readLimited(c.req.raw);
    const form = await new Response(text, { headers: { "content-type": c.req.header("content-type")! } }).formData().catch(() => {
      throw new ApiError(400, "malformed_body", "The multipart form could not be read.");
    });
    body = fromEntries([...form.entries()].filter((e): e is [string, string] => typeof e[1] === "string"));
  } else {
    const text = await readLimited(c.req.raw);
    if (text.trim() !== "") {
      if (type === "application/json" || type.endsWith("+json")) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new ApiError(400, "malformed_json", "The request body is not valid JSON. Send a JSON object, or form fields.");
        }
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new ApiError(400, "malformed_json", "The JSON body must be an object of fields.");
        body = parsed as Record<string, unknown>;
      } else if (type === "application/x-www-form-urlencoded") {
        body = fromEntries(new URLSearchParams(text).entries());
      } else {
        throw new ApiError(415, "unsupported_media_type", "Send the fields as JSON (application/json), as a form (application/x-www-form-urlencoded or multipart/form-data), or in the query string.");
      }
    }
  }
  const merged = { ...query, ...body };
  for (const [k, v] of Object.entries(merged)) if (v === "" || v === null) delete merged[k];
  return merged;
}
