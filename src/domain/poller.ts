import { ApiError } from "../errors";
import { KallyAIClient } from "../kallyai/client";
import { UpstreamUnauthorized } from "../kallyai/errors";
import type { UpstreamCall } from "../kallyai/schemas";
import { isFinished } from "../shared/call-status";
import { logError, logEvent } from "../shared/log";
import type { CallRow, Outcome } from "../storage/calls";
import type { Scheduled } from "../storage/events";
import { outcomeOf } from "./call-view";
import { deliverDue } from "./deliveries";
import type { Deps } from "./deps";
import { sendRealtime } from "./ifttt-realtime";
import { EXPIRE_AFTER_MS, type Observation, recordObservations } from "./outcomes";
import { recoverPlacements } from "./placement";
import { Budget, mapPool } from "./pool";
import { currentAccess, withUpstream } from "./upstream-session";

export { EXPIRE_AFTER_MS };

/**
 * The outcome poller (docs/webhooks.md, "Poll schedule"), for calls KallyAI answered while they
 * were still running (docs/architecture.md). Calls are looked at 15 s after that answer
 * (FIRST_POLL_DELAY_MS in outcomes.ts), then every 10 s for their first 5 minutes, every minute
 * up to 30 minutes, every 5 minutes after that, and given up at 6 hours (EXPIRE_AFTER_MS) with
 * status "expired" and a call.expired event.
 */
export function pollDelayMs(ageMs: number): number {
  if (ageMs < 5 * 60_000) return 10_000;
  if (ageMs < 30 * 60_000) return 60_000;
  return 5 * 60_000;
}
/** A call whose owner must relink is looked at again this much later (not every tick). */
export const PARK_MS = 30 * 60_000;
/** How long a tick holds the calls it took; another tick takes them over after that. */
const CALL_LEASE_MS = 2 * 60_000;
/** Calls taken and recorded per D1 round trip. */
const CHUNK = 50;
/** While sweeping inside one tick, look again at least this often (new calls fall due at 15 s). */
const MAX_SLEEP_MS = 10_000;
const MIN_SLEEP_MS = 1_000;
const PLACED_RETENTION_MS = 24 * 3600_000;
const EVENT_RETENTION_MS = 30 * 24 * 3600_000;

/** Per invocation: one access token per user (read once, refreshed at most once), and the poll client. */
export class PollContext {
  private readonly tokens = new Map<string, Promise<string>>();
  /** One attempt per poll, so the budget counts requests exactly; the next poll is the retry. */
  readonly client: KallyAIClient;
  constructor(
    readonly d: Deps,
    readonly budget: Budget,
  ) {
    this.client = new KallyAIClient({
      baseUrl: d.cfg.upstream.baseUrl,
      timeoutMs: Math.min(d.cfg.upstream.timeoutMs, 10_000),
      maxAttempts: 1,
      fetch: d.upstreamFetch,
    });
  }

  token(userId: string): Promise<string> {
    let t = this.tokens.get(userId);
    if (!t) {
      t = currentAccess(this.d, userId).then((a) => a.token);
      // A refusal to relink is kept for the invocation; anything else is tried again by the next call.
      t.catch((err) => {
        if (!isRelinkRequired(err)) this.tokens.delete(userId);
      });
      this.tokens.set(userId, t);
    }
    return t;
  }

  async getCall(userId: string, id: string): Promise<UpstreamCall> {
    const token = await this.token(userId);
    this.budget.take();
    try {
      return await this.client.getCall(token, id);
    } catch (err) {
      if (!(err instanceof UpstreamUnauthorized)) throw err;
      // The token was refused: refresh it (single-flight across ticks) and keep the new one.
      this.budget.take(2);
      return withUpstream(this.d, userId, (token) => {
        this.tokens.set(userId, Promise.resolve(token));
        return this.client.getCall(token, id);
      });
    }
  }
}

const isRelinkRequired = (err: unknown) => err instanceof ApiError && err.code === "relink_required";
const currentOutcome = (row: CallRow): Outcome => ({
  status: row.status,
  highlights: row.highlights,
  next_steps: row.next_steps,
  duration_seconds: row.duration_seconds,
  ended_at: row.ended_at,
});

/** Looks at one claimed call and says what to record. */
async function observe(ctx: PollContext, row: CallRow): Promise<Observation> {
  const now = Date.now();
  const age = now - row.created_at;
  const expired = age >= EXPIRE_AFTER_MS;
  const giveUp = (): Observation => ({ row, outcome: { ...currentOutcome(row), status: "expired" }, nextPollAt: null });
  // On the schedule from when this poll was due, so the lag of each hop does not add up; a poll
  // that came late (e.g. taken over by the cron) counts from now instead.
  const aligned = (row.next_poll_at ?? now) + pollDelayMs(age);
  const nextPollAt = aligned > now ? aligned : now + pollDelayMs(age);
  try {
    // Only calls KallyAI has answered for are polled (storage/events.ts), by KallyAI's id.
    const outcome = outcomeOf(await ctx.getCall(row.user_id, row.upstream_id ?? row.id));
    if (isFinished(outcome.status)) return { row, outcome, nextPollAt: null };
    if (expired) return giveUp();
    return { row, outcome, nextPollAt };
  } catch (err) {
    if (expired) return giveUp();
    if (isRelinkRequired(err)) {
      // Parked: the owner must link the account again; no request was made for this call.
      return {
        row,
        outcome: currentOutcome(row),
        nextPollAt: Math.min(now + PARK_MS, row.created_at + EXPIRE_AFTER_MS),
      };
    }
    // KallyAI failed or was slow: the next scheduled poll is the retry.
    return { row, outcome: currentOutcome(row), nextPollAt };
  }
}

