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
