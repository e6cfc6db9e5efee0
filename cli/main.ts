import { randomUUID } from "node:crypto";
import pkg from "../package.json" with { type: "json" };
import { callIdOf, localTimeZone, parse, type Values, validateCall } from "./args";
import { openBrowser } from "./browser";
import { type CliError, EXIT, toCliError, usageError } from "./errors";
import { HELP } from "./help";
import * as out from "./output";
import { BridgeTarget } from "./targets/bridge";
import { DirectTarget } from "./targets/direct";
import type { CallView, LoginOptions, Target } from "./targets/types";
import { credentialPaths } from "./token-file";
import { waitForOutcome, whilePlacing } from "./wait";

const DEFAULT_API_BASE = "https://api.kallyai.com";
const DEFAULT_COUNTRY = "US";
const HISTORY_LIMIT = 10;

interface Io {
  json: boolean;
  /** The command's result: text, or the object as JSON with --json. */
  result: (text: string, data: unknown) => void;
  /** The result of a command that succeeded: printed, then exit code 0. */
  done: (text: string, data: unknown) => number;
  /** Progress and prompts: stdout for people, stderr with --json so stdout stays one JSON document. */
  say: (line: string) => void;
}

function io(json: boolean): Io {
  const result = (text: string, data: unknown) =>
    void process.stdout.write(`${json ? JSON.stringify(data, null, 2) : text}\n`);
  return {
    json,
    result,
    done: (text, data) => {
      result(text, data);
      return EXIT.ok;
    },
    say: (line) => void (json ? process.stderr : process.stdout).write(`${line}\n`),
  };
}

function httpUrl(value: string, what: string): string {
  const url = URL.parse(value);
  if (!url || !["http:", "https:"].includes(url.protocol))
    throw usageError(`${what} must be an http(s) URL, not ${JSON.stringify(value)}.`);
  return value.replace(/\/+$/, "");
}

function makeTarget(values: Values, env: NodeJS.ProcessEnv, autoLogin: LoginOptions | null): Target {
  const paths = credentialPaths(env);
  const bridge = values.bridge ?? env.KALLYAI_BRIDGE_URL;
  const apiKey = values["api-key"] ?? env.KALLYAI_API_KEY;
  if (bridge) {
    return new BridgeTarget({
      baseUrl: httpUrl(bridge, "--bridge"),
      keyFile: paths.bridgeFile,
      apiKey: apiKey || undefined,
      kallyaiBase: env.KALLYAI_API_BASE || undefined,
      autoLogin,
    });
  }
  if (values["api-key"])
    throw usageError("--api-key is a bridge API key: use it with --bridge URL (or KALLYAI_BRIDGE_URL).");
  const waitSeconds = Number(env.KALLYAI_WAIT_SECONDS);
  return new DirectTarget({
    baseUrl: httpUrl(env.KALLYAI_API_BASE || DEFAULT_API_BASE, "KALLYAI_API_BASE"),
    tokenFile: paths.tokenFile,
    defaultCountry: DEFAULT_COUNTRY,
    autoLogin,
    ...(waitSeconds > 0 ? { placeTimeoutSeconds: waitSeconds } : {}),
  });
}

