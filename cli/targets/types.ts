import type { CallInput } from "../../src/shared/call-input";

/** One call, in the bridge's flat shape (the same type the bridge answers with). */
export type { CallView } from "../../src/shared/call-view";

import type { CallView } from "../../src/shared/call-view";

export interface TranscriptView {
  call_id: string;
  entries: { speaker: string; content: string; timestamp?: string | number | null }[];
}

export type Usage = Record<string, unknown> & {
  plan_type?: string | null;
  minutes_allocated?: number | null;
  minutes_used?: number | null;
  minutes_remaining?: number | null;
  calls_allocated?: number | null;
  calls_used?: number | null;
  calls_remaining?: number | null;
  period_start?: string | null;
  period_end?: string | null;
  usage_percentage?: number | null;
};

export interface AuthStatus {
  target: "direct" | "bridge";
  base_url: string;
  signed_in: boolean;
  credentials_file: string;
  /** Direct: when the access token expires (it is refreshed automatically). */
  expires_at?: string | null;
  /** Bridge: the key and whether the KallyAI account behind it is linked. */
  linked?: boolean;
  user_id?: string;
  key_id?: string;
  key_expires_at?: string | null;
  upstream_state?: string;
  upstream_token_expires_at?: string | null;
  problem?: string;
}

export interface LoginResult {
  target: "direct" | "bridge";
  credentials_file: string;
  expires_at?: string;
  key_id?: string;
  user_id?: string;
  /** Bridge mode: the bridge the key belongs to. */
  bridge_url?: string;
}

export interface LogoutResult {
  target: "direct" | "bridge";
  removed: boolean;
  credentials_file: string;
  unlinked?: boolean;
  revoked_keys?: number;
}

/** What every command needs from where the calls go: KallyAI itself, or a bridge. */
export interface Target {
  kind: "direct" | "bridge";
  baseUrl: string;
  placeCall(input: CallInput, timezone: string, idempotencyKey: string): Promise<CallView>;
  getCall(id: string, waitSeconds?: number): Promise<CallView>;
  listCalls(limit: number): Promise<CallView[]>;
  transcript(id: string): Promise<TranscriptView>;
  usage(): Promise<Usage>;
  subscription(): Promise<Record<string, unknown>>;
  billing(): Promise<{ portal_url: string }>;
  /** Runs KallyAI's sign-in and keeps what this target needs. */
  login(opts: LoginOptions): Promise<LoginResult>;
  logout(opts: { unlink: boolean }): Promise<LogoutResult>;
  authStatus(): Promise<AuthStatus>;
}

export interface LoginOptions {
  openBrowser: boolean;
  /** Where the sign-in URL and progress go (stderr in --json mode). */
  say: (line: string) => void;
}
