import { ApiError, isStorageFault } from "../errors";
import type { UpstreamCallRequest } from "../shared/call-input";
import { isFinished } from "../shared/call-status";
import { decodeCursor, pageOf } from "../shared/cursor";
import { sha256Hex } from "../shared/encoding";
import type { CallRow, Outcome } from "../storage/calls";
import type { Authenticated } from "./api-keys";
import { type CallView, createdAtOf, outcomeOf, viewOfRow, viewOfUpstream } from "./call-view";
import { type Caller, prefetchedOf, userIdOf } from "./caller";
import type { Deps } from "./deps";
import { takeCallAllowance } from "./guard";
import { finalizeCall } from "./outcomes";
import { enqueuePolls } from "./queues";
import { UpstreamSession, withUpstream } from "./upstream-session";

/** How long a placer may take before another request (or the cron) takes the placement over. */
const PLACEMENT_LEASE_MS = 60_000;
/** How long a retry waits for the first request with the same key to finish placing. */
const WAIT_FOR_PLACER_MS = 12_000;
/** First outcome check: calls do not end in their first seconds. */
export const FIRST_POLL_DELAY_MS = 15_000;

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

const conflict = () =>
  new ApiError(
    422,
    "idempotency_conflict",
    "This Idempotency-Key was already used for a different call. Use a new key for a new call, or resend exactly the same fields.",
  );

/**
 * Places a call once per idempotency key: retries with the same key and body get the first
 * answer; concurrent copies wait for the first to finish instead of placing again.
 */
export async function placeCall(
  d: Deps,
  auth: Authenticated,
  request: UpstreamCallRequest,
  idempotencyKey: string | undefined,
): Promise<Placed> {
  const key = idempotencyKey ?? `auto-${crypto.randomUUID()}`;
  const hash = await sha256Hex(JSON.stringify(request));
  const now = Date.now();
  const claim = {
    user_id: auth.userId,
    idempotency_key: key,
    request_hash: hash,
    request: JSON.stringify(request),
    key_id: auth.key.id,
    lease_until: now + PLACEMENT_LEASE_MS,
    created_at: now,
  };
  let claimed: Claimed = "fresh";
  if (!(await d.calls.claimPlacement(claim))) {
    const settled = await awaitPlacement(d, claim);
    if (typeof settled === "object") return settled;
    claimed = settled;
  }
  return placeClaimed(d, auth, { key, claimed }, request);
}

/**
 * How this request holds the idempotency key: it made the claim ("fresh": nothing was sent
 * upstream under it yet), or took over one whose placer stopped ("retaken": KallyAI may have the
 * call already, and placing again with the same key gets that call back).
 */
type Claimed = "fresh" | "retaken";

/** Whether a call was already placed under this idempotency key (a retry will get that call back). */
export async function alreadyPlaced(d: Deps, userId: string, idempotencyKey: string): Promise<boolean> {
  return (await d.calls.placement(userId, idempotencyKey))?.state === "placed";
}

