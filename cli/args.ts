import { parseArgs } from "node:util";
import { type CallInput, CallInputSchema, PHONE_ERRORS } from "../src/shared/call-input";
import { firstIssue } from "../src/shared/first-issue";
import { normalizePhone } from "../src/shared/phone";
import { CliError, EXIT, usageError } from "./errors";

const OPTIONS = {
  // Making calls: the seed's flags.
  phone: { type: "string", short: "p" },
  task: { type: "string", short: "t" },
  category: { type: "string", short: "c" },
  language: { type: "string", short: "l" },
  name: { type: "string" },
  business: { type: "string" },
  "party-size": { type: "string" },
  date: { type: "string" },
  time: { type: "string" },
  "time-preference": { type: "string" },
  timezone: { type: "string" },
  country: { type: "string" },
  wait: { type: "boolean" },
  // Account and calls.
  usage: { type: "boolean" },
  subscription: { type: "boolean" },
  billing: { type: "boolean" },
  history: { type: "boolean" },
  "call-info": { type: "string" },
  transcript: { type: "string" },
  // Authentication.
  login: { type: "boolean" },
  logout: { type: "boolean" },
  "auth-status": { type: "boolean" },
  "no-browser": { type: "boolean" },
  unlink: { type: "boolean" },
  // Target and output.
  bridge: { type: "string" },
  "api-key": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

export type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; strict: true; allowPositionals: false }>
>["values"];

export type Action =
  | "help"
  | "version"
  | "call"
  | "usage"
  | "subscription"
  | "billing"
  | "history"
  | "call-info"
  | "transcript"
  | "login"
  | "logout"
  | "auth-status";

/** The flat call fields, flag by flag (the bridge's names on the right). */
const CALL_FLAGS = {
  phone: "phone",
  task: "task",
  category: "category",
  language: "language",
  name: "name",
  business: "business",
  "party-size": "party_size",
  date: "date",
  time: "time",
  "time-preference": "time_preference",
  timezone: "timezone",
  country: "country",
} as const satisfies Partial<Record<keyof typeof OPTIONS, keyof CallInput>>;
const FLAG_OF = Object.fromEntries(Object.entries(CALL_FLAGS).map(([flag, field]) => [field, flag])) as Record<
  string,
  string
>;

export interface Parsed {
  action: Action;
  values: Values;
}

export function parse(argv: string[]): Parsed {
  let values: Values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw usageError(parseArgsMessage(err));
  }
  if (values.help) return { action: "help", values };
  if (values.version) return { action: "version", values };

  const actions: Action[] = [];
  if (
    Object.keys(CALL_FLAGS).some(
      (flag) => values[flag as keyof Values] !== undefined && flag !== "country" && flag !== "timezone",
    )
  )
    actions.push("call");
  for (const a of [
    "usage",
    "subscription",
    "billing",
    "history",
    "call-info",
    "transcript",
    "login",
    "logout",
    "auth-status",
  ] as const) {
    if (values[a] !== undefined && values[a] !== false) actions.push(a);
  }
  const [action, ...others] = actions;
  if (action === undefined)
    throw usageError(
      "Nothing to do. Place a call with -p and -t, or pick one of --usage, --history, --call-info ID, --login, … (see --help).",
      "no_action",
    );
  if (others.length > 0)
    throw usageError(
      `Use one action at a time, not ${actions.map((a) => (a === "call" ? "a call" : `--${a}`)).join(" and ")}.`,
      "conflicting_actions",
    );
  if (values.wait && action !== "call" && action !== "call-info")
    throw usageError("--wait goes with a call (-p, -t) or with --call-info ID.");
  if (values.unlink && action !== "logout") throw usageError("--unlink goes with --logout.");
  if (action === "call-info" || action === "transcript") callIdOf(values, action);
  return { action, values };
}

/** The call id after --call-info or --transcript, trimmed; a usage error when there is none. */
export function callIdOf(values: Values, flag: "call-info" | "transcript"): string {
  const id = values[flag]?.trim();
  if (!id) throw usageError(`--${flag} needs a call id.`);
  return id;
}

/** node:util's messages, shortened: "Option '-p, --phone <value>' argument missing" becomes "--phone needs a value". */
function parseArgsMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : "";
  const missing = /^Option '([^']+)' argument (?:missing|is ambiguous)/.exec(text)?.[1];
  if (missing) {
    const short = /^-(\w)\b/.exec(missing)?.[1];
    const long =
      /--[\w-]+/.exec(missing)?.[0] ??
      `--${Object.entries(OPTIONS).find(([, o]) => "short" in o && o.short === short)?.[0] ?? short}`;
    return `${long} needs a value.`;
  }
  const firstLine = text.split("\n", 1)[0] ?? "";
  return firstLine.replace(/\. To specify .*$/, ".") || "The arguments could not be read.";
}

/** The machine's IANA time zone, as KallyAI needs one; New York when the system has none. */
export function localTimeZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone && (zone.includes("/") || zone === "UTC") ? zone : "America/New_York";
}

/**
 * Checks the call flags with the bridge's own schema (src/shared/call-input.ts), so the CLI
 * refuses exactly what the bridge refuses, with the same words, before anything is sent.
 * `country` is the default for national phone formats when it is known (direct mode); in bridge
 * mode it is the bridge's to decide, so only emergency and missing numbers are refused here.
 */
export function validateCall(values: Values, defaultCountry: string | undefined): CallInput {
  const flat: Record<string, unknown> = {};
  for (const [flag, field] of Object.entries(CALL_FLAGS)) {
    const v = values[flag as keyof Values];
    if (v !== undefined) flat[field] = v;
  }
  if (flat.phone === undefined)
    throw new CliError(
      EXIT.usage,
      PHONE_ERRORS.missing.code,
      `--phone ${PHONE_ERRORS.missing.message.replace(/^phone /, "")}`,
      'Give the number to call with -p/--phone, e.g. -p "+15551234567".',
    );
  const result = CallInputSchema.safeParse(flat);
  if (!result.success) {
    const issue = firstIssue(result.error);
    const field = String(issue.path[0] ?? "");
    throw usageError(`--${FLAG_OF[field] ?? field} ${issue.message}`, "validation_error");
  }
  const input = result.data;
  const country = input.country ?? defaultCountry;
  const phone = normalizePhone(input.phone, country ?? "US");
  if (!phone.ok && (phone.reason !== "invalid" || country !== undefined)) {
    const e = PHONE_ERRORS[phone.reason];
    const hint =
      phone.reason === "invalid" || phone.reason === "missing"
        ? "Use international format (+15551234567), or pass --country for a national format."
        : "Nothing was called.";
    throw new CliError(EXIT.usage, e.code, e.message.replace(/^phone /, "--phone "), hint);
  }
  return input;
}
