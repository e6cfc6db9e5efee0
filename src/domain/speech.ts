import type { CallView } from "./call-view";

/** Short sentences for iOS Shortcuts and Siri to show or speak. */
const trimDot = (text: string) => text.trim().replace(/[.\s]+$/, "");

export function callSentence(call: CallView): string {
  const who = call.business ?? call.phone ?? "the business";
  const next = call.next_steps ? ` Next: ${trimDot(call.next_steps)}.` : "";
  const said = call.highlights ? `: ${trimDot(call.highlights)}.` : ".";
  switch (call.status) {
    case "success":
      return `Call to ${who} succeeded${said}${next}`;
    case "no_answer":
      return `Call to ${who}: nobody answered.${next}`;
    case "busy":
      return `Call to ${who}: the line was busy.${next}`;
    case "voicemail":
      return `Call to ${who} reached voicemail${said}${next}`;
    case "failed":
      return `Call to ${who} failed${said}${next}`;
    case "cancelled":
      return `Call to ${who} was cancelled.`;
    case "expired":
      return `Call to ${who}: no outcome arrived in time. Check KallyAI for its result.`;
    default:
      return `Call to ${who} is still in progress.`;
  }
}

export function transcriptText(entries: { speaker: string; content: string }[]): string {
  if (entries.length === 0) return "The transcript is empty.";
  return entries.map((e) => `${e.speaker.toUpperCase() === "AI" ? "Assistant" : "Business"}: ${e.content}`).join("\n");
}

export function usageSentence(u: {
  minutes_remaining?: number | null;
  calls_remaining?: number | null;
  minutes_used?: number | null;
  minutes_allocated?: number | null;
}): string {
  const parts: string[] = [];
  if (u.minutes_remaining != null) parts.push(`${u.minutes_remaining} minutes`);
  if (u.calls_remaining != null) parts.push(`${u.calls_remaining} calls`);
  const left = parts.length ? `You have ${parts.join(" and ")} left` : "Your usage is unknown";
  const used =
    u.minutes_used != null && u.minutes_allocated != null
      ? ` (${u.minutes_used} of ${u.minutes_allocated} minutes used)`
      : "";
  return `${left} this period${used}.`;
}