/** Another request holds the key: wait for its answer, or take over if it died. */
async function awaitPlacement(
  d: Deps,
  claim: Parameters<Deps["calls"]["claimPlacement"]>[0],
): Promise<Placed | Claimed> {
  const { user_id: userId, idempotency_key: key, request_hash: hash } = claim;
  const deadline = Date.now() + WAIT_FOR_PLACER_MS;
  for (let pause = 50; ; pause = Math.min(pause * 2, 500)) {
    const p = await d.calls.placement(userId, key);
    if (!p) {
      // The first request failed and let go of the key: this one tries afresh.
      if (
        await d.calls.claimPlacement({ ...claim, lease_until: Date.now() + PLACEMENT_LEASE_MS, created_at: Date.now() })
      )
        return "fresh";
      continue;
    }
    if (p.request_hash !== hash) throw conflict();
    if (p.state === "placed" && p.response) return JSON.parse(p.response) as Placed;
    if (await d.calls.retakePlacement(userId, key, Date.now(), PLACEMENT_LEASE_MS)) return "retaken";
    if (Date.now() > deadline) {
      throw new ApiError(
        409,
        "idempotency_in_progress",
        "A request with this Idempotency-Key is still placing the call. Retry in a few seconds to get its answer.",
        { retryAfter: 3 },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

const placedNotRecorded = () =>
  new ApiError(
    503,
    "storage_unavailable",
    "KallyAI accepted the call, but the bridge could not record it yet; it appears in GET /v1/calls within a minute. Do not place it again: retry with the same Idempotency-Key to get this answer.",
    { retryAfter: 5 },
  );

/**
 * Places a claimed call. Until KallyAI has been asked, a failure lets a fresh claim go (the caller
 * gets an error and nothing happens behind its back). Once KallyAI has the call, a failure to
 * record it keeps the claim and ends its lease at once, so the caller's retry with the same key,
 * or the next cron tick, records it: never an upstream call the bridge does not know.
 */
async function placeClaimed(
  d: Deps,
  auth: Authenticated,
  { key, claimed }: { key: string; claimed: Claimed },
  request: UpstreamCallRequest,
): Promise<Placed> {
  const letGo = () => (claimed === "fresh" ? d.calls.releasePlacement(auth.userId, key) : undefined);
  let allowance: Awaited<ReturnType<typeof takeCallAllowance>>;
  try {
    allowance = await takeCallAllowance(d, auth.limits);
  } catch (err) {
    await letGo();
    throw err;
  }
  let call: Parameters<typeof recordPlacement>[3];
  try {
    call = await withUpstream(d, auth, (token) => d.upstream.placeCall(token, request, key));
  } catch (err) {
    await d.calls.releasePlacement(auth.userId, key);
    await allowance.giveBack();
    throw err;
  }
  try {
    return await recordPlacement(d, { userId: auth.userId, keyId: auth.key.id, key }, request, call);
  } catch (err) {
    if (!isStorageFault(err)) throw err;
    // The retry or the cron that records it takes the allowance again (the cron takes none).
    await Promise.allSettled([d.calls.endPlacementLease(auth.userId, key), allowance.giveBack()]);
    throw placedNotRecorded();
  }
}

export async function recordPlacement(
  d: Deps,
  p: { userId: string; keyId: string | null; key: string },
  request: UpstreamCallRequest,
  call: Parameters<typeof outcomeOf>[0],
): Promise<Placed> {
  const outcome = outcomeOf(call);
  const createdAt = createdAtOf(call) ?? Date.now();
  const placed: Placed = {
    id: call.call_id,
    status: outcome.status,
    created_at: new Date(createdAt).toISOString(),
    links: links(call.call_id),
  };
  const firstPoll = Date.now() + FIRST_POLL_DELAY_MS;
  await d.calls.recordPlaced(
    { userId: p.userId, key: p.key, response: JSON.stringify(placed) },
    {
      id: call.call_id,
      user_id: p.userId,
      key_id: p.keyId,
      status: outcome.status,
      request: JSON.stringify(request),
      highlights: outcome.highlights,
      next_steps: outcome.next_steps,
      duration_seconds: outcome.duration_seconds,
      created_at: createdAt,
      ended_at: outcome.ended_at,
      next_poll_at: firstPoll,
    },
  );
  await enqueuePolls(d, [{ id: call.call_id, due: firstPoll }]);
  return placed;
}

const callNotFound = (id: string) =>
  new ApiError(404, "call_not_found", `No call ${id} on your account. List your calls with GET /v1/calls.`);

/**
 * The bridge's row of a call, if it is the caller's; another user's call is "not found". Read
 * with the key when the request named this call (one D1 round trip), else now.
 */
async function ownRow(d: Deps, caller: Caller, id: string): Promise<CallRow | null> {
  const prefetched = prefetchedOf(caller)?.call;
  const row = prefetched?.id === id ? prefetched.row : await d.calls.get(id);
  if (row && row.user_id !== userIdOf(caller)) throw callNotFound(id);
  return row;
}

/** Asks KallyAI, mapping "not yours" and "unknown" alike to 404. */
async function upstreamCall(d: Deps, session: UpstreamSession, id: string) {
  try {
    return await session.run((token) => d.upstream.getCall(token, id));
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.code === "forbidden")) throw callNotFound(id);
    throw err;
  }
}

/** Stores what KallyAI said of a call the bridge placed: a finished call is finalised at once, emitting its events. */
async function recordSeen(d: Deps, row: CallRow, outcome: Outcome): Promise<void> {
  if (isFinished(outcome.status)) await finalizeCall(d, row, outcome);
  else if (outcome.status !== row.status) await d.calls.updateProgress(row.id, outcome);
}

/** The call as of now: a call not finished yet is read fresh from KallyAI. */
export const getCall = (d: Deps, caller: Caller, id: string): Promise<CallView> => waitForCall(d, caller, id, 0);

/**
 * Holds the request until the call finishes or `seconds` pass, asking KallyAI every `intervalMs`
 * with one access token and reading the bridge's row once.
 */
export const waitForCall = (d: Deps, caller: Caller, id: string, seconds: number, intervalMs = 750) =>
  watchCall(d, caller, id, { at: Date.now() + seconds * 1000 }, intervalMs);

/** When a wait ends; it may be moved later while the wait runs (several askers sharing one poll loop). */
export interface Deadline {
  at: number;
}

/** One poll loop: asks KallyAI until the call finishes or `deadline.at` passes (read afresh each round). */
export async function watchCall(
  d: Deps,
  caller: Caller,
  id: string,
  deadline: Deadline,
  intervalMs = 750,
): Promise<CallView> {
  const row = await ownRow(d, caller, id);
  if (row && isFinished(row.status)) return viewOfRow(row);
  const session = new UpstreamSession(d, caller);
  for (;;) {
    const call = await upstreamCall(d, session, id);
    const outcome = outcomeOf(call);
    const left = deadline.at - Date.now();
    if (isFinished(outcome.status) || left <= 0) {
      if (!row) return viewOfUpstream(call);
      await recordSeen(d, row, outcome);
      return viewOfRow({ ...row, ...outcome });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
  }
}

export async function listCalls(
  d: Deps,
  userId: string,
  opts: { limit: number; cursor?: string; offset?: number; status?: string[] },
) {
  const before = opts.cursor ? decodeCursor(opts.cursor) : undefined;
  const { results } = await d.calls.list(userId, {
    limit: opts.limit + 1,
    before,
    offset: before ? 0 : opts.offset,
    status: opts.status,
  });
  const { rows, next_cursor } = pageOf(results, opts.limit);
  return { items: rows.map(viewOfRow), next_cursor };
}

export async function transcript(d: Deps, caller: Caller, id: string) {
  await ownRow(d, caller, id);
  const t = await withUpstream(d, caller, (token) => d.upstream.transcript(token, id)).catch(mapForeign(id));
  return {
    call_id: id,
    entries: t.entries.map((e) => ({ speaker: e.speaker, content: e.content, timestamp: e.timestamp ?? null })),
  };
}

export async function recording(d: Deps, caller: Caller, id: string) {
  await ownRow(d, caller, id);
  const r = await withUpstream(d, caller, (token) => d.upstream.recording(token, id)).catch(mapForeign(id));
  return { call_id: id, recording_url: String(r.recording_url) };
}

export async function cancelCall(d: Deps, caller: Caller, id: string): Promise<CallView> {
  const row = await ownRow(d, caller, id);
  const call = await withUpstream(d, caller, (token) => d.upstream.cancelCall(token, id)).catch(mapForeign(id));
  if (!row) return viewOfUpstream(call);
  const outcome = outcomeOf(call);
  await recordSeen(d, row, outcome);
  return viewOfRow({ ...row, ...outcome });
}

const mapForeign =
  (id: string) =>
  (err: unknown): never => {
    if (err instanceof ApiError && err.code === "forbidden") throw callNotFound(id);
    throw err;
  };
