import type { MiddlewareHandler } from "hono";

/**
 * Headers of every page made for people (console, landing page, /docs). Script and style come only
 * from this origin's files: nothing inline is allowed, so injected markup cannot run.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

export function pageHeaders(csp = PAGE_CSP): Record<string, string> {
  return {
    "content-security-policy": csp,
    "x-content-type-options": "nosniff",
    // Not no-referrer: with it, browsers send `Origin: null` on this site's own forms, and the CSRF check needs the origin.
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
  };
}

/** Adds the page headers to whatever the handler answered (also redirects and error pages). */
export const securePages =
  (csp = PAGE_CSP): MiddlewareHandler =>
  async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(pageHeaders(csp))) if (!c.res.headers.has(name)) c.res.headers.set(name, value);
  };
