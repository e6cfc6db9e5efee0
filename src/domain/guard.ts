import { ApiError } from "../errors";
import type { ApiKeyRow } from "../storage/api-keys";
import type { Deps } from "./deps";

const HOUR_MS = 3600 * 1000;

/** The counter a call placed at `now` with this key counts against (one per key per clock hour). */
export const allowanceBucket = (keyId: string, now = Date.now()) => `calls:${keyId}:${Math.floor(now / HOUR_MS)}`;

/**
 * Runaway-automation guard: each key (and each app connected by OAuth, through its grant's key)
 * may place `calls_per_hour` calls per clock hour. Counted in D1 with one conditional statement,
 * so it holds across concurrent requests and isolates. A call that is never placed (KallyAI
 * refused it, or it was cancelled first) gives its slot back.
 */
export async function takeCallAllowance(d: Deps, key: ApiKeyRow, now = Date.now()): Promise<void> {
  const hour = Math.floor(now / HOUR_MS);
  const resetAt = (hour + 1) * HOUR_MS;
  if (!(await d.counters.take(allowanceBucket(key.id, now), key.calls_per_hour, resetAt + HOUR_MS))) {
    const wait = Math.ceil((resetAt - now) / 1000);
    throw new ApiError(
      429,
      "rate_limited",
      key.oauth_client_id
        ? `This app may place ${key.calls_per_hour} calls per hour, and has. Wait ${Math.ceil(wait / 60)} minutes, or connect it again and allow more calls per hour.`
        : `This API key may place ${key.calls_per_hour} calls per hour, and has. Wait ${Math.ceil(wait / 60)} minutes, or raise its calls_per_hour with a new key.`,
      { retryAfter: wait },
    );
  }
}
