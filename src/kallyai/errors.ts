import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError, type ErrorCode, kallyaiCode, type UpstreamDetail } from "../errors";
import { SUPPORTED_COUNTRIES_TEXT } from "../shared/phone";
import { QuotaExceededBody } from "./schemas";

const PRICING_URL = "https://kallyai.com/pricing";

/** What each of KallyAI's error codes means for the person who sent the request, and what to do. */
const ADVICE = {
  quota_exceeded: {
    status: 402,
    message: (u) =>
      `Your KallyAI plan has no minutes left. Upgrade or top up at ${u.upgrade_url ?? PRICING_URL}, then try again.`,
  },
  missing_phone_number: {
    status: 422,
    message: () => "The phone number is missing or not valid. Send it in international format, e.g. +14155551234.",
  },
  emergency_number: {
    status: 422,
    message: () => "Emergency and service numbers (911, 112, 999, …) are never called. Call them yourself.",
  },
  toll_number: {
    status: 422,
    message: () => "Premium-rate numbers are not called. Use the business's regular number.",
  },
  blocked_number: {
    status: 403,
    message: () => "KallyAI does not call this number (it is flagged). Use another number for the business.",
  },
  suppression_violation: {
    status: 403,
    message: () => "This number is on a do-not-call list, so KallyAI will not call it.",
  },
  scheduling_violation: {
    status: 422,
    message: () =>
      "KallyAI refused the date or time. Send date as YYYY-MM-DD and time as HH:MM (24 h), not in the past.",
  },
  consent_denied: {
    status: 422,
    message: () =>
      "The KallyAI account holder has declined consent for calls. Accept KallyAI's terms in its app, then try again.",
  },
  safety_violation: {
    status: 422,
    message: () => "KallyAI refused this task under its safety rules. Rephrase the task.",
  },
  country_restriction: {
    status: 403,
    message: () => `KallyAI cannot call this country. Supported: ${SUPPORTED_COUNTRIES_TEXT}.`,
  },
  unsupported_country: {
    status: 403,
    message: () => `KallyAI cannot call this country. Supported: ${SUPPORTED_COUNTRIES_TEXT}.`,
  },
  unsupported_language: {
    status: 422,
    message: () => "Only English (en) and Spanish (es) are supported. Set language to en or es.",
  },
  forbidden: { status: 403, message: () => "KallyAI says this resource belongs to another account." },
  call_not_found: { status: 404, message: () => "No such call. List your calls to find its id." },
  transcript_not_found: {
    status: 404,
    message: () => "The call has no transcript yet. Try again once the call has ended.",
  },
  recording_not_found: { status: 404, message: () => "The call has no recording. Only answered calls are recorded." },
  call_already_ended: { status: 409, message: () => "The call has already ended, so it cannot be cancelled." },
  idempotency_conflict: {
    status: 422,
    message: () => "This Idempotency-Key was used with a different request. Use a new key for a new call.",
  },
  validation_error: { status: 422, message: (u) => `KallyAI refused a field: ${u.message ?? "no reason given"}` },
} satisfies Partial<Record<ErrorCode, Advice>>;

interface Advice {
  status: ContentfulStatusCode;
  message: (upstream: UpstreamErrorBody) => string;
}

const isAdvised = (code: string | undefined): code is keyof typeof ADVICE =>
  code !== undefined && Object.hasOwn(ADVICE, code);

export interface UpstreamErrorBody {
  code?: string;
  message?: string;
  upgrade_url?: string;
  correlation_id?: string;
}

/**
 * KallyAI's message, made safe to quote: one line, no control characters, at most 300 characters.
 * It is the text of a foreign service, so it is never passed on as it came.
 */
export function quotable(text: string | undefined): string | undefined {
  if (!text) return undefined;
  // Control characters (C0, DEL, C1) and line separators become spaces, then runs of space one.
  const printable = [...text].map((ch) => (isControl(ch.charCodeAt(0)) ? " " : ch)).join("");
  const line = printable.replace(/\s+/g, " ").trim();
  if (!line) return undefined;
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

const isControl = (code: number) => code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;

/**
 * Reads `{"error": {"code", "message" | "details": {"message"}, "correlation_id"}}` in any of the
 * shapes KallyAI uses, and the reference's bare 402 body (`{plan_type, …, upgrade_url}`).
 */
export function readUpstreamError(body: unknown, status?: number): UpstreamErrorBody {
  const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);
  const error = (body as { error?: unknown } | null)?.error;
  if (!error || typeof error !== "object") {
    const quota = status === 402 ? QuotaExceededBody.safeParse(body) : undefined;
    return quota?.success ? { code: "quota_exceeded", upgrade_url: str(quota.data.upgrade_url) } : {};
  }
  const e = error as Record<string, unknown>;
  const details = (e.details ?? {}) as Record<string, unknown>;
  return {
    code: str(e.code),
    message: quotable(str(e.message) ?? str(details.message)),
    upgrade_url: str(e.upgrade_url) ?? str(details.upgrade_url) ?? str((body as Record<string, unknown>).upgrade_url),
    correlation_id: str(e.correlation_id) ?? str((body as Record<string, unknown>).correlation_id),
  };
}

export class UpstreamUnauthorized extends ApiError {
  constructor() {
    super(
      401,
      "upstream_unauthorized",
      "KallyAI refused the stored access token. The bridge refreshes it automatically; if this persists, link your account again.",
    );
  }
}

/** Maps a refused upstream request to the bridge's error with the same code where KallyAI gave one. */
export function upstreamFailure(status: number, body: unknown, retryAfter?: number): ApiError {
  const upstream = readUpstreamError(body, status);
  const detail: UpstreamDetail = {
    status,
    code: upstream.code ?? null,
    message: upstream.message ?? null,
    correlation_id: upstream.correlation_id ?? null,
  };
  if (status === 401) return new UpstreamUnauthorized();
  if (status === 429) {
    return new ApiError(
      503,
      "upstream_unavailable",
      "KallyAI is rate limiting requests. Wait for the Retry-After seconds, then try again.",
      { retryAfter: retryAfter ?? 30 },
    );
  }
  if (status >= 500) {
    return new ApiError(
      502,
      "upstream_unavailable",
      "KallyAI is having trouble right now. Try again in a minute.",
      retryAfter ? { retryAfter, upstream: detail } : { upstream: detail },
    );
  }
  // A 402 is a quota refusal whatever its body says (the reference's is bare).
  const code = upstream.code ?? (status === 402 ? "quota_exceeded" : undefined);
  const extra = { upstream: detail, ...(upstream.upgrade_url ? { upgradeUrl: upstream.upgrade_url } : {}) };
  if (isAdvised(code)) {
    const advice: Advice = ADVICE[code];
    return new ApiError(advice.status, code, advice.message(upstream), extra);
  }
  return new ApiError(
    status === 404 ? 404 : 422,
    code ? kallyaiCode(code) : "upstream_rejected",
    `KallyAI refused the request${upstream.message ? `: ${upstream.message}` : "."}`,
    extra,
  );
}

export const upstreamTimeout = () =>
  new ApiError(
    504,
    "upstream_unavailable",
    "KallyAI did not answer in time. Try again; placing a call again with the same Idempotency-Key is safe.",
  );

export const upstreamUnreachable = () =>
  new ApiError(502, "upstream_unavailable", "The bridge could not reach KallyAI. Try again in a minute.");

export const upstreamInvalid = () =>
  new ApiError(
    502,
    "upstream_invalid_response",
    "KallyAI sent an answer the bridge could not read. Try again; if it persists, report it.",
  );
