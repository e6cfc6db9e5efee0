import { isFinished } from "../shared/call-status";
import type { CallRow, Outcome } from "../storage/calls";
import type { CallWrite, EventRow } from "../storage/events";
import type { Deps } from "./deps";
import { eventsFor } from "./events";
import { enqueueDeliveries, enqueuePolls, enqueueRealtime } from "./queues";

/** A call with no outcome this long after it was placed is given up: status `expired`, call.expired. */
export const EXPIRE_AFTER_MS = 6 * 3600_000;
/** First outcome check of a call KallyAI answered while it was still running: calls do not end in their first seconds. */
export const FIRST_POLL_DELAY_MS = 15_000;

/** What to write after looking at a call: its outcome as now known, and when to look again (null = never). */
export interface Observation {
  row: CallRow;
  outcome: Outcome;
  nextPollAt: number | null;
  /** KallyAI's call_id, when this is the answer to the call's placement. */
  upstreamId?: string;
}

/**
 * Records what the poller, a placement or a GET of the call saw, for many calls in one D1
 * transaction. A finished call is finalised (next_poll_at NULL) in the same batch that writes its
 * events and their deliveries, so a crash can never record an outcome without its event or emit
 * an event twice. `before` runs first in that batch (settling a placement: a call is only recorded
 * once no placement holds it). Then (with queues) each call still running is enqueued for its
 * next poll, each new delivery for its first attempt, and IFTTT's realtime notifications for
 * their sender. Answers what `before` did.
 */
export async function recordObservations(
  d: Deps,
  observations: Observation[],
  now = Date.now(),
  before: D1PreparedStatement[] = [],
): Promise<D1Result[]> {
  const writes: CallWrite[] = [];
  const events: EventRow[] = [];
  for (const { row, outcome, nextPollAt, upstreamId } of observations) {
    const finished = isFinished(outcome.status);
    writes.push({
      id: row.id,
      ...outcome,
      next_poll_at: finished ? null : nextPollAt,
      ...(upstreamId ? { upstream_id: upstreamId } : {}),
    });
    if (finished) events.push(...(await eventsFor({ ...row, ...outcome }, now)));
  }
  const recorded = await d.events.record(writes, events, now, before);
  await Promise.all([
    enqueuePolls(
      d,
      writes.flatMap((w) => (w.next_poll_at === null ? [] : [{ id: w.id, due: w.next_poll_at }])),
    ),
    enqueueDeliveries(d, recorded.deliveries),
    // IFTTT's realtime request is never made here: the poller only records that one is owed.
    enqueueRealtime(d, recorded.notifications),
  ]);
  return recorded.before;
}

/** Finalises one call whose finished outcome a request saw first, emitting its events now. */
export const finalizeCall = (d: Deps, row: CallRow, outcome: Outcome, before: D1PreparedStatement[] = []) =>
  recordObservations(d, [{ row, outcome, nextPollAt: null }], Date.now(), before);
