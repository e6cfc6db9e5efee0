import type { MiddlewareHandler } from "hono";
import { addHeaders } from "../http/response-headers";
import { COMMON_HEADERS, PAGE_HEADERS } from "../http/security-headers";

/**
 * The policy of the console, `/` and `/docs`: script and style come only from this origin's own
 * files (served by the worker or as static assets), so nothing inline runs or applies and the
 * page needs no hashes. The app-wide securityHeaders() does not overwrite what this sets.
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

function pageHeaders(csp = PAGE_CSP): Record<string, string> {
  return {
    ...COMMON_HEADERS,
    ...PAGE_HEADERS,
    "content-security-policy": csp,
    // Not no-referrer: with it, browsers send `Origin: null` on this site's own forms, and the CSRF check needs the origin.
    "referrer-policy": "same-origin",
  };
}

/** Adds the page headers to whatever the handler answered (also redirects and error pages). */
export const securePages =
  (csp = PAGE_CSP): MiddlewareHandler =>
  async (c, next) => {
    await next();
    addHeaders(c, pageHeaders(csp));
  };
