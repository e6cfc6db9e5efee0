"use strict";

// The bridge's call object (src/shared/call-view.ts, `CallView`) as Zapier shows it. The e2e test
// checks these stay equal to the bridge's own sample and field list.

const CATEGORIES = { general: "General", restaurant: "Restaurant", clinic: "Clinic", hotel: "Hotel" };
const LANGUAGES = { en: "English", es: "Spanish" };
const STATUSES = {
  success: "Succeeded",
  no_answer: "No answer",
  busy: "Busy",
  failed: "Failed",
  voicemail: "Voicemail",
  cancelled: "Cancelled",
  expired: "Expired (no outcome within 6 hours)",
  queued: "Queued",
  in_progress: "In progress",
};

/** The bridge's event types (src/domain/events.ts), as outcomes to pick. */
const OUTCOMES = {
  "call.completed": "Any outcome (every finished call)",
  "call.succeeded": "Succeeded",
  "call.failed": "Did not succeed (no answer, busy, voicemail, failed, cancelled)",
  "call.expired": "Expired (no outcome within 6 hours)",
};

/** Same values as SAMPLE_FINISHED_CALL in src/shared/call-view.ts. */
const SAMPLE_CALL = {
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

/** [key, label, type] of every field of a call. */
const CALL_FIELDS = [
  ["id", "Call ID", "string"],
  ["status", "Status (success, no_answer, busy, failed, voicemail, cancelled, expired, queued, in_progress)", "string"],
  ["finished", "Finished", "boolean"],
  ["highlights", "Highlights (what happened)", "string"],
  ["next_steps", "Next steps", "string"],
  ["duration_seconds", "Duration (seconds)", "integer"],
  ["created_at", "Placed at", "datetime"],
  ["ended_at", "Ended at", "datetime"],
  ["phone", "Phone number called", "string"],
  ["task", "Task", "string"],
  ["category", "Category", "string"],
  ["language", "Language", "string"],
  ["call_language", "Call language", "string"],
  ["name", "Your name", "string"],
  ["business", "Business", "string"],
  ["party_size", "Party size", "integer"],
  ["date", "Date", "string"],
  ["time", "Time", "string"],
  ["time_preference", "Time preference", "string"],
  ["timezone", "Time zone", "string"],
  ["user_phone", "Your phone number", "string"],
  ["urgent", "Urgent", "boolean"],
  ["instructions", "Instructions", "string"],
];

/** Output fields of a call, optionally nested under a key (Zapier flattens `data.status` to `data__status`). */
const callOutputFields = (prefix = "") =>
  CALL_FIELDS.map(([key, label, type]) => ({
    key: `${prefix}${key}`,
    label,
    type,
    ...(key === "instructions" ? { list: true } : {}),
  }));

module.exports = { OUTCOMES, CATEGORIES, LANGUAGES, STATUSES, SAMPLE_CALL, CALL_FIELDS, callOutputFields };
