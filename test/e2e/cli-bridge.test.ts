import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildCli,
  cleanEnv,
  EVERY_CALL_FLAG,
  loginThroughBrowser,
  type Run,
  recordingServer,
  runCli,
  tempDir,
} from "./cli-harness";
import { type DevServer, startDevServer } from "./dev-server";

// The built CLI in bridge mode (--bridge URL) against `npm run dev`: the bridge in front of its sandbox.
let server: DevServer;
let home: string;
let env: NodeJS.ProcessEnv;
let bridge: string[];
const outputs: string[] = [];
const secrets = new Set<string>();

const keyFile = () => join(home, ".kallyai_bridge.json");
const readKeyFile = () => {
  const saved = JSON.parse(readFileSync(keyFile(), "utf8"));
  secrets.add(saved.api_key);
  return saved as { bridge_url: string; api_key: string; key_id: string; user_id: string };
};
async function cli(args: string[], extraEnv: Record<string, string | undefined> = {}): Promise<Run> {
  const run = await runCli([...bridge, ...args], { ...env, ...extraEnv });
  outputs.push(run.stdout, run.stderr);
  return run;
}

beforeAll(async () => {
  await buildCli();
  server = await startDevServer(["--var", "SANDBOX_CALL_SECONDS:2"]);
  home = tempDir("kallyai-cli-bridge-home-");
  // No KALLYAI_API_BASE: the CLI asks the bridge (/health) where its KallyAI is, here its sandbox.
  env = cleanEnv({ KALLYAI_CONFIG_DIR: home });
  bridge = ["--bridge", server.origin];
});
afterAll(async () => {
  await server?.stop();
});

