import { ApiError } from "../errors";
import { isFinished } from "../shared/call-status";
import { decodeCursor, pageOf } from "../shared/cursor";
import type { CallRow, Outcome } from "../storage/calls";
import { type CallView, outcomeOf, viewOfRow, viewOfUpstream } from "./call-view";
import { type Caller, prefetchedOf, userIdOf } from "./caller";
import type { Deps } from "./deps";
import { finalizeCall } from "./outcomes";
import { callAlreadyEnded, cancelPlacement } from "./placement";
import { UpstreamSession, withUpstream } from "./upstream-session";

export { type Placed, placeCall } from "./placement";

/** How often a request waiting on a call still being placed looks at its row (the consumer records the outcome there). */
const PLACING_WAIT_INTERVAL_MS = 1_000;

/** Whether a call was already placed under this idempotency key (a retry will get that call back). */
export async function alreadyPlaced(d: Deps, userId: string, idempotencyKey: string): Promise<boolean> {
  return (await d.calls.placement(userId, idempotencyKey))?.state === "placed";
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
 * Holds the request until the call finishes or `seconds` pass. While the call is being placed its
 * state is in D1 (the placement consumer records KallyAI's answer there), read once a second; once
 * KallyAI has it, KallyAI is asked every `intervalMs` with one access token.
 */
export async function waitForCall(
  d: Deps,
  caller: Caller,
  id: string,
  seconds: number,
  intervalMs = 750,
): Promise<CallView> {
  const deadline = Date.now() + seconds * 1000;
  let row = await ownRow(d, caller, id);
  while (row && !row.upstream_id && !isFinished(row.status)) {
    const left = deadline - Date.now();
    if (left <= 0) return viewOfRow(row);
    await sleep(Math.min(PLACING_WAIT_INTERVAL_MS, left));
    row = await d.calls.get(row.id);
    // Gone: KallyAI refused it while its placing request waited, which answered the refusal.
    if (!row) throw callNotFound(id);
  }
  if (row && isFinished(row.status)) return viewOfRow(row);
  const session = new UpstreamSession(d, caller);
  for (;;) {
    const call = await upstreamCall(d, session, row?.upstream_id ?? id);
    const outcome = outcomeOf(call);
    const left = deadline - Date.now();
    if (isFinished(outcome.status) || left <= 0) {
      if (!row) return viewOfUpstream(call);
      await recordSeen(d, row, outcome);
      return viewOfRow({ ...row, ...outcome });
    }
    await sleep(Math.min(intervalMs, left));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

/**
 * KallyAI's id for the call the caller named: the row's, or the id itself for a call the bridge did
 * not place; `notYet` is thrown for a call KallyAI has not answered for yet (still being placed).
 */
async function upstreamIdOf(d: Deps, caller: Caller, id: string, notYet: () => ApiError): Promise<string> {
  const row = await ownRow(d, caller, id);
  if (!row) return id;
  if (!row.upstream_id) throw notYet();
  return row.upstream_id;
}

export async function transcript(d: Deps, caller: Caller, id: string) {
  const upstreamId = await upstreamIdOf(
    d,
    caller,
    id,
    () =>
      new ApiError(404, "transcript_not_found", "The call has no transcript yet. Try again once the call has ended."),
  );
  const t = await withUpstream(d, caller, (token) => d.upstream.transcript(token, upstreamId)).catch(mapForeign(id));
  return { call_id: id, entries: t.entries };
}

const recordingNotFound = () =>
  new ApiError(
    404,
    "recording_not_found",
    "The call has no recording yet. Only answered calls are recorded, once they end.",
  );

/**
 * The call's recording. KallyAI's reference documents no recording endpoint: a 404 (other than
 * KallyAI's own recording_not_found) or a 405 means KallyAI does not offer it.
 */
export async function recording(d: Deps, caller: Caller, id: string) {
  const upstreamId = await upstreamIdOf(d, caller, id, recordingNotFound);
  const r = await withUpstream(d, caller, (token) => d.upstream.recording(token, upstreamId)).catch((err) => {
    const status = err instanceof ApiError ? (err.extra.upstream?.status ?? err.status) : 0;
    if ((status === 404 && err.code !== "recording_not_found") || status === 405)
      throw new ApiError(
        404,
        "recording_not_available",
        "KallyAI does not offer this call's recording through its API. Listen to it in KallyAI's app.",
      );
    return mapForeign(id)(err);
  });
  return { call_id: id, recording_url: String(r.recording_url) };
}

/** The iCalendar file of the appointment the call booked, from KallyAI. */
export async function calendar(d: Deps, caller: Caller, id: string): Promise<string> {
  const noEvent = () =>
    new ApiError(
      404,
      "calendar_not_found",
      "The call booked nothing KallyAI can put in a calendar (yet). Only calls that made a booking have one, once they end.",
    );
  const upstreamId = await upstreamIdOf(d, caller, id, noEvent);
  const ics = await withUpstream(d, caller, (token) => d.upstream.calendar(token, upstreamId)).catch((err) => {
    const status = err instanceof ApiError ? (err.extra.upstream?.status ?? err.status) : 0;
    if (status === 404 || status === 405) throw noEvent();
    return mapForeign(id)(err);
  });
  if (!/^\s*BEGIN:VCALENDAR/.test(ics.text)) throw noEvent();
  return ics.text;
}

/**
 * Cancels a call. One KallyAI has not taken yet is cancelled here and never placed; one whose
 * placement is under way answers 409 cannot_cancel (KallyAI documents no cancel); one KallyAI has
 * is cancelled at KallyAI if KallyAI answers the cancel (a 404 or 405 means it does not offer it).
 */
export async function cancelCall(d: Deps, caller: Caller, id: string): Promise<CallView> {
  const row = await ownRow(d, caller, id);
  if (row && !row.upstream_id) return viewOfRow({ ...row, ...(await cancelPlacement(d, row)) });
  if (row && isFinished(row.status)) throw callAlreadyEnded();
  const upstreamId = row?.upstream_id ?? id;
  const call = await withUpstream(d, caller, (token) => d.upstream.cancelCall(token, upstreamId)).catch((err) => {
    const status = err instanceof ApiError ? (err.extra.upstream?.status ?? err.status) : 0;
    if (row && ((status === 404 && err.code !== "call_not_found") || status === 405))
      throw new ApiError(
        409,
        "cannot_cancel",
        "KallyAI does not offer cancelling a call through its API, so this call goes on. It ends on its own: follow it with GET /v1/calls/{id}?wait=25.",
      );
    return mapForeign(id)(err);
  });
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
