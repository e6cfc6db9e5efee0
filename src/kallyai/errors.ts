import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError, type ErrorCode, kallyaiCode } from "../errors";
import { SUPPORTED_COUNTRIES_TEXT } from "../shared/phone";

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
    status: 422,
    message: () => "KallyAI does not call this number (it is flagged). Use another number for the business.",
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
  validation_error: { status: 422, message: (u) => `KallyAI refused a field: ${u.message}` },
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
}

/** Reads `{"error": {"code", "message" | "details": {"message"}}}` in any of the shapes KallyAI uses. */
export function readUpstreamError(body: unknown): UpstreamErrorBody {
  const error = (body as { error?: unknown } | null)?.error;
  if (!error || typeof error !== "object") return {};
  const e = error as Record<string, unknown>;
  const details = (e.details ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return {
    code: str(e.code),
    message: str(e.message) ?? str(details.message),
    upgrade_url: str(e.upgrade_url) ?? str(details.upgrade_url) ?? str((body as Record<string, unknown>).upgrade_url),
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
  const upstream = readUpstreamError(body);
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
      retryAfter ? { retryAfter } : {},
    );
  }
  if (isAdvised(upstream.code)) {
    const advice: Advice = ADVICE[upstream.code];
    return new ApiError(advice.status, upstream.code, advice.message(upstream));
  }
  return new ApiError(
    status === 404 ? 404 : 422,
    upstream.code ? kallyaiCode(upstream.code) : "upstream_rejected",
    `KallyAI refused the request${upstream.message ? `: ${upstream.message}` : "."}`,
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
