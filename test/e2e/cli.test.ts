import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pkg from "../../package.json";
import {
  buildCli,
  cleanEnv,
  completeSignIn,
  EVERY_CALL_FLAG,
  loginThroughBrowser,
  printedSignInUrl,
  type Run,
  recordingServer,
  runCli,
  runCliInTerminal,
  tempDir,
} from "./cli-harness";
import { type DevServer, startDevServer } from "./dev-server";

// The built CLI (dist/kallyai.mjs) as a subprocess, in direct mode, against `npm run dev`'s sandbox.
let server: DevServer;
let home: string;
let env: NodeJS.ProcessEnv;
const outputs: string[] = [];
const tokensSeen = new Set<string>();

const tokenFile = () => join(home, ".kallyai_token.json");
const readTokens = () => {
  const t = JSON.parse(readFileSync(tokenFile(), "utf8"));
  tokensSeen.add(t.access_token).add(t.refresh_token);
  return t as { access_token: string; refresh_token: string; expires_at: number };
};
async function cli(args: string[], extraEnv: Record<string, string | undefined> = {}): Promise<Run> {
  const run = await runCli(args, { ...env, ...extraEnv });
  outputs.push(run.stdout, run.stderr);
  return run;
}

beforeAll(async () => {
  await buildCli();
  server = await startDevServer(["--var", "SANDBOX_CALL_SECONDS:2"]);
  home = tempDir("kallyai-cli-home-");
  env = cleanEnv({ KALLYAI_CONFIG_DIR: home, KALLYAI_API_BASE: `${server.origin}/sandbox` });
});
afterAll(async () => {
  await server?.stop();
});