describe("kallyai, bridge mode", () => {
  it("--auth-status before signing in: the bridge, no key, exit 3", async () => {
    const run = await cli(["--auth-status"]);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain(`KallyAI Bridge at ${server.origin}`);
    expect(run.stdout).toMatch(/Signed in:\s+no/);
    const usage = await cli(["--usage", "--json"]);
    expect(usage.code).toBe(3);
    expect(usage.json().error.code).toBe("no_api_key");
  });

  it("--login --no-browser: KallyAI's sign-in, then /v1/link; the bridge API key is saved 0600 and the KallyAI tokens are not", async () => {
    const { run, browser } = await loginThroughBrowser(bridge, env, "cli-bridge@example.com");
    outputs.push(run.stdout, run.stderr);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${server.origin}/sandbox/v1/auth/cli?`);
    expect(browser.page).toContain("You can close this window");
    expect(run.stdout).toContain("Linked your KallyAI account to the bridge");
    // It says how to see the key for curl and how to mint one for a tool.
    expect(run.stdout).toContain(`KEY=$(node -p 'require(process.argv[1]).api_key' '${keyFile()}')`);
    expect(run.stdout).toContain(`curl -X POST ${server.origin}/v1/keys`);

    expect(statSync(keyFile()).mode & 0o777).toBe(0o600);
    const saved = readKeyFile();
    expect(saved).toMatchObject({ bridge_url: server.origin, key_id: expect.any(String), user_id: expect.any(String) });
    expect(saved.api_key.length).toBeGreaterThan(20);
    expect(() => statSync(join(home, ".kallyai_token.json"))).toThrow();
    secrets
      .add(browser.callbackUrl.searchParams.get("access_token")!)
      .add(browser.callbackUrl.searchParams.get("refresh_token")!);

    // The key works on the bridge by itself.
    const me = await fetch(`${server.origin}/v1/me`, { headers: { authorization: `Bearer ${saved.api_key}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ linked: true, user_id: saved.user_id, key: { id: saved.key_id } });
  });

  it("--auth-status after: linked, the key, and until when", async () => {
    const run = await cli(["--auth-status"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Linked:\s+yes/);
    expect(run.stdout).toContain(readKeyFile().key_id);
    const json = (await cli(["--auth-status", "--json"])).json();
    expect(json).toMatchObject({
      target: "bridge",
      base_url: server.origin,
      signed_in: true,
      linked: true,
      upstream_state: "linked",
      key_id: readKeyFile().key_id,
    });
    expect(Date.parse(json.upstream_token_expires_at)).toBeGreaterThan(Date.now());
  });

  let reservationId = "";
  it("places a call with every flag through the bridge, and --wait ends with the outcome", async () => {
    const run = await cli([...EVERY_CALL_FLAG, "--wait"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("waiting for the outcome");
    expect(run.stdout).toMatch(/Status:\s+success/);
    expect(run.stdout).toContain("+14155551234 (Italian Bistro)");
    expect(run.stdout).toMatch(/Booking:\s+party of 4, 2026-01-28, 20:00/);
    expect(run.stdout).toMatch(/Time zone:\s+Europe\/Madrid/);
    expect(run.stdout).toContain("Reservation confirmed for 4 on 2026-01-28 at 20:00");
    reservationId = /Call:\s+(\S+)/.exec(run.stdout)![1]!;
  });

  it("--json call, and --wait --json with a busy line: exit 8", async () => {
    const placed = await cli(["-p", "+15551234567", "-t", "Ask about store hours", "--json"]);
    expect(placed.code).toBe(0);
    expect(placed.json()).toMatchObject({
      id: expect.any(String),
      finished: false,
      phone: "+15551234567",
      task: "Ask about store hours",
      category: "general",
    });
    const busy = await cli(["-p", "+15551230002", "-t", "Ask about store hours", "--wait", "--json"]);
    expect(busy.code).toBe(8);
    expect(busy.json()).toMatchObject({ status: "busy", finished: true });
  });

  it("--call-info and --transcript, in human and --json form", async () => {
    const info = await cli(["--call-info", reservationId]);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/Status:\s+success/);
    expect((await cli(["--call-info", reservationId, "--json"])).json()).toMatchObject({
      id: reservationId,
      status: "success",
      finished: true,
      phone: "+14155551234",
      business: "Italian Bistro",
      name: "John Smith",
      party_size: 4,
      date: "2026-01-28",
      time: "20:00",
      timezone: "Europe/Madrid",
    });
    const transcript = await cli(["--transcript", reservationId]);
    expect(transcript.code).toBe(0);
    expect(transcript.stdout).toMatch(/HUMAN: Hello, Italian Bistro/);
    const json = (await cli(["--transcript", reservationId, "--json"])).json();
    expect(json.call_id).toBe(reservationId);
    expect(json.entries[0]).toMatchObject({ speaker: "HUMAN" });
    const missing = await cli(["--call-info", "no-such-call"]);
    expect(missing.code).toBe(6);
  });

  it("--history, --usage, --subscription and --billing, in human and --json form", async () => {
    const history = await cli(["--history"]);
    expect(history.code).toBe(0);
    expect(history.stdout).toContain(reservationId);
    const { items } = (await cli(["--history", "--json"])).json();
    expect(items.map((c: { phone: string }) => c.phone)).toEqual(["+15551230002", "+15551234567", "+14155551234"]);

    const usage = (await cli(["--usage", "--json"])).json();
    expect(usage).toMatchObject({ plan_type: "sandbox", calls_allocated: 300, calls_used: 3, calls_remaining: 297 });
    expect((await cli(["--usage"])).stdout).toContain("3 of 300 calls used, 297 remaining");

    expect((await cli(["--subscription", "--json"])).json()).toMatchObject({
      has_active_subscription: true,
      status: "active",
    });
    expect((await cli(["--subscription"])).stdout).toMatch(/Active:\s+yes/);

    const billing = await cli(["--billing", "--json"]);
    expect(billing.json()).toEqual({ portal_url: `${server.origin}/sandbox/billing-portal`, opened: false });
    expect((await cli(["--billing"])).stdout).toContain(`Billing portal: ${server.origin}/sandbox/billing-portal`);
  });

  it("the bridge's refusals keep their codes and exit codes: a country it cannot call exits 5", async () => {
    const run = await cli(["-p", "+81 3-1234-5678", "-t", "Ask about store hours", "--json"]);
    expect(run.code).toBe(5);
    expect(run.json().error.code).toBe("country_restriction");
  });

  it("KALLYAI_BRIDGE_URL and KALLYAI_API_KEY instead of flags and the saved file", async () => {
    const other = tempDir("kallyai-cli-bridge-env-");
    const run = await runCli(
      ["--usage", "--json"],
      cleanEnv({
        KALLYAI_CONFIG_DIR: other,
        KALLYAI_BRIDGE_URL: server.origin,
        KALLYAI_API_KEY: readKeyFile().api_key,
      }),
    );
    outputs.push(run.stdout, run.stderr);
    expect(run.code).toBe(0);
    expect(run.json().calls_used).toBe(3);
    const wrong = await runCli(
      ["--usage", "--json"],
      cleanEnv({ KALLYAI_CONFIG_DIR: other, KALLYAI_BRIDGE_URL: server.origin, KALLYAI_API_KEY: "kb_not_a_key" }),
    );
    expect(wrong.code).toBe(3);
  });

  it("--login again replaces the saved key and revokes the one it replaced", async () => {
    const before = readKeyFile();
    const { run } = await loginThroughBrowser(bridge, env, "cli-bridge@example.com");
    outputs.push(run.stdout, run.stderr);
    expect(run.code).toBe(0);
    const after = readKeyFile();
    expect(after.user_id).toBe(before.user_id);
    expect(after.key_id).not.toBe(before.key_id);
    expect(
      (await fetch(`${server.origin}/v1/me`, { headers: { authorization: `Bearer ${before.api_key}` } })).status,
    ).toBe(401);
    expect((await cli(["--usage", "--json"])).json().calls_used).toBe(3);
  });

  it("--logout deletes the key file and revokes the CLI's key", async () => {
    const { api_key } = readKeyFile();
    const run = await cli(["--logout"]);
    expect(run.code).toBe(0);
    expect(() => statSync(keyFile())).toThrow();
    const status = await cli(["--auth-status"]);
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(/Signed in:\s+no/);
    const old = await fetch(`${server.origin}/v1/me`, { headers: { authorization: `Bearer ${api_key}` } });
    expect(old.status).toBe(401);
  });

  it("--logout --unlink unlinks the account on the bridge and revokes its keys", async () => {
    const { run } = await loginThroughBrowser(bridge, env, "cli-bridge@example.com");
    expect(run.code).toBe(0);
    const { api_key } = readKeyFile();
    const out = await cli(["--logout", "--unlink", "--json"]);
    expect(out.code).toBe(0);
    expect(out.json()).toMatchObject({
      target: "bridge",
      removed: true,
      unlinked: true,
      revoked_keys: expect.any(Number),
    });
    expect(out.json().revoked_keys).toBeGreaterThanOrEqual(1);
    expect(() => statSync(keyFile())).toThrow();
    const old = await fetch(`${server.origin}/v1/me`, { headers: { authorization: `Bearer ${api_key}` } });
    expect(old.status).toBe(401);
  });

  it("never printed a key or a token", () => {
    expect(secrets.size).toBeGreaterThanOrEqual(4);
    const all = outputs.join("\n");
    for (const secret of secrets) expect(all).not.toContain(secret);
  });
});

