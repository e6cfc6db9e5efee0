import type { Context } from "hono";

/**
 * Adds headers to the answer already made, without overwriting ones a route chose. An answer
 * passed through from fetch() has immutable headers: it is copied first.
 */
export function addHeaders(c: Context, headers: Record<string, string>): void {
  const missing = Object.entries(headers).filter(([name]) => !c.res.headers.has(name));
  if (missing.length === 0) return;
  try {
    for (const [name, value] of missing) c.res.headers.set(name, value);
  } catch {
    const copy = new Response(c.res.body, c.res);
    for (const [name, value] of missing) copy.headers.set(name, value);
    c.res = copy;
  }
}
