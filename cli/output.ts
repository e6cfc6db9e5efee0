import { statusLabel } from "../src/shared/call-status";
import type { AuthStatus, CallView, LoginResult, LogoutResult, TranscriptView, Usage } from "./targets/types";

/** Human-readable text for each command; --json prints the objects themselves instead. */

const line = (label: string, value: unknown) =>
  value === null || value === undefined || value === "" ? [] : [`${`${label}:`.padEnd(16)}${value}`];
const when = (value: unknown) => {
  if (typeof value !== "string") return value;
  const ms = Date.parse(value);
  return Number.isNaN(ms)
    ? value
    : new Date(ms)
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, " UTC");
};
const OUTCOME_WORDS: Record<string, string> = {
  success: "success",
  no_answer: "no answer",
  busy: "line busy",
  failed: "failed",
  voicemail: "reached voicemail",
  cancelled: "cancelled",
  expired: "expired (the bridge stopped following it)",
};
export const statusText = (status: string) => OUTCOME_WORDS[status] ?? statusLabel(status);

export function callText(call: CallView): string {
  const booking = [call.party_size ? `party of ${call.party_size}` : "", call.date ?? "", call.time ?? ""]
    .filter(Boolean)
    .join(", ");
  return [
    ...line("Call", call.id),
    ...line("Status", statusText(call.status) + (call.finished ? "" : " (in progress)")),
    ...line("To", [call.phone, call.business ? `(${call.business})` : ""].filter(Boolean).join(" ")),
    ...line("Task", call.task),
    ...line("Category", call.category),
    ...line("Name", call.name),
    ...line("Booking", booking),
    ...line("Preference", call.time_preference),
    ...line("Language", call.language),
    ...line("Time zone", call.timezone),
    ...line("Created", when(call.created_at)),
    ...line("Ended", when(call.ended_at)),
    ...line("Duration", typeof call.duration_seconds === "number" ? `${call.duration_seconds} s` : null),
    ...line("Highlights", call.highlights),
    ...line("Next steps", call.next_steps),
  ].join("\n");
}

export function placedText(call: CallView): string {
  return [
    "Call placed.",
    callText(call),
    "",
    `Follow it with: kallyai --call-info ${call.id} (add --wait to wait for the outcome)`,
  ].join("\n");
}

