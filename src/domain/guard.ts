import { ApiError } from "../errors";
import type { ApiKeyRow } from "../storage/api-keys";
import type { Deps } from "./deps";

const HOUR_MS = 3600 * 1000;

/**
 * Runaway-automation guard: each key (and each app connected by OAuth, through its grant's key)
 * may place `calls_per_hour` calls per clock hour. Counted in D1 with one conditional statement,
 * so it holds across concurrent requests and isolates.
 */
export async function takeCallAllowance(d: Deps, key: ApiKeyRow): Promise<{ giveBack: () => Promise<void> }> {
  const hour = Math.floor(Date.now() / HOUR_MS);
  const bucket = `calls:${key.id}:${hour}`;
  const resetAt = (hour + 1) * HOUR_MS;
  if (!(await d.counters.take(bucket, key.calls_per_hour, resetAt + HOUR_MS))) {
    const wait = Math.ceil((resetAt - Date.now()) / 1000);
    throw new ApiError(
      429,
      "rate_limited",
      key.oauth_client_id
        ? `This app may place ${key.calls_per_hour} calls per hour, and has. Wait ${Math.ceil(wait / 60)} minutes, or connect it again and allow more calls per hour.`
        : `This API key may place ${key.calls_per_hour} calls per hour, and has. Wait ${Math.ceil(wait / 60)} minutes, or raise its calls_per_hour with a new key.`,
      { retryAfter: wait },
    );
  }
  return { giveBack: async () => void (await d.counters.give(bucket)) };
}
