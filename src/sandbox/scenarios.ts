import type { CallSubmission } from "../kallyai/schemas";
import type { SandboxCallRow } from "./store";

/** The number's last four digits pick what the sandbox does (documented in docs/sandbox.md). */
export const OUTCOME_BY_SUFFIX: Record<string, string> = {
  "0001": "no_answer",
  "0002": "busy",
  "0003": "failed",
  "0004": "voicemail",
  "0005": "never",
  "0006": "terminated",
};

/**
 * The transcript's shape, by the number's last four digits: KallyAI's CLI reads all of these, so
 * a client must too. Anything else answers the reference's `{"entries": [{speaker, content, timestamp}]}`.
 */
export type TranscriptShape = "entries" | "transcript_key" | "bare_list" | "role_text";
export const TRANSCRIPT_SHAPE_BY_SUFFIX: Record<string, TranscriptShape> = {
  "0701": "transcript_key",
  "0702": "bare_list",
  "0703": "role_text",
};
export const transcriptShapeFor = (phone: string): TranscriptShape =>
  TRANSCRIPT_SHAPE_BY_SUFFIX[phone.slice(-4)] ?? "entries";

export type Fault = "500" | "429" | "hang" | "malformed";
export const FAULT_BY_SUFFIX: Record<string, Fault> = {
  "0500": "500",
  "0429": "429",
  "0408": "hang",
  "0206": "malformed",
};
export const BLOCKED_SUFFIX = "0666";
/**
 * What KallyAI refuses as a safety violation: harassment words and threats of violence, however
 * phrased ("Tell them I will kill them", "say we'll burn the place down").
 */
export const SAFETY_WORDS = new RegExp(
  [
    String.raw`\b(threaten|threat|harass|bomb|stalk|extort|swat|intimidat|blackmail)\w*`,
    String.raw`\b(murder|kidnap|rape|lynch|torture)(s|ed|ing)?\b`,
    // A violent verb aimed at someone: "kill them", "hurt him", "burn the place down".
    String.raw`\b(kill|shoot|stab|strangle|hurt|beat|attack|punch|burn|blow)(s|ed|ing)?\s+(them|him|her|you|everyone|the (owner|manager|staff|place))\b`,
    String.raw`\bmake (them|him|her) (pay|suffer|regret)\b`,
    String.raw`\b(be|is|are|'re|will be) dead\b`,
  ].join("|"),
  "i",
);

export const outcomeFor = (phone: string) => OUTCOME_BY_SUFFIX[phone.slice(-4)] ?? "success";
export const faultFor = (phone: string): Fault | undefined => FAULT_BY_SUFFIX[phone.slice(-4)];

/** A stable pseudo-random number from the call id, so a call reads the same on every request. */
function seeded(id: string, mod: number): number {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h % mod;
}

/** How long a call stays in progress: SANDBOX_CALL_SECONDS, or a length picked by id from its range. */
export function callLengthMs(id: string, range: { min: number; max: number }): number {
  const spread = Math.round((range.max - range.min) * 1000);
  return Math.round(range.min * 1000) + (spread > 0 ? seeded(id, spread + 1) : 0);
}

/**
 * The billed talk time of a call that lasted `lengthMs`: the whole call when someone (or a
 * voicemail) answered, a few seconds for a failed one, nothing when nobody picked up. Minutes
 * used are these seconds rounded up per call, as KallyAI bills.
 */
export function durationFor(outcome: string, lengthMs: number): number {
  const seconds = Math.round(lengthMs / 1000);
  if (outcome === "success" || outcome === "voicemail") return seconds;
  if (outcome === "failed") return Math.min(3, seconds);
  return 0;
}

export interface SandboxCallState {
  status: string;
  ended_at: number | null;
}

/** The status a call has at `now`: in progress until `ends_at`, then the scenario's outcome. */
export function callState(row: SandboxCallRow, now: number): SandboxCallState {
  if (row.cancelled_at !== null) return { status: "cancelled", ended_at: row.cancelled_at };
  if (row.outcome === "never" || now < row.ends_at)
    return { status: now - row.created_at < 2000 ? "queued" : "in_progress", ended_at: null };
  return { status: row.outcome, ended_at: row.ends_at };
}

// Without a business name, the number called: "Nobody at +14155551234 answered", never "the business".
const place = (s: CallSubmission) => s.business_name ?? s.respondent_phone;
const when = (s: CallSubmission) =>
  [
    s.party_size ? `for ${s.party_size}` : "",
    s.appointment_date ? `on ${s.appointment_date}` : "",
    s.appointment_time ? `at ${s.appointment_time}` : "",
  ]
    .filter(Boolean)
    .join(" ");

function successDetail(s: CallSubmission): string {
  if (s.task_category === "restaurant") return when(s) ? `Reservation confirmed ${when(s)}.` : "Reservation confirmed.";
  if (s.task_category === "clinic") return "Appointment booked.";
  if (s.task_category === "hotel") return "Room availability confirmed.";
  return "They answered the question.";
}

