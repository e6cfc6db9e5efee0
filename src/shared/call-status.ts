/**
 * The statuses of a call, in one place for the REST API, MCP, the console, the CLI and the domain.
 * KallyAI reports `queued` and `in_progress` while a call runs and one of its final statuses after
 * (the reference's end statuses, and `terminated`, which KallyAI's own CLI also knows);
 * `expired` is the bridge's own, for a call whose outcome never came in time.
 */
export const TERMINAL_STATUSES = [
  "success",
  "no_answer",
  "busy",
  "failed",
  "voicemail",
  "cancelled",
  "terminated",
] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

/** Every status a call can have, in the order a call goes through them (what GET /v1/calls filters on). */
export const CALL_STATUSES = ["queued", "in_progress", ...TERMINAL_STATUSES, "expired"] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

export const isTerminal = (status: string): status is TerminalStatus =>
  (TERMINAL_STATUSES as readonly string[]).includes(status);

/** A status after which nothing changes: KallyAI's terminal ones, and the bridge's own `expired`. */
export const isFinished = (status: string): status is TerminalStatus | "expired" =>
  isTerminal(status) || status === "expired";

/** A status as people read it: `no_answer` → "no answer". */
export const statusLabel = (status: string) => status.replace(/_/g, " ");

export const isCallStatus = (value: string): value is CallStatus =>
  (CALL_STATUSES as readonly string[]).includes(value);
