import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError, logUpstreamRefusal } from "../errors";
import type { UpstreamCall } from "../kallyai/schemas";
import type { UpstreamCallRequest } from "../shared/call-input";
import { isFinished } from "../shared/call-status";
import { sha256Hex } from "../shared/encoding";
import { logError } from "../shared/log";
import type { StoredRefusal, TakenPlacement } from "../storage/call-placements";
import type { CallRow, Outcome, PlacementRow } from "../storage/calls";
import type { Authenticated } from "./api-keys";
import { outcomeOf } from "./call-view";
import type { Deps } from "./deps";
import { allowanceBucket, takeCallAllowance } from "./guard";
import { EXPIRE_AFTER_MS, FIRST_POLL_DELAY_MS, recordObservations } from "./outcomes";
import { enqueuePlacements } from "./queues";
import { assertLinked, withUpstream } from "./upstream-session";

/**
 * Background placement (docs/architecture.md). KallyAI answers `POST /v1/calls` only once the call has
 * ended, minutes later, so the request that places a call only accepts it: one D1 batch writes the
 * call (the bridge's own id, status queued), its placement row and its idempotency record, and a
 * message asks the placement consumer to make KallyAI's POST and wait for it. The request waits
 * a short, bounded window for the consumer's first word (KallyAI refuses at once, or has not
 * refused within the grace), so a refusal is still answered in the same request.
 */

export interface Placed {
  id: string;
  status: string;
  created_at: string;
  links: { self: string; transcript: string; recording: string; cancel: string };
}

const links = (id: string) => ({
  self: `/v1/calls/${id}`,
  transcript: `/v1/calls/${id}/transcript`,
  recording: `/v1/calls/${id}/recording`,
  cancel: `/v1/calls/${id}/cancel`,
});

/** How long a refusal waits for the request that placed the call to answer it; then the cron ends the call failed. */
const COLLECT_REFUSAL_MS = 30_000;
/** A failed attempt (KallyAI unreachable, 5xx, no answer in PLACEMENT_TIMEOUT) is retried after 10 s, 20 s, … at most 10 min. */
const retryDelayMs = (attempts: number) => Math.min(10_000 * 2 ** Math.max(0, attempts - 1), 600_000);
/**
 * How long a call KallyAI keeps failing (unreachable, 5xx, 429, unreadable) is retried before it
 * ends `failed`: a call is about now, not hours later. A POST that only timed out (KallyAI is
 * likely on the call) is retried until the call expires instead.
 */
const GIVE_UP_FAILING_AFTER_MS = 15 * 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

const conflict = () =>
  new ApiError(
    422,
    "idempotency_conflict",
    "This Idempotency-Key was already used for a different call. Use a new key for a new call, or resend exactly the same fields.",
  );

/**
 * Accepts a call for placement, once per idempotency key, and answers 202's body: a retry with the
 * same key and body gets the first answer; a refusal KallyAI gives within the answer window is
 * thrown as KallyAI's error, and nothing is kept of that call.
 */
export async function placeCall(
  d: Deps,
  auth: Authenticated,
  request: UpstreamCallRequest,
  idempotencyKey: string | undefined,
): Promise<Placed> {
  await assertLinked(d, auth);
  const key = idempotencyKey ?? `auto-${crypto.randomUUID()}`;
  const requestJson = JSON.stringify(request);
  const hash = await sha256Hex(requestJson);
  for (let tries = 0; ; tries++) {
    const now = Date.now();
    const { callId, placed, bucket, record } = await accept(d, auth, key, { json: requestJson, hash }, now);
    if (record.call_id !== callId) {
      const replayed = await replay(d, record, hash);
      if (replayed) return replayed;
      // The first request with this key was refused meanwhile and lets the key go: place afresh.
      if (tries >= 2) throw inProgress();
      await sleep(200);
      continue;
    }
    try {
      await takeCallAllowance(d, auth.limits, now);
    } catch (err) {
      await d.calls.forget(auth.userId, key, callId);
      throw err;
    }
    await enqueuePlacements(d, [{ id: callId, due: now }]);
    return answerWhenHeard(d, { userId: auth.userId, key, callId, bucket }, placed);
  }
}