export function historyText(calls: CallView[]): string {
  if (calls.length === 0) return 'No calls yet. Place one with: kallyai -p "+15551234567" -t "Ask about store hours"';
  const rows = calls.map((c) => [
    c.id,
    statusText(c.status),
    when(c.created_at) ?? "",
    c.phone ?? "",
    truncate(c.business ? `${c.business}: ${c.task ?? ""}` : (c.task ?? ""), 50),
  ]);
  const header = ["ID", "STATUS", "CREATED", "TO", "TASK"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const fmt = (r: unknown[]) =>
    r
      .map((cell, i) => String(cell).padEnd(i === r.length - 1 ? 0 : (widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)].join("\n");
}

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function transcriptText(t: TranscriptView): string {
  if (t.entries.length === 0) return `The transcript of call ${t.call_id} is empty.`;
  return [
    `Transcript of call ${t.call_id}`,
    "",
    ...t.entries.map((e) => `${e.timestamp ? `[${when(String(e.timestamp))}] ` : ""}${e.speaker}: ${e.content}`),
  ].join("\n");
}

export function usageText(u: Usage): string {
  const of = (used: unknown, total: unknown, remaining: unknown, unit: string) =>
    total === null || total === undefined
      ? null
      : `${used ?? "?"} of ${total} ${unit} used, ${remaining ?? "?"} remaining`;
  return [
    ...line("Plan", u.plan_type),
    ...line("Minutes", of(u.minutes_used, u.minutes_allocated, u.minutes_remaining, "minutes")),
    ...line("Calls", of(u.calls_used, u.calls_allocated, u.calls_remaining, "calls")),
    ...line("Usage", typeof u.usage_percentage === "number" ? `${u.usage_percentage}%` : null),
    ...line(
      "Period",
      u.period_start || u.period_end ? `${when(u.period_start) ?? "?"} – ${when(u.period_end) ?? "?"}` : null,
    ),
  ].join("\n");
}

export function subscriptionText(s: Record<string, unknown>): string {
  const plan = (s.plan ?? {}) as Record<string, unknown>;
  const active = typeof s.has_active_subscription === "boolean" ? (s.has_active_subscription ? "yes" : "no") : null;
  return [
    ...line("Active", active),
    ...line("Status", s.status),
    ...line("Plan", [plan.type, plan.period].filter(Boolean).join(", ")),
    ...line("Minutes", typeof plan.minutes_included === "number" ? `${plan.minutes_included} included` : null),
    ...line("Provider", s.provider),
    ...line("Renews", typeof s.auto_renew === "boolean" ? (s.auto_renew ? "automatically" : "no") : null),
    ...line("Expires", when(s.expires_at)),
    ...line("Manage at", s.management_url),
  ].join("\n");
}

export function billingText(url: string, opened: boolean): string {
  return [
    `Billing portal: ${url}`,
    opened ? "Opened in your browser." : "Open it in a browser to manage your plan and payment methods.",
  ].join("\n");
}

export function authStatusText(s: AuthStatus): string {
  const target = s.target === "direct" ? `KallyAI API (direct) at ${s.base_url}` : `KallyAI Bridge at ${s.base_url}`;
  const lines = [...line("Target", target)];
  if (!s.signed_in) {
    lines.push(
      ...line("Signed in", "no"),
      ...line("Problem", s.problem),
      "",
      `Sign in with: kallyai ${s.target === "bridge" ? `--bridge ${s.base_url} ` : ""}--login`,
    );
    return lines.join("\n");
  }
  if (s.target === "direct") {
    const expired = s.expires_at && Date.parse(s.expires_at) <= Date.now();
    lines.push(
      ...line("Signed in", "yes"),
      ...line(
        "Token until",
        `${when(s.expires_at)}${expired ? " (expired; renewed on next use)" : " (renewed automatically)"}`,
      ),
    );
  } else {
    lines.push(
      ...line(
        "API key",
        `${s.key_id}${s.key_expires_at ? `, valid until ${when(s.key_expires_at)}` : ", does not expire"}`,
      ),
      ...line("Account", s.user_id),
      ...line("Linked", s.linked ? "yes" : `no (${s.upstream_state}): run kallyai --bridge ${s.base_url} --login`),
      ...line(
        "KallyAI until",
        s.upstream_token_expires_at
          ? `${when(s.upstream_token_expires_at)} (renewed automatically by the bridge)`
          : null,
      ),
    );
  }
  lines.push(...line("Saved in", s.credentials_file));
  return lines.join("\n");
}

export function loginText(r: LoginResult): string {
  return r.target === "direct"
    ? `Signed in to KallyAI. Tokens saved in ${r.credentials_file} (owner-only); the access token lasts until ${when(r.expires_at)} and is renewed automatically.`
    : [
        `Linked your KallyAI account to the bridge. API key ${r.key_id} saved in ${r.credentials_file} (owner-only).`,
        ...keyHowTo(r),
      ].join("\n");
}

/** How to use the saved key outside the CLI (curl), and to mint one for a tool, without printing the key. */
function keyHowTo(r: LoginResult): string[] {
  const file = `'${r.credentials_file.replace(/'/g, "'\\''")}'`;
  const bridge = r.bridge_url ?? "<bridge>";
  return [
    "",
    "To use it with curl, read it from that file (it is not printed here):",
    `  KEY=$(node -p 'require(process.argv[1]).api_key' ${file})`,
    `  curl -H "Authorization: Bearer $KEY" ${bridge}/v1/me`,
    "This key manages your account (account:manage). Give curl or any tool its own key, which you can revoke alone:",
    `  curl -X POST ${bridge}/v1/keys -H "Authorization: Bearer $KEY" -H 'content-type: application/json' -d '{"name": "curl"}'`,
    `List your keys with: curl -H "Authorization: Bearer $KEY" ${bridge}/v1/keys`,
  ];
}

export function logoutText(r: LogoutResult): string {
  const lines = [
    r.removed
      ? `Signed out: removed ${r.credentials_file}.`
      : `Nothing to remove: ${r.credentials_file} did not exist.`,
  ];
  if (r.unlinked) lines.push(`Unlinked your KallyAI account from the bridge; ${r.revoked_keys} API key(s) revoked.`);
  return lines.join("\n");
}