async function run(argv: string[], env: NodeJS.ProcessEnv, o: Io): Promise<number> {
  const { action, values } = parse(argv);
  if (action === "help") return o.done(HELP.trimEnd(), { help: HELP });
  if (action === "version") return o.done(pkg.version, { version: pkg.version });

  const loginOptions: LoginOptions = { openBrowser: !values["no-browser"], say: o.say };
  // Signing in on first use needs a person at the keyboard; scripts get exit code 3 instead.
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const target = makeTarget(
    values,
    env,
    interactive ? { ...loginOptions, say: (l) => process.stderr.write(`${l}\n`) } : null,
  );

  switch (action) {
    case "call":
      return placeAndFollow(target, values, o);
    case "call-info": {
      const call = await target.getCall(callIdOf(values, "call-info"));
      if (!values.wait || call.finished) return o.done(out.callText(call), call);
      return finish(await waitForOutcome(target, call, o.json), o);
    }
    case "history": {
      const items = await target.listCalls(HISTORY_LIMIT);
      return o.done(out.historyText(items), { items });
    }
    case "transcript": {
      const t = await target.transcript(callIdOf(values, "transcript"));
      return o.done(out.transcriptText(t), t);
    }
    case "usage": {
      const u = await target.usage();
      return o.done(out.usageText(u), u);
    }
    case "subscription": {
      const s = await target.subscription();
      return o.done(out.subscriptionText(s), s);
    }
    case "billing": {
      const { portal_url } = await target.billing();
      const opened = !values["no-browser"] && (await openBrowser(portal_url, env));
      return o.done(out.billingText(portal_url, opened), { portal_url, opened });
    }
    case "login": {
      const r = await target.login(loginOptions);
      return o.done(out.loginText(r), { signed_in: true, ...r });
    }
    case "logout": {
      const r = await target.logout({ unlink: Boolean(values.unlink) });
      return o.done(out.logoutText(r), r);
    }
    case "auth-status": {
      const s = await target.authStatus();
      o.result(out.authStatusText(s), s);
      return s.signed_in && s.linked !== false ? EXIT.ok : EXIT.auth;
    }
  }
}

/** --phone/--task: places the call; in direct mode KallyAI answers when it has ended (the wait). */
async function placeAndFollow(target: Target, values: Values, o: Io): Promise<number> {
  // Bridge mode: national formats are read with the bridge's own default country.
  const input = validateCall(values, target.kind === "direct" ? DEFAULT_COUNTRY : undefined);
  const placing = target.placeCall(input, values.timezone ?? localTimeZone(), randomUUID());
  // Direct: KallyAI answers when the call has ended, so this is the wait (like KallyAI's CLI).
  const call =
    target.kind === "direct"
      ? await whilePlacing(placing, [input.phone, input.business ? `(${input.business})` : ""].join(" ").trim(), o.json)
      : await placing;
  if (call.finished) return finish({ call, gaveUp: false }, o, "Call completed.");
  if (!values.wait) return o.done(out.placedText(call), call);
  if (!o.json) process.stderr.write(`Call ${call.id} placed; waiting for the outcome…\n`);
  return finish(await waitForOutcome(target, call, o.json), o);
}

/** The outcome of a followed call: exit 0 for success, 8 for any other end, 9 when the wait gave up. */
function finish(result: { call: CallView; gaveUp: boolean }, o: Io, heading?: string): number {
  const { call, gaveUp } = result;
  if (gaveUp) {
    o.result(
      `${out.callText(call)}\n\nStill in progress; stopped waiting. Follow it with: kallyai --call-info ${call.id} --wait`,
      call,
    );
    return EXIT.stillRunning;
  }
  o.result(heading ? `${heading}\n${out.callText(call)}` : out.callText(call), call);
  return call.status === "success" ? EXIT.ok : EXIT.callUnsuccessful;
}

function report(err: CliError, json: boolean): void {
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) }, exit_code: err.exitCode }, null, 2)}\n`,
    );
  } else {
    process.stderr.write(
      `kallyai: ${err.message}${err.code ? ` [${err.code}]` : ""}\n${err.hint ? `  ${err.hint}\n` : ""}`,
    );
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = io(argv.includes("--json"));
  let code: number;
  try {
    code = await run(argv, process.env, o);
  } catch (err) {
    const e = toCliError(err);
    if (e.exitCode === EXIT.unexpected && process.env.KALLYAI_DEBUG && err instanceof Error)
      process.stderr.write(`${err.stack}\n`);
    report(e, o.json);
    code = e.exitCode;
  }
  process.exitCode = code;
}

await main();