/** Records the call, its idempotency key and its placement row in one batch; `record` is the key's call. */
async function accept(d: Deps, auth: Authenticated, key: string, request: { json: string; hash: string }, now: number) {
  const callId = crypto.randomUUID();
  const placed: Placed = {
    id: callId,
    status: "queued",
    created_at: new Date(now).toISOString(),
    links: links(callId),
  };
  const bucket = allowanceBucket(auth.limits, now);
  const placement = d.placements.insertStatement(
    {
      call_id: callId,
      user_id: auth.userId,
      upstream_key: `bridge-${callId}`,
      due_at: now,
      allowance_bucket: bucket,
      created_at: now,
    },
    key,
  );
  const record = await d.calls.accept(
    {
      userId: auth.userId,
      keyId: auth.key.id,
      idempotencyKey: key,
      requestHash: request.hash,
      request: request.json,
      callId,
      response: JSON.stringify(placed),
      expiresAt: now + EXPIRE_AFTER_MS,
      now,
    },
    [placement],
  );
  return { callId, placed, bucket, record };
}

/**
 * A retry with the key of an earlier request: the first answer, once that request has given it
 * (it may still be waiting for KallyAI's first word); null when it was refused and let the key go.
 */
async function replay(d: Deps, record: PlacementRow, hash: string): Promise<Placed | null> {
  if (record.request_hash !== hash) throw conflict();
  const deadline = Date.now() + d.cfg.placement.answerWindowMs + 2_000;
  for (let pause = 50; ; pause = Math.min(pause * 2, 250)) {
    const placement = record.call_id ? await d.placements.get(record.call_id) : null;
    if (placement?.state === "refused") return null;
    if (!placement || placement.answered || Date.now() > deadline) break;
    await sleep(pause);
  }
  // Gone with its call when KallyAI refused it; else the first answer, as it was given.
  const still = await d.calls.placement(record.user_id, record.idempotency_key);
  return still?.response ? (JSON.parse(still.response) as Placed) : null;
}

const inProgress = () =>
  new ApiError(
    409,
    "idempotency_in_progress",
    "A request with this Idempotency-Key is still placing the call. Retry in a few seconds to get its answer.",
    { retryAfter: 3 },
  );

/**
 * Waits up to the answer window for the consumer's first word: KallyAI refused (thrown, and the
 * call is forgotten: the key and the hourly allowance are free again), KallyAI has the call
 * (in_progress), or KallyAI already answered it. Then marks the placement answered, so a later
 * refusal ends the call `failed` with a call.failed event instead.
 */
async function answerWhenHeard(
  d: Deps,
  accepted: { userId: string; key: string; callId: string; bucket: string },
  placed: Placed,
): Promise<Placed> {
  // Without the placement queue the cron places the call: nobody would answer within the window.
  const window = d.cfg.placement.queue ? d.cfg.placement.answerWindowMs : 0;
  const deadline = Date.now() + window;
  for (let pause = 25; Date.now() < deadline; pause = Math.min(pause * 2, 150)) {
    await sleep(Math.min(pause, deadline - Date.now()));
    const p = await d.placements.progress(accepted.callId);
    if (!p || p.state === null || p.state === "refused" || p.status !== "queued") break;
  }
  const final = await d.placements.markAnswered(accepted.callId);
  if (final?.state === "refused" && final.refusal) {
    await d.calls.forget(accepted.userId, accepted.key, accepted.callId, [d.counters.giveStatement(accepted.bucket)]);
    throw refusalError(JSON.parse(final.refusal) as StoredRefusal);
  }
  return { ...placed, status: final?.status ?? placed.status };
}

/** A refusal the consumer stored: its code was an ApiError's (the bridge's, or KallyAI's passed through). */
const refusalError = (r: StoredRefusal) =>
  new ApiError(
    r.status as ContentfulStatusCode,
    r.code as ApiError["code"],
    r.message,
    r.upgrade_url ? { upgradeUrl: r.upgrade_url } : {},
  );

/** Whether a failed POST is KallyAI's final "no" (any 4xx), not a failure worth another attempt. */
const isRefusal = (err: unknown): err is ApiError => err instanceof ApiError && err.status < 500;

/**
 * The placement consumer: takes the placements of a batch (a duplicate or stale message takes
 * nothing), makes each one's POST with its own upstream Idempotency-Key and waits for it, up to
 * PLACEMENT_TIMEOUT. While waiting it renews the leases (a consumer that vanished is found by the
 * cron once its lease runs out, and the retry's POST, with the same key, returns the same call).
 */