describe("kallyai, bridge mode, bad flags", () => {
  // The "bridge" counts requests: the flags are refused before any is sent, with the bridge's own words.
  let fake: Awaited<ReturnType<typeof recordingServer>>;
  beforeAll(async () => {
    fake = await recordingServer();
  });
  afterAll(() => fake?.close());

  it.each([
    [["-p", "911", "-t", "Ask about store hours"], "emergency_number", "never called"],
    [
      ["-p", "+15551234567", "-t", "Reserve a table please", "--party-size", "0"],
      "validation_error",
      "--party-size must be between 1 and 50",
    ],
    [
      ["-p", "+15551234567", "-t", "Reserve a table please", "--date", "tomorrow"],
      "validation_error",
      "--date must be a date as YYYY-MM-DD",
    ],
    [["--usage", "--unlink"], "invalid_arguments", "--unlink goes with --logout"],
  ])("%j: exit 2, nothing sent", async (args, code, message) => {
    const run = await runCli(
      ["--bridge", fake.origin, ...args, "--json"],
      cleanEnv({ KALLYAI_CONFIG_DIR: tempDir("kallyai-cli-bad-"), KALLYAI_API_KEY: "kb_test" }),
    );
    expect(run.code).toBe(2);
    expect(run.json()).toMatchObject({ error: { code, message: expect.stringContaining(message) }, exit_code: 2 });
    expect(fake.requests).toEqual([]);
  });

  it("--api-key without a bridge is refused", async () => {
    const run = await runCli(
      ["--usage", "--api-key", "kb_test"],
      cleanEnv({ KALLYAI_CONFIG_DIR: tempDir("kallyai-cli-bad-") }),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--api-key is a bridge API key");
  });
});
