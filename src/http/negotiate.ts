import type { Context } from "hono";

/** iOS Shortcuts and Siri want plain text: `?format=text`, or `Accept: text/plain` before JSON. */
export function wantsText(c: Context): boolean {
  const format = c.req.query("format");
  if (format) return format === "text";
  const accept = c.req.header("accept") ?? "";
  const text = accept.indexOf("text/plain");
  const json = accept.indexOf("application/json");
  return text !== -1 && (json === -1 || text < json);
}

/** The media types of an Accept header, most preferred first (stable for equal q). */
function acceptedTypes(accept: string): string[] {
  return accept
    .split(",")
    .map((part, index) => {
      const [type = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
      const q = Number(params.find((p) => p.startsWith("q="))?.slice(2) ?? 1);
      return { type, q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((t) => t.type !== "" && t.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index)
    .map((t) => t.type);
}

/**
 * A browser asking for a page: text/html comes before any JSON in its Accept. Programs that
 * accept both (n8n sends `application/json,text/html,…`) get JSON, and so does `*\/*`.
 */
export function prefersHtml(c: Context): boolean {
  for (const type of acceptedTypes(c.req.header("accept") ?? "")) {
    if (type === "text/html" || type === "application/xhtml+xml") return true;
    if (type === "application/json" || type.endsWith("+json")) return false;
  }
  return false;
}
