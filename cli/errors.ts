import { ApiError } from "../src/errors";

/**
 * Every way the CLI can fail, each with its own exit code (documented in docs/cli.md), so scripts
 * and agents can tell "fix your input" from "sign in" from "try again later".
 */
export const EXIT = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  auth: 3,
  quota: 4,
  refused: 5,
  notFound: 6,
  unavailable: 7,
  callUnsuccessful: 8,
  stillRunning: 9,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export const usageError = (message: string, code = "invalid_arguments") =>
  new CliError(EXIT.usage, code, message, "Run kallyai --help for the flags.");

const AUTH_CODES = new Set([
  "unauthorized",
  "upstream_unauthorized",
  "missing_token",
  "invalid_token",
  "token_expired",
  "invalid_refresh_token",
  "invalid_api_key",
  "key_revoked",
  "relink_required",
  "not_linked",
  "insufficient_scope",
  "api_key_revoked",
  "api_key_expired",
  "missing_api_key",
]);

/** What to do next, per error code, as the seed's "Common Errors" table advises. */
const HINTS: Record<string, string> = {
  quota_exceeded: "Upgrade at https://kallyai.com/pricing (or manage your plan with kallyai --billing).",
  missing_phone_number: 'Give the number to call with -p/--phone, e.g. -p "+15551234567".',
  emergency_number: "Nothing was called: KallyAI never calls emergency services.",
  country_restriction: "Supported: the US, Canada, the UK, Spain and most of Europe.",
  unsupported_country: "Supported: the US, Canada, the UK, Spain and most of Europe.",
  invalid_phone: "Use international format (+15551234567), or pass --country for a national format.",
  call_not_found: "List your calls with kallyai --history to find the id.",
  transcript_not_found: "Transcripts exist once a call has been answered and has ended.",
};

/**
 * Maps an HTTP failure (from KallyAI or the bridge) to the CLI's error and exit code; a quota
 * refusal points to the upgrade link KallyAI gave, when it gave one.
 */
export function fromHttp(status: number, code: string, message: string, upgradeUrl?: string): CliError {
  let exit: ExitCode;
  if (code === "quota_exceeded" || status === 402) exit = EXIT.quota;
  else if (status === 401 || AUTH_CODES.has(code)) exit = EXIT.auth;
  else if (status === 404) exit = EXIT.notFound;
  else if (status === 429 || status >= 500 || status === 0 || code.startsWith("upstream_")) exit = EXIT.unavailable;
  else if (status >= 400) exit = EXIT.refused;
  else exit = EXIT.unexpected;
  const hint =
    exit === EXIT.quota && upgradeUrl
      ? `Upgrade at ${upgradeUrl} (or manage your plan with kallyai --billing).`
      : (HINTS[code] ?? (exit === EXIT.auth ? "Sign in again with kallyai --login." : undefined));
  return new CliError(exit, code, message, hint);
}

/** Anything thrown, as a CliError; foreign errors keep only their kind (their text may carry secrets). */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof ApiError) return fromHttp(err.status, err.code, err.message, err.extra.upgradeUrl);
  return new CliError(
    EXIT.unexpected,
    "internal_error",
    `Something went wrong inside the CLI (${err instanceof Error ? err.name : typeof err}).`,
  );
}
