import { decodeCursor, pageOf } from "../shared/cursor";
import { sha256Hex } from "../shared/encoding";
import type { CallRow } from "../storage/calls";
import type { EventRow } from "../storage/events";
import { type CallView, viewOfRow } from "./call-view";
import type { Deps } from "./deps";

/** The event types a subscription can ask for (docs/webhooks.md has sample payloads). */
export const EVENT_TYPES = ["call.completed", "call.succeeded", "call.failed", "call.expired"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Statuses that count as a failed call. */
export const FAILED_STATUSES = ["failed", "busy", "no_answer", "voicemail", "cancelled"];

/** The events one finished call emits: always call.completed, plus the one that names the outcome. */
export function typesFor(status: string): EventType[] {
  if (status === "success") return ["call.completed", "call.succeeded"];
  if (status === "expired") return ["call.completed", "call.expired"];
  if (FAILED_STATUSES.includes(status)) return ["call.completed", "call.failed"];
  return ["call.completed"];
}

/**
 * The one event shape: a webhook delivery's body, an item of the events feed and a sample are
 * this same object. `id` equals the delivery's `webhook-id`; `test: true` marks test deliveries only.
 */
export interface CallEvent {
  id: string;
  type: EventType;
  timestamp: string;
  data: CallView;
  test?: true;
}

/** Stable: the same call and type always give the same id, whoever records the outcome. */
export async function eventId(callId: string, type: string): Promise<string> {
  return `evt_${(await sha256Hex(`${callId}/${type}`)).slice(0, 32)}`;
}

/** The event rows of a call whose outcome is now `row` (already merged with the outcome). */
export async function eventsFor(row: CallRow, now: number): Promise<EventRow[]> {
  const data = viewOfRow(row);
  const timestamp = new Date(now).toISOString();
  return Promise.all(
    typesFor(row.status).map(async (type) => ({
      id: await eventId(row.id, type),
      user_id: row.user_id,
      call_id: row.id,
      type,
      payload: JSON.stringify({ id: await eventId(row.id, type), type, timestamp, data } satisfies CallEvent),
      created_at: now,
    })),
  );
}

/** A stored event as the object every channel sends (rows recorded before events carried their id get it here). */
export const eventOf = (e: Pick<EventRow, "id" | "payload">): CallEvent => ({
  id: e.id,
  ...(JSON.parse(e.payload) as Omit<CallEvent, "id">),
});

/** The exact body a delivery of the event sends (and signs). */
export function eventBody(id: string, payload: string): string {
  const parsed = JSON.parse(payload) as Partial<CallEvent>;
  return parsed.id === id ? payload : JSON.stringify(eventOf({ id, payload }));
}

/** The events feed: newest first, each with its id (Zapier and IFTTT dedupe on it). */
export async function listEvents(d: Deps, userId: string, opts: { limit: number; type?: string; cursor?: string }) {
  const before = opts.cursor ? decodeCursor(opts.cursor) : undefined;
  const { results } = await d.events.list(userId, { limit: opts.limit + 1, type: opts.type, before });
  const { rows, next_cursor } = pageOf(results, opts.limit);
  return { items: rows.map(eventOf), next_cursor };
}
