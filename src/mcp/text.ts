import type { Subscription } from "../domain/account";
import type { CallView } from "../domain/call-view";
import type { Placed } from "../domain/calls";
import { callSentence } from "../domain/speech";
import type { UpstreamCallRequest } from "../shared/call-input";

/**
 * The short text of each tool's answer. Many MCP clients show a model only this text, not the
 * structured content, so it carries what the model needs next: ids, status, outcome.
 */
export function placedText(placed: Placed, request: UpstreamCallRequest, replayed: boolean): string {
  const s = request.submission;
  const who = typeof s.business_name === "string" ? `${s.business_name} (${s.respondent_phone})` : s.respondent_phone;
  if (replayed)
    return `This call to ${who} was already placed at ${placed.created_at}; no second call was made. Call id ${placed.id}, status ${placed.status}.`;
  return `Calling ${who} now. Call id ${placed.id}, status ${placed.status}. Use get_call with this id and wait=25 to follow it until it ends.`;
}

export function callText(call: CallView): string {
  const state = call.finished
    ? `status ${call.status}`
    : `status ${call.status}, still running: use get_call with wait=25 again`;
  return `${callSentence(call)} (call id ${call.id}, ${state})`;
}

export function callsText(calls: CallView[], nextCursor: string | null): string {
  if (calls.length === 0) return "No calls found.";
  const lines = calls.map(
    (c) =>
      `- ${c.created_at ?? "?"} ${c.business ?? c.phone ?? "unknown"}: ${c.status}${c.highlights ? `. ${c.highlights}` : ""} (id ${c.id})`,
  );
  if (nextCursor) lines.push(`More calls: list_calls with cursor ${nextCursor}`);
  return lines.join("\n");
}

export function subscriptionText(sub: Subscription): string {
  if (!sub.has_active_subscription)
    return `No active KallyAI subscription${sub.status ? ` (status ${sub.status})` : ""}. Plans: kallyai.com/pricing.`;
  const plan = [sub.plan?.type, sub.plan?.period].filter(Boolean).join(", ");
  const minutes = sub.plan?.minutes_included != null ? `, ${sub.plan.minutes_included} minutes included` : "";
  const until = sub.expires_at ? `; ${sub.auto_renew ? "renews" : "ends"} ${sub.expires_at}` : "";
  return `Active KallyAI subscription${plan ? ` (${plan}${minutes})` : minutes}${until}.`;
}
