import type { MiddlewareHandler } from "hono";
import type { ErrorBody } from "../errors";

/** The statuses IFTTT's Service API knows (400, 401, 404, 500, 503) for one the bridge answered. */
function iftttStatus(status: number): 400 | 401 | 404 | 500 | 503 {
  if (status === 401 || status === 403) return 401;
  if (status === 404) return 404;
  if (status >= 500) return status === 502 || status === 503 || status === 504 ? 503 : 500;
  return 400;
}

/**
 * IFTTT reads `{"errors": [{"message"}]}` from a service (docs/ifttt.md). Every failure under
 * /ifttt — the routes', the body limit's, a 405, a misconfigured deployment — is turned into that
 * shape here, with a status IFTTT knows: a refused token or a missing scope is 401 (IFTTT asks the
 * person to reconnect), bad input 400, an action the bridge refuses to run 400 with `status: "SKIP"`,
 * KallyAI being unavailable 503 (IFTTT tries again later). Retry-After and other headers are kept.
 */
export const iftttErrorShape: MiddlewareHandler = async (c, next) => {
  await next();
  if (c.res.status < 400 || !(c.res.headers.get("content-type") ?? "").startsWith("application/json")) return;
  const body = (await c.res.clone().json()) as Partial<ErrorBody>;
  const error = body.error;
  if (typeof error !== "object" || error === null || typeof error.message !== "string") return;
  const headers = new Headers(c.res.headers);
  headers.delete("content-length");
  const item =
    error.code === "action_skipped" ? { status: "SKIP", message: error.message } : { message: error.message };
  c.res = new Response(JSON.stringify({ errors: [item] }), { status: iftttStatus(c.res.status), headers });
};