export async function placeScheduled(
  d: Deps,
  callIds: string[],
  onSettled: (callId: string) => void = () => undefined,
) {
  const now = Date.now();
  const taken = await d.placements.take(callIds, now, now + d.cfg.placement.leaseMs, now + 1_000);
  const waiting = new Set(taken.map((t) => t.call_id));
  const beats = keepLeases(d, waiting);
  try {
    await Promise.all(
      taken.map(async (t) => {
        // A failure to record (D1) leaves the placement sending: once its lease runs out the cron
        // queues it again, and the retry's POST returns the same call.
        await placeOne(d, t).catch((err) => log("placement_failed", err));
        waiting.delete(t.call_id);
        onSettled(t.call_id);
      }),
    );
  } finally {
    beats.stop();
  }
  return { placed: taken.length };
}

/**
 * The consumer's heartbeat: once the refusal grace has passed, the calls KallyAI has not refused
 * are `in_progress` (the first word the placing request waits for); then every third of a lease
 * the leases are renewed, in one statement for the whole batch.
 */
function keepLeases(d: Deps, waiting: Set<string>): { stop: () => void } {
  const { refusalGraceMs, leaseMs } = d.cfg.placement;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const beat = async (firstWord: boolean) => {
    if (stopped || waiting.size === 0) return;
    const now = Date.now();
    await d.placements
      .heartbeat([...waiting], now + leaseMs, now, firstWord)
      .catch((err) => log("placement_heartbeat_failed", err));
    if (!stopped) timer = setTimeout(() => void beat(false), Math.max(1_000, leaseMs / 3));
  };
  timer = setTimeout(() => void beat(true), refusalGraceMs);
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

async function placeOne(d: Deps, t: TakenPlacement): Promise<void> {
  if (Date.now() - t.call.created_at >= EXPIRE_AFTER_MS) {
    await endWithout(d, t.call, "sending", expiredOutcome());
    return;
  }
  const request = JSON.parse(t.call.request) as UpstreamCallRequest;
  let call: UpstreamCall;
  try {
    call = await withUpstream(d, t.user_id, (token) =>
      d.upstream.placeCall(token, request, t.upstream_key, { timeoutMs: d.cfg.placement.timeoutMs }),
    );
  } catch (err) {
    return failedAttempt(d, t, err);
  }
  const outcome = outcomeOf(call);
  // KallyAI answered with the call: ended (the documented behaviour) or still running (then the poller follows it).
  const nextPollAt = isFinished(outcome.status) ? null : Date.now() + FIRST_POLL_DELAY_MS;
  await recordObservations(d, [{ row: t.call, outcome, nextPollAt, upstreamId: call.call_id }], Date.now(), [
    d.placements.deleteStatement(t.call_id, "sending"),
  ]);
}

async function failedAttempt(d: Deps, t: TakenPlacement, err: unknown): Promise<void> {
  if (isRefusal(err)) {
    logUpstreamRefusal(err);
    const refusal: StoredRefusal = {
      status: err.status,
      code: err.code,
      message: err.message,
      ...(err.extra.upgradeUrl ? { upgrade_url: err.extra.upgradeUrl } : {}),
    };
    // The placing request still waits: it answers the refusal itself.
    if (await d.placements.refuseUnanswered(t.call_id, refusal, Date.now() + COLLECT_REFUSAL_MS)) return;
    await endRefused(d, t.call, t.allowance_bucket, refusal, "sending");
    return;
  }
  log("placement_attempt_failed", err, { attempts: t.attempts });
  const timedOut = err instanceof ApiError && err.status === 504;
  if (!timedOut && Date.now() - t.call.created_at >= GIVE_UP_FAILING_AFTER_MS) {
    await endWithout(d, t.call, "sending", {
      status: "failed",
      highlights: `KallyAI kept failing (${err instanceof ApiError ? err.code : "upstream_unavailable"}) for ${GIVE_UP_FAILING_AFTER_MS / 60_000} minutes, so the bridge stopped trying to place the call.`,
      next_steps: "Place the call again later.",
      duration_seconds: null,
      ended_at: Date.now(),
    });
    return;
  }
  const due = Date.now() + retryDelayMs(t.attempts);
  if (await d.placements.requeue(t.call_id, due)) await enqueuePlacements(d, [{ id: t.call_id, due }]);
}

const expiredOutcome = (): Outcome => ({
  status: "expired",
  highlights: "KallyAI did not answer for this call in time, so the bridge stopped waiting for it.",
  next_steps: "Look for the call in KallyAI's app, or place it again.",
  duration_seconds: null,
  ended_at: Date.now(),
});

/** Ends a call that KallyAI refused after its placing request had answered: `failed`, call.failed, the allowance back. */
export function endRefused(
  d: Deps,
  row: CallRow,
  bucket: string | null,
  refusal: StoredRefusal,
  from: "sending" | "refused",
) {
  return endWithout(
    d,
    row,
    from,
    {
      status: "failed",
      highlights: `KallyAI refused the call (${refusal.code}): ${refusal.message}`,
      next_steps: null,
      duration_seconds: 0,
      ended_at: Date.now(),
    },
    bucket,
  );
}

/** Ends a call that KallyAI never took (refused, expired, cancelled first): one batch settles the placement and records the outcome. */
export async function endWithout(
  d: Deps,
  row: CallRow,
  from: "queued" | "sending" | "refused",
  outcome: Outcome,
  bucket: string | null = null,
): Promise<boolean> {
  const [settled] = await recordObservations(d, [{ row, outcome, nextPollAt: null }], Date.now(), [
    d.placements.deleteStatement(row.id, from),
    ...(bucket ? [d.counters.giveStatement(bucket, row.id)] : []),
  ]);
  return settled?.meta.changes === 1;
}

/** A placement step that failed, logged with the bridge's error code when it is an ApiError. */
function log(event: string, err: unknown, extra: Record<string, unknown> = {}) {
  logError({ event, ...(err instanceof ApiError ? { code: err.code } : {}), ...extra }, err);
}

/** Placements the cron looks at per tick, per kind. */
const RECOVER_PER_TICK = 50;
/** A queued placement this long past due lost its message (or waits behind a backlog: a second message is harmless). */
const LOST_AFTER_MS = 60_000;
/** Without the placement queue, the cron places this many calls per tick itself, holding them in its own invocation. */
const INLINE_PLACEMENTS = 3;

/**
 * The cron's part of placement: a placement whose consumer vanished (its lease ran out) is queued
 * again, and its retry POSTs with the same upstream key, which KallyAI answers with the same call;
 * a queued placement whose message was lost is sent again; a refusal whose placing request never
 * answered it ends the call failed. Without the placement queue the cron places calls itself.
 */
export async function recoverPlacements(d: Deps, waitUntil: (p: Promise<unknown>) => void): Promise<number> {
  const now = Date.now();
  const queue = d.cfg.placement.queue;
  const due: string[] = [];
  for (const p of (await d.placements.overdue("sending", now, RECOVER_PER_TICK)).results)
    if (await d.placements.requeue(p.call_id, now, now)) due.push(p.call_id);
  const lost = await d.placements.overdue("queued", now - (queue ? LOST_AFTER_MS : 0), RECOVER_PER_TICK);
  due.push(...lost.results.map((p) => p.call_id));
  let ended = 0;
  for (const p of (await d.placements.overdue("refused", now, RECOVER_PER_TICK)).results) {
    const row = await d.calls.get(p.call_id);
    if (row && p.refusal && (await endRefused(d, row, p.allowance_bucket, JSON.parse(p.refusal), "refused"))) ended++;
  }
  if (queue)
    await enqueuePlacements(
      d,
      due.map((id) => ({ id, due: now })),
    );
  else if (due.length > 0)
    waitUntil(placeScheduled(d, due.slice(0, INLINE_PLACEMENTS)).catch((err) => log("placement_failed", err)));
  return due.length + ended;
}

const cannotCancel = () =>
  new ApiError(
    409,
    "cannot_cancel",
    "KallyAI is placing this call now, and its API offers no way to stop a call once it is placed. It ends on its own: follow it with GET /v1/calls/{id}?wait=25.",
  );

export const callAlreadyEnded = () =>
  new ApiError(409, "call_already_ended", "The call has already ended, so it cannot be cancelled.");

/**
 * Cancels a call KallyAI has not answered for yet: one not yet handed over is ended `cancelled`
 * here and never placed (its hourly allowance given back); one whose POST is under way cannot be
 * stopped (409 cannot_cancel).
 */
export async function cancelPlacement(d: Deps, row: CallRow): Promise<Outcome> {
  if (isFinished(row.status)) throw callAlreadyEnded();
  const placement = await d.placements.get(row.id);
  const outcome: Outcome = {
    status: "cancelled",
    highlights: "Cancelled before KallyAI placed the call.",
    next_steps: null,
    duration_seconds: 0,
    ended_at: Date.now(),
  };
  if (placement?.state === "queued" && (await endWithout(d, row, "queued", outcome, placement.allowance_bucket)))
    return outcome;
  const now = await d.calls.get(row.id);
  if (now && isFinished(now.status)) throw callAlreadyEnded();
  throw cannotCancel();
}