/**
 * One sweep: takes due calls oldest-due first in chunks (with queues: only calls `overdue` past
 * due, whose message was lost or is late), polls them with bounded concurrency and records each
 * chunk in one D1 batch, until none is due or the budget is spent. Calls left over stay due and
 * are the first taken next time.
 */
export async function sweepCalls(ctx: PollContext, overdueMs = 0): Promise<{ polled: number }> {
  let polled = 0;
  while (!ctx.budget.spent) {
    const limit = Math.min(CHUNK, ctx.budget.left);
    const now = Date.now();
    const claimed = await ctx.d.events.claimDueCalls(now, limit, CALL_LEASE_MS, now - overdueMs);
    if (claimed.length === 0) break;
    polled += await pollClaimed(ctx, claimed);
    if (claimed.length < limit) break;
  }
  return { polled };
}

async function pollClaimed(ctx: PollContext, claimed: CallRow[]): Promise<number> {
  const observations = await mapPool(claimed, ctx.d.cfg.poller.concurrency, (row) => observe(ctx, row));
  await recordObservations(ctx.d, observations);
  return claimed.length;
}

/**
 * The poll queue's consumer: polls the calls whose messages still match their D1 schedule (a
 * duplicate or stale message polls nothing) and records them in one batch, which enqueues the
 * next poll of each call still running and the deliveries of each finished one.
 */
export async function pollScheduled(
  d: Deps,
  messages: Scheduled[],
): Promise<{ polled: number; upstream_requests: number }> {
  const claimed = await d.events.claimScheduledCalls(messages, Date.now(), CALL_LEASE_MS);
  // A batch is at most max_batch_size calls (wrangler.toml), which bounds its requests.
  const budget = new Budget(Number.MAX_SAFE_INTEGER);
  const polled = claimed.length ? await pollClaimed(new PollContext(d, budget), claimed) : 0;
  return { polled, upstream_requests: Number.MAX_SAFE_INTEGER - budget.left };
}

/** Expired rows: rate counters, sign-in states, console sessions, idempotency records (24 h), events and deliveries (30 days). */
export async function cleanUp(d: Deps, now = Date.now()) {
  await Promise.all([
    d.counters.deleteExpired(now),
    d.loginStates.deleteExpired(now),
    d.consoleSessions.deleteExpired(now),
    d.calls.deletePlacedBefore(now - PLACED_RETENTION_MS),
    d.events.deleteOlderThan(now - EVENT_RETENTION_MS),
  ]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The cron tick. Sweeps calls and deliveries, then keeps sweeping whenever something falls due
 * (checking at least every 10 s) for POLLER_SWEEP_SECONDS of wall time, so outcomes are seen
 * within seconds although the cron fires once a minute. 0 = one sweep per tick. With queues the
 * consumers do the work on time, and a tick takes only what is POLLER_OVERDUE_SECONDS past due.
 */
export async function runTick(d: Deps, waitUntil: (p: Promise<unknown>) => void = () => undefined) {
  const started = Date.now();
  const deadline = started + d.cfg.poller.sweepSeconds * 1000;
  const overdueMs = d.cfg.poller.overdueSeconds * 1000;
  const ctx = new PollContext(d, new Budget(d.cfg.poller.upstreamBudget));
  const deliveries = new Budget(d.cfg.webhooks.deliveryBudget);
  waitUntil(cleanUp(d).catch(loggedAs("cleanup_failed", undefined)));
  const totals = {
    polled: 0,
    delivered: 0,
    notified: 0,
    recovered: await recoverPlacements(d, waitUntil).catch(loggedAs("recovery_failed", 0)),
  };
  for (;;) {
    totals.polled += (await sweepCalls(ctx, overdueMs).catch(loggedAs("sweep_failed", { polled: 0 }))).polled;
    totals.delivered += await deliverDue(d, deliveries, Date.now() - overdueMs).catch(loggedAs("delivery_failed", 0));
    totals.notified += await sendRealtime(d, deliveries, Date.now() - overdueMs).catch(loggedAs("realtime_failed", 0));
    // A spent budget ends the invocation: what is left is taken first by the next one.
    if (ctx.budget.spent || deliveries.spent) break;
    const now = Date.now();
    if (now >= deadline) break;
    const due = await d.events.nextDue(now);
    const wake = Math.min(Math.max(due === null ? Infinity : due + overdueMs, now + MIN_SLEEP_MS), now + MAX_SLEEP_MS);
    if (wake > deadline) break;
    await sleep(wake - now);
  }
  const result = {
    ...totals,
    upstream_requests: d.cfg.poller.upstreamBudget - ctx.budget.left,
    ms: Date.now() - started,
  };
  if (result.polled || result.delivered || result.notified || result.recovered) logEvent("tick", result);
  return result;
}

/** A step of the tick that failed is logged and counts as `instead`: the other steps still run. */
const loggedAs =
  <T>(event: string, instead: T) =>
  (err: unknown): T => {
    logError({ event }, err);
    return instead;
  };
