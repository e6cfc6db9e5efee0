import type { MiddlewareHandler } from "hono";
import type { ErrorBody } from "../errors";

/** The OAuth error code (RFC 6749 §5.2, RFC 7591 §3.2.2) for an answer the bridge itself made. */
function oauthCode(status: number): string {
  if (status >= 500) return status === 503 ? "temporarily_unavailable" : "server_error";
  if (status === 429) return "temporarily_unavailable";
  return "invalid_request";
}

/**
 * OAuth clients read `{"error": "…", "error_description": "…"}` from the token and registration
 * endpoints. The library answers that way; what the bridge answers before it (a body too large, a
 * method the path does not take, a misconfigured deployment) is turned into the same shape here,
 * with its status, headers and message kept.
 */
export const oauthErrorShape: MiddlewareHandler = async (c, next) => {
  await next();
  if (c.res.status < 400 || !(c.res.headers.get("content-type") ?? "").startsWith("application/json")) return;
  const body = (await c.res.clone().json()) as Partial<ErrorBody> | { error?: unknown };
  const error = body.error;
  if (typeof error !== "object" || error === null || !("message" in error)) return;
  const headers = new Headers(c.res.headers);
  headers.delete("content-length");
  c.res = new Response(JSON.stringify({ error: oauthCode(c.res.status), error_description: String(error.message) }), {
    status: c.res.status,
    headers,
  });
};