export function resultFor(status: string, s: CallSubmission): { highlights: string | null; next_steps: string | null } {
  const task = s.task_description;
  switch (status) {
    case "success": {
      const detail = successDetail(s);
      return { highlights: `${place(s)} handled the request "${task}". ${detail}`, next_steps: nextSteps(s) };
    }
    case "voicemail":
      return {
        highlights: `Reached the voicemail of ${place(s)}; left a message about "${task}".`,
        next_steps: "Wait for a call back, or try again later.",
      };
    case "no_answer":
      return { highlights: `Nobody at ${place(s)} answered.`, next_steps: "Try again at another time of day." };
    case "busy":
      return { highlights: `The line of ${place(s)} was busy.`, next_steps: "Try again in a few minutes." };
    case "failed":
      return {
        highlights: `The call to ${place(s)} could not be completed.`,
        next_steps: "Check the number and try again.",
      };
    case "cancelled":
      return { highlights: "The call was cancelled before it finished.", next_steps: null };
    case "terminated":
      return {
        highlights: `The call to ${place(s)} was cut off before the task was done.`,
        next_steps: "Place the call again.",
      };
    default:
      return { highlights: null, next_steps: null };
  }
}

function nextSteps(s: CallSubmission): string {
  if (s.task_category === "restaurant") return "Arrive 10 minutes early; the table is held for 15 minutes.";
  if (s.task_category === "clinic") return "Bring your insurance card and arrive 15 minutes early.";
  if (s.task_category === "hotel") return "Book online or call back to confirm with a card.";
  return "No follow-up needed.";
}

/** What was said, each line timestamped inside the call (from its start to its end). */
export function transcriptFor(status: string, s: CallSubmission, startedAt: number, endedAt: number) {
  const length = Math.max(0, endedAt - startedAt);
  const at = (fraction: number) => new Date(startedAt + Math.round(length * fraction)).toISOString();
  const who = s.user_name ? ` on behalf of ${s.user_name}` : "";
  if (status === "voicemail") {
    return [
      {
        speaker: "HUMAN",
        content: `You have reached ${place(s)}. Please leave a message after the tone.`,
        timestamp: at(0.05),
      },
      {
        speaker: "AI",
        content: `Hello, this is an AI assistant calling${who}. I'm calling about: ${s.task_description}. Please call back. Thank you.`,
        timestamp: at(0.4),
      },
    ];
  }
  return [
    { speaker: "HUMAN", content: `Hello, ${place(s)}, how can I help?`, timestamp: at(0.05) },
    { speaker: "AI", content: `Hi, I'm an AI assistant calling${who}. ${s.task_description}`, timestamp: at(0.2) },
    {
      speaker: "HUMAN",
      content: `Sure, let me check. Yes, we can do that${when(s) ? ` ${when(s)}` : ""}.`,
      timestamp: at(0.6),
    },
    { speaker: "AI", content: "Wonderful, thank you very much. Goodbye!", timestamp: at(0.9) },
  ];
}

/** Lines in the shape the number asked for (TRANSCRIPT_SHAPE_BY_SUFFIX). */
export function shapedTranscript(shape: TranscriptShape, lines: ReturnType<typeof transcriptFor>, startedAt: number) {
  switch (shape) {
    case "transcript_key":
      return { transcript: lines };
    case "bare_list":
      return lines;
    case "role_text":
      // As KallyAI's CLI also reads them: role/text, and the time as an offset into the call ("00:00:05").
      return {
        entries: lines.map((l) => ({
          role: l.speaker === "AI" ? "assistant" : "user",
          text: l.content,
          timestamp: new Date(Date.parse(l.timestamp) - startedAt).toISOString().slice(11, 19),
        })),
      };
    default:
      return { entries: lines };
  }
}

/** Whether the call booked something a calendar can hold: a successful booking with a date. */
export const bookedSomething = (status: string, s: CallSubmission) =>
  status === "success" && s.task_category !== "general" && Boolean(s.appointment_date);

/** The iCalendar file of what the call booked (RFC 5545), as KallyAI's calendar.ics serves it. */
export function calendarFor(callId: string, s: CallSubmission, timezone: string, endedAt: number): string {
  const date = (s.appointment_date ?? "").replace(/-/g, "");
  const time = s.appointment_time ? `T${s.appointment_time.replace(":", "")}00` : "";
  const stamp = new Date(endedAt).toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const what =
    s.task_category === "restaurant"
      ? `Table for ${s.party_size ?? 2}`
      : s.task_category === "clinic"
        ? "Appointment"
        : "Hotel stay";
  const icsText = (text: string) => text.replace(/[\\;,]/g, (ch) => `\\${ch}`).replace(/\n/g, "\\n");
  const start = time ? `DTSTART;TZID=${timezone}:${date}${time}` : `DTSTART;VALUE=DATE:${date}`;
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//KallyAI sandbox//EN",
    "BEGIN:VEVENT",
    `UID:${callId}@sandbox.kallyai`,
    `DTSTAMP:${stamp}`,
    start,
    ...(time ? ["DURATION:PT1H"] : []),
    `SUMMARY:${icsText(`${what} at ${place(s)}`)}`,
    `DESCRIPTION:${icsText(`Booked by KallyAI: ${s.task_description}`)}`,
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}