describe("kallyai, direct mode", () => {
  it("prints its help and version", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    for (const flag of [
      "-p, --phone",
      "-t, --task",
      "-c, --category",
      "-l, --language",
      "--name",
      "--business",
      "--party-size",
      "--date",
      "--time",
      "--usage",
      "--subscription",
      "--billing",
      "--history",
      "--call-info ID",
      "--transcript ID",
      "--login",
      "--logout",
      "--auth-status",
      "--wait",
      "--json",
      "--timezone",
      "--time-preference",
      "--country",
      "--bridge URL",
    ]) {
      expect(help.stdout).toContain(flag);
    }
    const version = await cli(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  it("is signed out at first: --auth-status says so, and a command fails with exit code 3 instead of waiting", async () => {
    const status = await cli(["--auth-status"]);
    expect(status.code).toBe(3);
    expect(status.stdout).toContain(`KallyAI API (direct) at ${server.origin}/sandbox`);
    expect(status.stdout).toMatch(/Signed in:\s+no/);
    const json = await cli(["--auth-status", "--json"]);
    expect(json.json()).toMatchObject({ target: "direct", signed_in: false, credentials_file: tokenFile() });

    const usage = await cli(["--usage"]);
    expect(usage.code).toBe(3);
    expect(usage.stderr).toContain("not signed in");
    expect(usage.stderr).toContain("kallyai --login");
  });

  it("--login --no-browser: prints KallyAI's sign-in URL, refuses a forged state, and saves the tokens 0600 once the browser is done", async () => {
    let forged: Response | undefined;
    const { run, browser } = await loginThroughBrowser([], env, "cli-direct@example.com", async (url) => {
      const callback = new URL(url.searchParams.get("redirect_uri")!);
      forged = await fetch(`${callback}?access_token=evil&refresh_token=evil&expires_in=3600&state=forged`);
    });
    outputs.push(run.stdout, run.stderr);
    expect(run.code).toBe(0);
    // The sign-in URL: KallyAI's CLI flow, a 127.0.0.1 callback on a port in 8740–8759, a random state.
    const url = new URL(/(http:\/\/\S+\/v1\/auth\/cli\?\S+)/.exec(run.stdout)![1]!);
    expect(url.origin + url.pathname).toBe(`${server.origin}/sandbox/v1/auth/cli`);
    const callback = new URL(url.searchParams.get("redirect_uri")!);
    expect(callback.hostname).toBe("127.0.0.1");
    expect(Number(callback.port)).toBeGreaterThanOrEqual(8740);
    expect(Number(callback.port)).toBeLessThanOrEqual(8759);
    expect(url.searchParams.get("state")!.length).toBeGreaterThanOrEqual(32);
    // CSRF: a callback with another state was refused and did not end the sign-in.
    expect(forged!.status).toBe(400);
    expect(await forged!.text()).toContain("state does not match");
    expect(browser.status).toBe(200);
    expect(browser.page).toContain("You can close this window");
    expect(run.stdout).toContain("Signed in to KallyAI");

    expect(statSync(tokenFile()).mode & 0o777).toBe(0o600);
    const tokens = readTokens();
    expect(tokens.access_token).not.toBe("evil");
    expect(Object.keys(tokens).sort()).toEqual(["access_token", "expires_at", "refresh_token"]);
    expect(tokens.expires_at).toBeGreaterThan(Date.now() / 1000 + 3000);
    expect(tokens.expires_at).toBeLessThan(Date.now() / 1000 + 3700);
  });

  it("--login opens the browser when there is one (here a scripted one that signs in by itself)", async () => {
    const browserHome = tempDir("kallyai-cli-browser-");
    const browser = join(browserHome, "browser.mjs");
    writeFileSync(
      browser,
      `const url = process.argv[2];
const html = await (await fetch(url)).text();
const action = /action="([^"]+)"/.exec(html)[1];
const hidden = Object.fromEntries([...html.matchAll(/type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2].replace(/&#(\\d+);/g, (_, n) => String.fromCharCode(Number(n)))]));
const res = await fetch(new URL(action, url), { method: "POST", body: new URLSearchParams({ ...hidden, email: "opened@example.com" }), redirect: "manual" });
await fetch(res.headers.get("location"));
`,
    );
    const run = await runCli(["--login", "--json"], {
      ...env,
      KALLYAI_CONFIG_DIR: browserHome,
      DISPLAY: ":0",
      BROWSER: `${process.execPath} ${browser}`,
    });
    outputs.push(run.stdout, run.stderr);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("Your browser was opened to sign in to KallyAI");
    expect(run.json()).toMatchObject({
      signed_in: true,
      target: "direct",
      credentials_file: join(browserHome, ".kallyai_token.json"),
    });
    expect(statSync(join(browserHome, ".kallyai_token.json")).mode & 0o777).toBe(0o600);
  });

  it("--auth-status after signing in: the target and until when", async () => {
    const status = await cli(["--auth-status"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/Signed in:\s+yes/);
    expect(status.stdout).toContain("renewed automatically");
    const json = (await cli(["--auth-status", "--json"])).json();
    expect(json).toMatchObject({ target: "direct", base_url: `${server.origin}/sandbox`, signed_in: true });
    expect(Date.parse(json.expires_at)).toBeGreaterThan(Date.now());
  });

  let reservationId = "";
  it("places a call with every flag, and --wait ends with the outcome", async () => {
    const run = await cli([...EVERY_CALL_FLAG, "--wait"]);
    expect(run.code).toBe(0);
    // Like KallyAI's own CLI: the POST is held until the call has ended. Progress on stderr, the outcome on stdout.
    expect(run.stderr).toContain("Calling (415) 555-1234 (Italian Bistro); KallyAI answers once the call has ended");
    expect(run.stdout).toContain("Call completed.");
    expect(run.stdout).toMatch(/Status:\s+success/);
    expect(run.stdout).toContain("+14155551234 (Italian Bistro)");
    expect(run.stdout).toMatch(/Name:\s+John Smith/);
    expect(run.stdout).toMatch(/Booking:\s+party of 4, 2026-01-28, 20:00/);
    expect(run.stdout).toMatch(/Preference:\s+evening, by the window/);
    expect(run.stdout).toMatch(/Time zone:\s+Europe\/Madrid/);
    expect(run.stdout).toContain("Reservation confirmed for 4 on 2026-01-28 at 20:00");
    reservationId = /Call:\s+(\S+)/.exec(run.stdout)![1]!;
  });

  it("places a call with --json and answers every field of the finished call in the bridge's flat shape", async () => {
    const run = await cli([
      "--phone",
      "+15551234567",
      "--task",
      "Ask about store hours",
      "--category",
      "general",
      "--language",
      "en",
      "--timezone",
      "America/Chicago",
      "--json",
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.json()).toMatchObject({
      status: "success",
      finished: true,
      phone: "+15551234567",
      task: "Ask about store hours",
      category: "general",
      language: "en",
      timezone: "America/Chicago",
    });
  });

  it("--wait --json with a number that is not answered: status no_answer, exit code 8", async () => {
    const run = await cli(["-p", "+15551230001", "-t", "Ask about store hours", "--wait", "--json"]);
    expect(run.code).toBe(8);
    expect(run.stderr).toBe("");
    expect(run.json()).toMatchObject({ status: "no_answer", finished: true, phone: "+15551230001" });
  });

  it("gives up on a call that never ends after KALLYAI_WAIT_SECONDS (exit 9), pointing to --history (KallyAI sent no id yet)", async () => {
    const run = await cli(["-p", "+15551230005", "-t", "Ask about store hours", "--json"], {
      KALLYAI_WAIT_SECONDS: "3",
    });
    expect(run.code).toBe(9);
    expect(run.json()).toMatchObject({
      error: { code: "still_running", hint: expect.stringContaining("kallyai --history") },
      exit_code: 9,
    });
  });

  it("in a terminal, a progress line counts the seconds while KallyAI holds the call", async () => {
    const run = await runCliInTerminal(["-p", "+15551234567", "-t", "Ask about store hours"], env);
    outputs.push(run.stdout);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("KallyAI answers once the call has ended");
    expect(run.stdout).toMatch(/on the call: [1-9]\d* s/);
    expect(run.stdout).toContain("Call completed.");
  });

  it("--call-info ID, in human and --json form", async () => {
    const human = await cli(["--call-info", reservationId]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(reservationId);
    expect(human.stdout).toMatch(/Status:\s+success/);
    expect(human.stdout).toMatch(/Next steps:\s+\S/);
    const json = (await cli(["--call-info", reservationId, "--json"])).json();
    expect(json).toMatchObject({
      id: reservationId,
      status: "success",
      finished: true,
      phone: "+14155551234",
      business: "Italian Bistro",
      name: "John Smith",
      party_size: 4,
      date: "2026-01-28",
      time: "20:00",
      category: "restaurant",
      language: "es",
      timezone: "Europe/Madrid",
    });
    expect(json.duration_seconds).toBeGreaterThan(0);
    expect(Date.parse(json.ended_at)).toBeGreaterThan(Date.parse(json.created_at));
  });

  it("--history, in human and --json form, newest first", async () => {
    const human = await cli(["--history"]);
    expect(human.code).toBe(0);
    expect(human.stdout.split("\n")[0]).toMatch(/^ID\s+STATUS\s+CREATED\s+TO\s+TASK/);
    expect(human.stdout).toContain(reservationId);
    expect(human.stdout).toContain("Italian Bistro: Reserve a table for 4 at 8pm");
    expect(human.stdout).toContain("no answer");
    const { items } = (await cli(["--history", "--json"])).json();
    // The call that never ends is not listed: KallyAI shows a call once it has ended.
    expect(items.map((c: { phone: string }) => c.phone)).toEqual([
      "+15551234567",
      "+15551230001",
      "+15551234567",
      "+14155551234",
    ]);
    expect(items[3]).toMatchObject({ id: reservationId, status: "success" });
  });

  it("--transcript ID, in human and --json form; a call without one is not found (exit 6)", async () => {
    const human = await cli(["--transcript", reservationId]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`Transcript of call ${reservationId}`);
    expect(human.stdout).toMatch(/HUMAN: Hello, Italian Bistro/);
    expect(human.stdout).toMatch(/AI: .*John Smith/);
    const json = (await cli(["--transcript", reservationId, "--json"])).json();
    expect(json.call_id).toBe(reservationId);
    expect(json.entries.length).toBeGreaterThanOrEqual(2);
    expect(json.entries[0]).toMatchObject({ speaker: "HUMAN", content: expect.stringContaining("Italian Bistro") });

    const none = await cli(["--transcript", "00000000-0000-4000-8000-000000000000", "--json"]);
    expect(none.code).toBe(6);
    expect(none.json().error.code).toBe("call_not_found");
  });

  it("--usage counts the calls placed, in human and --json form", async () => {
    const json = (await cli(["--usage", "--json"])).json();
    expect(json).toMatchObject({
      plan_type: "sandbox",
      calls_allocated: 300,
      calls_used: 5,
      calls_remaining: 295,
      minutes_allocated: 300,
    });
    const human = await cli(["--usage"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Plan:\s+sandbox/);
    expect(human.stdout).toContain("5 of 300 calls used, 295 remaining");
    expect(human.stdout).toMatch(/Minutes:\s+\d+ of 300 minutes used/);
  });

  it("--subscription, in human and --json form", async () => {
    const json = (await cli(["--subscription", "--json"])).json();
    expect(json).toMatchObject({
      has_active_subscription: true,
      status: "active",
      plan: { type: "sandbox", period: "monthly", minutes_included: 300 },
    });
    const human = await cli(["--subscription"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Active:\s+yes/);
    expect(human.stdout).toMatch(/Plan:\s+sandbox, monthly/);
  });

  it("--billing prints the portal URL, and opens it when a browser is available", async () => {
    const portal = `${server.origin}/sandbox/billing-portal`;
    const human = await cli(["--billing"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`Billing portal: ${portal}`);
    expect(human.stdout).not.toContain("Opened in your browser");

    // A "browser" that writes down what it was asked to open.
    const opened = join(home, "opened.txt");
    const browser = join(home, "browser.sh");
    writeFileSync(browser, `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`, { mode: 0o755 });
    const json = await cli(["--billing", "--json"], { DISPLAY: ":0", BROWSER: browser });
    expect(json.json()).toEqual({ portal_url: portal, opened: true });
    await expect
      .poll(() => {
        try {
          return readFileSync(opened, "utf8");
        } catch {
          return "";
        }
      })
      .toBe(portal);
  });

  it("refreshes an expired access token by itself, keeping the file 0600", async () => {
    const before = readTokens();
    writeFileSync(tokenFile(), JSON.stringify({ ...before, expires_at: Math.floor(Date.now() / 1000) - 10 }), {
      mode: 0o600,
    });
    const run = await cli(["--usage", "--json"]);
    expect(run.code).toBe(0);
    const after = readTokens();
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.expires_at).toBeGreaterThan(Date.now() / 1000);
    expect(statSync(tokenFile()).mode & 0o777).toBe(0o600);
  });

  it("a refused call: a country KallyAI does not call exits 5 with the advice", async () => {
    const run = await cli(["-p", "+81 3-1234-5678", "-t", "Ask about store hours"]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain("[country_restriction]");
    expect(run.stderr).toContain("Supported: the US, Canada, the UK, Spain and most of Europe");
  });

  it("quota_exceeded exits 4 with the upgrade hint", async () => {
    const quotaHome = tempDir("kallyai-cli-quota-");
    const quotaEnv = { ...env, KALLYAI_CONFIG_DIR: quotaHome };
    const { run } = await loginThroughBrowser([], quotaEnv, "quota+calls1@example.com");
    expect(run.code).toBe(0);
    const first = await runCli(["-p", "+15551234567", "-t", "Ask about store hours"], quotaEnv);
    expect(first.code).toBe(0);
    const second = await runCli(["-p", "+15551234567", "-t", "Ask about store hours", "--json"], quotaEnv);
    outputs.push(first.stdout, second.stdout, second.stderr);
    expect(second.code).toBe(4);
    // KallyAI's bare 402 carries its upgrade_url (the sandbox's: its free top-up).
    const upgradeUrl = `${server.origin}/sandbox/top-up`;
    expect(second.json()).toMatchObject({
      error: { code: "quota_exceeded", hint: expect.stringContaining(upgradeUrl) },
      exit_code: 4,
    });
    const human = await runCli(["-p", "+15551234567", "-t", "Ask about store hours"], quotaEnv);
    expect(human.code).toBe(4);
    expect(human.stderr).toContain(`Upgrade at ${upgradeUrl}`);
  });

  it("a revoked session (refresh token no longer valid) exits 3 and asks to sign in again", async () => {
    const revokedHome = tempDir("kallyai-cli-revoked-");
    writeFileSync(
      join(revokedHome, ".kallyai_token.json"),
      JSON.stringify({ access_token: "stale", refresh_token: "sbx_rt_revoked", expires_at: 1 }),
      { mode: 0o600 },
    );
    const run = await runCli(["--history"], { ...env, KALLYAI_CONFIG_DIR: revokedHome });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("[session_expired]");
    expect(run.stderr).toContain("kallyai --login");
  });

  it("--logout removes the token file; --auth-status then says signed out", async () => {
    const run = await cli(["--logout"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`removed ${tokenFile()}`);
    expect(() => statSync(tokenFile())).toThrow();
    const status = await cli(["--auth-status", "--json"]);
    expect(status.code).toBe(3);
    expect(status.json().signed_in).toBe(false);
    const again = await cli(["--logout", "--json"]);
    expect(again.json()).toMatchObject({ removed: false });
  });

  it("in a terminal, a command signs in first when there are no credentials, then does its work", async () => {
    const termHome = tempDir("kallyai-cli-tty-");
    let signIn: ReturnType<typeof completeSignIn> | undefined;
    const run = await runCliInTerminal(["--usage", "--no-browser"], { ...env, KALLYAI_CONFIG_DIR: termHome }, (out) => {
      const url = printedSignInUrl(out);
      if (url && !signIn) signIn = completeSignIn(url, "terminal@example.com");
    });
    outputs.push(run.stdout);
    expect(run.code).toBe(0);
    expect((await signIn!).page).toContain("You can close this window");
    expect(run.stdout).toContain("Open this URL in a browser to sign in to KallyAI");
    expect(run.stdout).toMatch(/Plan:\s+sandbox/);
    expect(run.stdout).toContain("0 of 300 calls used");
    expect(statSync(join(termHome, ".kallyai_token.json")).mode & 0o777).toBe(0o600);
  });

  it("never printed a token", () => {
    expect(tokensSeen.size).toBeGreaterThanOrEqual(4);
    const all = outputs.join("\n");
    for (const token of tokensSeen) expect(all).not.toContain(token);
  });
});

describe("kallyai, bad flags", () => {
  // A signed-in user whose KallyAI is a server that counts requests: none may arrive.
  let upstream: Awaited<ReturnType<typeof recordingServer>>;
  let badEnv: NodeJS.ProcessEnv;
  beforeAll(async () => {
    upstream = await recordingServer();
    const dir = tempDir("kallyai-cli-bad-");
    writeFileSync(
      join(dir, ".kallyai_token.json"),
      JSON.stringify({ access_token: "a", refresh_token: "r", expires_at: Date.now() / 1000 + 3600 }),
      { mode: 0o600 },
    );
    badEnv = cleanEnv({ KALLYAI_CONFIG_DIR: dir, KALLYAI_API_BASE: upstream.origin });
  });
  afterAll(() => upstream?.close());

  const cases: [string, string[], string, string][] = [
    ["an emergency number", ["-p", "911", "-t", "Ask about store hours"], "emergency_number", "never called"],
    [
      "an emergency number, formatted",
      ["-p", "+1 (911)", "-t", "Ask about store hours"],
      "emergency_number",
      "never called",
    ],
    [
      "party size 0",
      ["-p", "+15551234567", "-t", "Reserve a table please", "--party-size", "0"],
      "validation_error",
      "--party-size must be between 1 and 50",
    ],
    [
      "a date that is not YYYY-MM-DD",
      ["-p", "+15551234567", "-t", "Reserve a table please", "--date", "tomorrow"],
      "validation_error",
      "--date must be a date as YYYY-MM-DD",
    ],
    [
      "a date that does not exist",
      ["-p", "+15551234567", "-t", "Reserve a table please", "--date", "2026-02-30"],
      "validation_error",
      "--date is not a real date",
    ],
    [
      "a 12-hour time",
      ["-p", "+15551234567", "-t", "Reserve a table please", "--time", "8pm"],
      "validation_error",
      "--time must be a time as HH:MM (24-hour)",
    ],
    [
      "an unknown category",
      ["-p", "+15551234567", "-t", "Reserve a table please", "-c", "bar"],
      "validation_error",
      "--category must be one of restaurant, clinic, hotel, general",
    ],
    [
      "an unsupported language",
      ["-p", "+15551234567", "-t", "Reserve a table please", "-l", "fr"],
      "validation_error",
      "--language must be en or es",
    ],
    ["a short task", ["-p", "+15551234567", "-t", "hi"], "validation_error", "--task must be at least 10 characters"],
    ["no phone", ["-t", "Ask about store hours"], "missing_phone_number", "--phone is required"],
    [
      "not a phone number",
      ["-p", "call me", "-t", "Ask about store hours"],
      "invalid_phone",
      "not a valid phone number",
    ],
    [
      "a bad time zone",
      ["-p", "+15551234567", "-t", "Ask about store hours", "--timezone", "Mars/Olympus"],
      "validation_error",
      "--timezone must be an IANA time zone",
    ],
    ["an unknown flag", ["--frobnicate"], "invalid_arguments", "Unknown option '--frobnicate'"],
    ["a flag without its value", ["--call-info"], "invalid_arguments", "--call-info needs a value"],
    [
      "a short flag without its value",
      ["-t", "Ask about store hours", "-p"],
      "invalid_arguments",
      "--phone needs a value",
    ],
    ["two actions at once", ["--usage", "--history"], "conflicting_actions", "one action at a time"],
    ["no action", [], "no_action", "Nothing to do"],
  ];
  it.each(cases)("%s: exit 2, a clear message, nothing sent", async (_name, args, code, message) => {
    const human = await runCli(args, badEnv);
    expect(human.code).toBe(2);
    expect(human.stdout).toBe("");
    expect(human.stderr).toContain(message);
    expect(human.stderr).toContain(`[${code}]`);
    const json = await runCli([...args, "--json"], badEnv);
    expect(json.code).toBe(2);
    expect(json.json()).toMatchObject({ error: { code, message: expect.stringContaining(message) }, exit_code: 2 });
    expect(upstream.requests).toEqual([]);
  });
});
