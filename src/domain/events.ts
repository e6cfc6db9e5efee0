import { ApiError } from "../errors";
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

/** What a webhook receives and what the events feed lists (with the id added). */
export interface EventPayload {
  type: EventType;
  timestamp: string;
  data: CallView;
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
      payload: JSON.stringify({ type, timestamp, data } satisfies EventPayload),
      created_at: now,
    })),
  );
}

export const feedItem = (e: Pick<EventRow, "id" | "payload">) => ({ id: e.id, ...(JSON.parse(e.payload) as EventPayload) });

/** The events feed: newest first, each with its id (Zapier and IFTTT dedupe on it). */
export async function listEvents(d: Deps, userId: string, opts: { limit: number; type?: string; cursor?: string }) {
  const before = opts.cursor ? decodeCursor(opts.cursor) : undefined;
  const { results } = await d.events.list(userId, { limit: opts.limit + 1, type: opts.type, before });
  const page = results.slice(0, opts.limit);
  const last = page[page.length - 1];
  return { items: page.map(feedItem), next_cursor: results.length > opts.limit && last ? btoa(`${last.created_at}:${last.id}`).replace(/=+$/, "") : null };
}

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const [createdAt, id] = atob(cursor).split(/:(.*)/s);
    if (!id || !/^\d+$/.test(createdAt!)) throw new Error();
    return { createdAt: Number(createdAt), id };
  } catch {
    throw new ApiError(422, "validation_error", "cursor: not a cursor from this API. Use next_cursor from the previous page.", { field: "cursor" });
  }
}

/** The sample a new subscription's test delivery carries: a finished call, as the real ones look. */
export const SAMPLE_CALL: CallView = {
  id: "00000000-0000-4000-8000-000000000000",
  status: "success",
  finished: true,
  highlights: "Italian Bistro handled the request \"Reserve a table for 4 at 8pm\". Reservation confirmed for 4 at 20:00.",
  next_steps: "Arrive 10 minutes early; the table is held for 15 minutes.",
  duration_seconds: 94,
  created_at: "2026-01-28T18:02:11.000Z",
  ended_at: "2026-01-28T18:03:45.000Z",
  phone: "+14155551234",
  task: "Reserve a table for 4 at 8pm",
  category: "restaurant",
  language: "en",
  call_language: "en",
  name: "John Smith",
  business: "Italian Bistro",
  party_size: 4,
  date: "2026-01-28",
  time: "20:00",
  time_preference: null,
  timezone: "America/New_York",
  user_phone: null,
  urgent: null,
  instructions: null,
};
