import { ApiError } from "../errors";
import type { ApiKeyRow } from "../storage/api-keys";
import type { Deps } from "./deps";

const HOUR_MS = 3600 * 1000;

/** One hourly limit a call counts against: a key's own, or that of a key above it. */
export interface LimitOwner {
  id: string;
  calls_per_hour: number;
  /** The key of an app connected by OAuth (its 429 says so). */
  app?: true;
}

/**
 * The limits a caller's calls count against, the caller's own first: a key, then the key that
 * made it, and so on up to a sign-in key. A key's calls_per_hour thereby covers every key it
 * made, transitively, revoked ones included (their calls stay counted), so making child keys
 * never adds calls. Anything else that acts for an account counts the same way by putting itself
 * in front of the chain of whatever approved it: an app connected by OAuth acts through a key row
 * of its own whose chain is that of the console session's key that approved it (domain/oauth.ts).
 */
export type LimitChain = LimitOwner[];

export const limitChainOf = (
  key: Pick<ApiKeyRow, "id" | "calls_per_hour" | "limit_chain" | "oauth_client_id">,
): LimitChain => [
  { id: key.id, calls_per_hour: key.calls_per_hour, ...(key.oauth_client_id ? { app: true as const } : {}) },
  ...(JSON.parse(key.limit_chain) as LimitChain),
];

const hourOf = (now: number) => Math.floor(now / HOUR_MS);

/**
 * The counters a call placed at `now` counts against, one per limit of its chain for the clock
 * hour, space-separated as a placement stores them (storage/counters.ts gives them all back).
 */
export const allowanceBucket = (chain: LimitChain, now = Date.now()) =>
  chain.map((owner) => `calls:${owner.id}:${hourOf(now)}`).join(" ");

/**
 * Runaway-automation guard: a call takes one slot of the current clock hour from every limit of
 * its chain, or from none when any is spent. Counted in D1 with one statement, so it holds across
 * concurrent requests and isolates. A call that is never placed (KallyAI refused it, or it was
 * cancelled first) gives its slots back.
 */
export async function takeCallAllowance(d: Deps, chain: LimitChain, now = Date.now()): Promise<void> {
  const hour = hourOf(now);
  const resetAt = (hour + 1) * HOUR_MS;
  const buckets = chain.map((owner) => ({ bucket: `calls:${owner.id}:${hour}`, limit: owner.calls_per_hour }));
  if (!(await d.counters.takeAll(buckets, resetAt + HOUR_MS))) {
    const wait = Math.ceil((resetAt - now) / 1000);
    const spentAbove = (await d.counters.spent(buckets)).indexOf(true);
    const above = spentAbove > 0 ? chain[spentAbove] : undefined;
    throw new ApiError(
      429,
      "rate_limited",
      above
        ? `The key that made this API key (or one above it) may place ${above.calls_per_hour} calls per hour, counting those of every key it made, and they have. Wait ${Math.ceil(wait / 60)} minutes.`
        : chain[0]?.app
          ? `This app may place ${chain[0].calls_per_hour} calls per hour, and has. Wait ${Math.ceil(wait / 60)} minutes, or connect it again and allow more calls per hour.`
          : `This API key may place ${chain[0]?.calls_per_hour ?? 0} calls per hour, and has. Wait ${Math.ceil(wait / 60)} minutes, or raise its calls_per_hour with a new key.`,
      { retryAfter: wait },
    );
  }
}
