import type { Context } from "hono";
import { ApiError } from "../errors";

const IDEMPOTENCY_KEY_MAX = 255;

/**
 * The caller's Idempotency-Key: the header, else the `idempotency_key` field. Any text is
 * accepted (iOS Shortcuts' dates carry U+202F); KallyAI gets a header-safe key derived from it.
 */
export function idempotencyKeyOf(c: Context, fields: Record<string, unknown>): string | undefined {
  const raw = c.req.header("idempotency-key")?.trim() || fields.idempotency_key;
  if (raw === undefined) return undefined;
  const key = typeof raw === "string" ? raw.trim() : undefined;
  if (key === undefined || key.length > IDEMPOTENCY_KEY_MAX) {
    throw new ApiError(
      422,
      "validation_error",
      `idempotency_key must be text of at most ${IDEMPOTENCY_KEY_MAX} characters, unique per call.`,
      { field: "idempotency_key" },
    );
  }
  return key || undefined;
}
