import type { UpstreamCall } from "../kallyai/schemas";
import { isFinished } from "./call-status";
import { iso } from "./time";

/** What KallyAI says of a call's outcome so far. */
export interface Outcome {
  status: string;
  highlights: string | null;
  next_steps: string | null;
  duration_seconds: number | null;
  ended_at: number | null;
}

/** The bridge's one call object: the outcome plus the request's fields under their flat names. */
export interface CallView {
  id: string;
  status: string;
  finished: boolean;
  highlights: string | null;
  next_steps: string | null;
  duration_seconds: number | null;
  created_at: string | null;
  ended_at: string | null;
  phone: string | null;
  task: string | null;
  category: string | null;
  language: string | null;
  call_language: string | null;
  name: string | null;
  business: string | null;
  party_size: number | null;
  date: string | null;
  time: string | null;
  time_preference: string | null;
  timezone: string | null;
  user_phone: string | null;
  urgent: boolean | null;
  instructions: string[] | null;
}

export function flatSubmission(request: { submission?: Record<string, unknown> | null; timezone?: unknown }) {
  const s = request.submission ?? {};
  const str = (k: string) => (typeof s[k] === "string" ? (s[k] as string) : null);
  return {
    phone: str("respondent_phone"),
    task: str("task_description"),
    category: str("task_category"),
    language: str("language"),
    call_language: str("call_language"),
    name: str("user_name"),
    business: str("business_name"),
    party_size: typeof s.party_size === "number" ? s.party_size : null,
    date: str("appointment_date"),
    time: str("appointment_time"),
    time_preference: str("time_preference_text"),
    timezone: typeof request.timezone === "string" ? request.timezone : null,
    user_phone: str("user_phone"),
    urgent: typeof s.is_urgent === "boolean" ? s.is_urgent : null,
    instructions: Array.isArray(s.additional_instructions) ? (s.additional_instructions as string[]) : null,
  };
}

const parseTime = (value: string | null | undefined) => {
  const ms = value ? Date.parse(value) : NaN;
  return Number.isNaN(ms) ? null : ms;
};

/** What an upstream call object says of the outcome, wherever KallyAI put each field. */
export function outcomeOf(call: UpstreamCall): Outcome {
  return {
    status: call.status,
    highlights: call.highlights ?? call.result_summary ?? null,
    next_steps: call.next_steps ?? null,
    duration_seconds: call.duration_seconds ?? null,
    ended_at: parseTime(call.ended_at ?? call.metadata?.ended_at),
  };
}

export function createdAtOf(call: UpstreamCall): number | null {
  return parseTime(call.created_at ?? call.metadata?.created_at);
}

/** A call the bridge did not place (e.g. from KallyAI's own app), read straight from KallyAI. */
export function viewOfUpstream(call: UpstreamCall): CallView {
  const o = outcomeOf(call);
  const flat = flatSubmission({ submission: call.submission, timezone: (call as Record<string, unknown>).timezone });
  return {
    id: call.call_id,
    status: o.status,
    finished: isFinished(o.status),
    highlights: o.highlights,
    next_steps: o.next_steps,
    duration_seconds: o.duration_seconds,
    created_at: iso(createdAtOf(call)),
    ended_at: iso(o.ended_at),
    ...flat,
    phone: flat.phone ?? call.to ?? null,
    business: flat.business ?? call.business_name ?? null,
  };
}

/** One finished call as the bridge shows it: the OpenAPI examples and the webhook test event. */
export const SAMPLE_FINISHED_CALL: CallView = {
  id: "6f1c2a9e-3b7d-4c21-9a55-0d2e8f7b1c34",
  status: "success",
  finished: true,
  highlights: "Table for 4 at 8pm confirmed under John Smith.",
  next_steps: "Arrive 10 minutes early.",
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
