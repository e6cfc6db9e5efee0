import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ConfigError } from "./env";
import type { ERROR_CODES } from "./http/error-codes";
import { logError } from "./shared/log";

/** A code of the bridge's own: one listed, with its meaning, in src/http/error-codes.ts. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * A code KallyAI answered with that the bridge does not know (yet), passed through as it came;
 * the sandbox, which imitates KallyAI, answers in KallyAI's codes too. Made only by `kallyaiCode`.
 */
export type KallyAICode = string & { readonly __kallyaiCode: true };
export const kallyaiCode = (code: string) => code as KallyAICode;

/** The one error shape every failure of the bridge answers with. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string; upgrade_url?: string };
}

/** What KallyAI said when it refused a request: for the logs, never copied raw into an answer. */
export interface UpstreamDetail {
  status: number;
  code: string | null;
  message: string | null;
  correlation_id: string | null;
}

/**
 * A failure the caller can act on. Throw it anywhere; `errorHandler` turns it into
 * `{"error": {"code", "message"}}` with `status` and, when known, `Retry-After`.
 */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode | KallyAICode,
    message: string,
    readonly extra: {
      retryAfter?: number;
      field?: string;
      headers?: Record<string, string>;
      /** Where to buy more minutes (a 402 quota_exceeded), answered as `error.upgrade_url`. */
      upgradeUrl?: string;
      /** KallyAI's own refusal, logged with the request id. */
      upstream?: UpstreamDetail;
    } = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const notFound = (what: string, hint = "Check the id, or list the collection to find it.") =>
  new ApiError(404, "not_found", `${what} was not found. ${hint}`);

export function errorBody(code: string, message: string, field?: string, upgradeUrl?: string): ErrorBody {
  return {
    error: { code, message, ...(field ? { field } : {}), ...(upgradeUrl ? { upgrade_url: upgradeUrl } : {}) },
  };
}

export function errorResponse(err: ApiError): Response {
  const headers = new Headers({ "content-type": "application/json; charset=utf-8", ...err.extra.headers });
  if (err.extra.retryAfter !== undefined)
    headers.set("retry-after", String(Math.max(1, Math.ceil(err.extra.retryAfter))));
  return new Response(JSON.stringify(errorBody(err.code, err.message, err.extra.field, err.extra.upgradeUrl)), {
    status: err.status,
    headers,
  });
}

/** Maps anything thrown to an ApiError; unexpected errors become a generic 500 that leaks nothing. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ConfigError) {
    // 503: the deployment, not the request, is at fault; the message names settings, never their values.
    return new ApiError(
      503,
      "misconfigured",
      `The bridge is misconfigured: ${err.message}. Its operator must fix it in wrangler.toml or with \`wrangler secret put\`; GET /health says the same.`,
    );
  }
  if (err instanceof HTTPException) {
    if (err.status === 400 && /JSON/i.test(err.message)) {
      return new ApiError(
        400,
        "malformed_json",
        "The request body is not valid JSON. Send a JSON object, or form fields.",
      );
    }
    if (err.status === 415)
      return new ApiError(
        415,
        "unsupported_media_type",
        "This endpoint takes JSON: send Content-Type: application/json.",
      );
    if (err.status === 413) return new ApiError(413, "payload_too_large", "The request body is too large.");
    const status = err.status as ContentfulStatusCode;
    return new ApiError(
      status,
      status === 401 ? "unauthorized" : "bad_request",
      err.message || "The request was refused.",
    );
  }
  return new ApiError(
    500,
    "internal_error",
    "Something went wrong inside the bridge. Try again; if it keeps failing, report the X-Request-Id header of this answer.",
  );
}

export function errorHandler(err: unknown, c: Context): Response {
  const apiError = toApiError(err);
  logUpstreamRefusal(apiError, c.get("requestId"));
  if (apiError.status >= 500) {
    logError({ request_id: c.get("requestId"), code: apiError.code }, err);
  }
  return errorResponse(apiError);
}

/**
 * Logs what KallyAI said when it refused (its code, its message cut short, its correlation id), with
 * the bridge's request id, so an operator can quote both to KallyAI. The caller sees only the
 * bridge's own message.
 */
export function logUpstreamRefusal(err: ApiError, requestId?: string): void {
  const u = err.extra.upstream;
  if (!u) return;
  console.warn(
    JSON.stringify({
      level: "warn",
      event: "upstream_refused",
      ...(requestId ? { request_id: requestId } : {}),
      status: u.status,
      upstream_code: u.code,
      upstream_message: u.message,
      correlation_id: u.correlation_id,
      code: err.code,
    }),
  );
}
