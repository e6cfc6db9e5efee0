import { ApiError } from "../errors";
import { sha256Hex } from "../shared/encoding";

/**
 * What the bridge puts into KallyAI's URLs and headers. Call ids KallyAI issues are UUIDs; an id
 * that is not a plain token (NUL, LF, "/", unicode; a leading "." so no "..") never reaches a URL
 * or a header.
 */
export const CALL_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

export function assertCallId(id: string): string {
  if (!CALL_ID.test(id))
    throw new ApiError(
      422,
      "validation_error",
      "id: not a call id. Use the id POST /v1/calls or GET /v1/calls answered.",
      { field: "id" },
    );
  return id;
}

/** Printable ASCII without spaces at the ends: what any HTTP stack carries unchanged in a header. */
const HEADER_SAFE = /^[\x21-\x7e]([\x20-\x7e]{0,253}[\x21-\x7e])?$/;

/**
 * The Idempotency-Key sent to KallyAI for the caller's key. A plain ASCII key goes as it is; any
 * other (iOS Shortcuts put dates with U+202F in them) goes as a key derived from its SHA-256, so the
 * same key always maps to the same upstream key and no header can break.
 */
export async function upstreamIdempotencyKey(key: string): Promise<string> {
  return HEADER_SAFE.test(key) ? key : `sha256-${await sha256Hex(key)}`;
}
