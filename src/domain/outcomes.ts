import { isFinished } from "../shared/call-status";
import type { CallRow, Outcome } from "../storage/calls";
import type { CallWrite, EventRow } from "../storage/events";
import type { Deps } from "./deps";
import { eventsFor } from "./events";
import { enqueueDeliveries, enqueuePolls, enqueueRealtime } from "./queues";

/** What to write after looking at a call: its outcome as now known, and when to look again (null = never). */
export interface Observation {
  row: CallRow;
  outcome: Outcome;
  nextPollAt: number | null;
}

/**
 * Records what the poller (or a GET of the call) saw, for many calls in one D1 transaction. A
 * finished call is finalised (next_poll_at NULL) in the same batch that writes its events and
 * their deliveries, so a crash can never record an outcome without its event or emit an event twice.
 * Then (with queues) each call still running is enqueued for its next poll, each new delivery
 * for its first attempt, and IFTTT's realtime notifications for their sender.
 */
export async function recordObservations(d: Deps, observations: Observation[], now = Date.now()): Promise<void> {
  const writes: CallWrite[] = [];
  const events: EventRow[] = [];
  for (const { row, outcome, nextPollAt } of observations) {
    const finished = isFinished(outcome.status);
    writes.push({ id: row.id, ...outcome, next_poll_at: finished ? null : nextPollAt });
    if (finished) events.push(...(await eventsFor({ ...row, ...outcome }, now)));
  }
  const { deliveries, notifications } = await d.events.record(writes, events, now);
  await Promise.all([
    enqueuePolls(
      d,
      writes.flatMap((w) => (w.next_poll_at === null ? [] : [{ id: w.id, due: w.next_poll_at }])),
    ),
    enqueueDeliveries(d, deliveries),
    // IFTTT's realtime request is never made here: the poller only records that one is owed.
    enqueueRealtime(d, notifications),
  ]);
}

/** Finalises one call whose finished outcome a request saw first, emitting its events now. */
export const finalizeCall = (d: Deps, row: CallRow, outcome: Outcome) =>
  recordObservations(d, [{ row, outcome, nextPollAt: null }]);
