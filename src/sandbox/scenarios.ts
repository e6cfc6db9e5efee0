import type { CallSubmission } from "../kallyai/schemas";
import type { SandboxCallRow } from "./store";

/** The number's last four digits pick what the sandbox does (documented in the README). */
export const OUTCOME_BY_SUFFIX: Record<string, string> = {
  "0001": "no_answer",
  "0002": "busy",
  "0003": "failed",
  "0004": "voicemail",
  "0005": "never",
};

export type Fault = "500" | "429" | "hang" | "malformed";
export const FAULT_BY_SUFFIX: Record<string, Fault> = { "0500": "500", "0429": "429", "0408": "hang", "0206": "malformed" };
export const BLOCKED_SUFFIX = "0666";
export const SAFETY_WORDS = /\b(threaten|threat|harass|bomb|stalk|extort|swat)\w*/i;

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

export function durationFor(id: string, outcome: string): number {
  if (outcome === "success") return 60 + seeded(id, 150);
  if (outcome === "voicemail") return 25 + seeded(id, 20);
  if (outcome === "failed") return 3;
  return 0;
}

export interface CallView {
  status: string;
  ended_at: number | null;
}

/** The status a call has at `now`: in progress until `ends_at`, then the scenario's outcome. */
export function callState(row: SandboxCallRow, now: number): CallView {
  if (row.cancelled_at !== null) return { status: "cancelled", ended_at: row.cancelled_at };
  if (row.outcome === "never" || now < row.ends_at) return { status: now - row.created_at < 2000 ? "queued" : "in_progress", ended_at: null };
  return { status: row.outcome, ended_at: row.ends_at };
}

const place = (s: CallSubmission) => s.business_name ?? "the business";
const when = (s: CallSubmission) =>
  [s.party_size ? `for ${s.party_size}` : "", s.appointment_date ? `on ${s.appointment_date}` : "", s.appointment_time ? `at ${s.appointment_time}` : ""]
    .filter(Boolean)
    .join(" ");

export function resultFor(status: string, s: CallSubmission): { highlights: string | null; next_steps: string | null } {
  const task = s.task_description;
  switch (status) {
    case "success": {
      const detail = s.task_category === "restaurant" ? `Reservation confirmed ${when(s)}`.trim() + "." : s.task_category === "clinic" ? "Appointment booked." : s.task_category === "hotel" ? "Room availability confirmed." : "They answered the question.";
      return { highlights: `${place(s)} handled the request "${task}". ${detail}`, next_steps: nextSteps(s) };
    }
    case "voicemail":
      return { highlights: `Reached the voicemail of ${place(s)}; left a message about "${task}".`, next_steps: "Wait for a call back, or try again later." };
    case "no_answer":
      return { highlights: `Nobody at ${place(s)} answered.`, next_steps: "Try again at another time of day." };
    case "busy":
      return { highlights: `The line of ${place(s)} was busy.`, next_steps: "Try again in a few minutes." };
    case "failed":
      return { highlights: `The call to ${place(s)} could not be completed.`, next_steps: "Check the number and try again." };
    case "cancelled":
      return { highlights: "The call was cancelled before it finished.", next_steps: null };
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

export function transcriptFor(status: string, s: CallSubmission, startedAt: number) {
  const at = (seconds: number) => new Date(startedAt + seconds * 1000).toISOString();
  const who = s.user_name ? ` on behalf of ${s.user_name}` : "";
  if (status === "voicemail") {
    return [
      { speaker: "HUMAN", content: `You have reached ${place(s)}. Please leave a message after the tone.`, timestamp: at(0) },
      { speaker: "AI", content: `Hello, this is an AI assistant calling${who}. I'm calling about: ${s.task_description}. Please call back. Thank you.`, timestamp: at(8) },
    ];
  }
  return [
    { speaker: "HUMAN", content: `Hello, ${place(s)}, how can I help?`, timestamp: at(0) },
    { speaker: "AI", content: `Hi, I'm an AI assistant calling${who}. ${s.task_description}`, timestamp: at(4) },
    { speaker: "HUMAN", content: `Sure, let me check. Yes, we can do that${when(s) ? ` ${when(s)}` : ""}.`, timestamp: at(15) },
    { speaker: "AI", content: "Wonderful, thank you very much. Goodbye!", timestamp: at(24) },
  ];
}
