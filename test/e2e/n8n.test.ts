import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer, until } from "./dev-server";
import {
  type BridgeCredentials,
  ensurePackageInstalled,
  loadN8n,
  n8nNode,
  PACKAGE_DIR,
  runNode,
  startTrigger,
  testCredentials,
} from "./n8n-harness";
import { linkedKey } from "./sandbox-account";

// The n8n community node package (integrations/n8n): built and linted with n8n's own CLI, then its
// nodes run by n8n's engine (n8n-core, see n8n-harness.ts) against `npm run dev`: the trigger
// subscribes, the KallyAI node places a sandbox call, waits, reads it back, lists, reads the
// transcript and cancels; the trigger receives the call's signed event and unsubscribes.

const packageJson = JSON.parse(readFileSync(join(PACKAGE_DIR, "package.json"), "utf8"));
let server: DevServer;
let build: { code: number | null; output: string };
let n8n: ReturnType<typeof loadN8n>;
let credentials: BridgeCredentials;
let trigger: Awaited<ReturnType<typeof startTrigger>>;

async function signUp(origin: string): Promise<string> {
  const signInKey = await linkedKey(origin, `n8n-${Date.now()}@example.com`);
  // A key for n8n alone, with the scopes the README's credential section asks for.
  const key = await fetch(`${origin}/v1/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${signInKey}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "n8n", scopes: ["calls:write", "calls:read", "webhooks", "account:read"] }),
  });
  expect(key.status).toBe(201);
  return (await key.json()).api_key;
}

const bridgeGet = async (path: string) =>
  fetch(`${server.origin}${path}`, { headers: { "x-api-key": credentials.apiKey } });
const fireCron = () => fetch(`${server.origin}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);

beforeAll(async () => {
  // The package's install (first run only) overlaps the dev server's start.
  const [, dev] = await Promise.all([
    ensurePackageInstalled(),
    // Sandbox calls end after 1 s; one poller sweep per cron tick, fired by the test.
    // KallyAI answering at once (SANDBOX_PLACEMENT=async), so that Cancel meets a running call KallyAI
    // can cancel: with its documented API a call it is placing answers 409 cannot_cancel (docs/architecture.md).
    startDevServer(["--var", "SANDBOX_CALL_SECONDS:1", "POLLER_SWEEP_SECONDS:0", "SANDBOX_PLACEMENT:async"]),
  ]);
  server = dev;
  build = await n8nNode("build");
  n8n = loadN8n();
  credentials = { url: server.origin, apiKey: await signUp(server.origin) };
  // A ceiling, not a speed check: a fresh clone's first run installs the package (~900 MB) on a busy machine.
}, 1_200_000);
afterAll(async () => {
  await trigger?.stop();
  await server?.stop();
  if (n8n) rmSync(n8n.userFolder, { recursive: true, force: true });
});

describe("the n8n package, with n8n's own tools", () => {
  it("n8n-node build compiles every node and credential package.json lists, with icons and codex files", () => {
    expect(build.code, build.output).toBe(0);
    const listed = [...packageJson.n8n.nodes, ...packageJson.n8n.credentials] as string[];
    expect(listed).toHaveLength(3);
    for (const file of listed) expect(existsSync(join(PACKAGE_DIR, file)), file).toBe(true);
    for (const file of ["icons/kallyai.svg", "icons/kallyai.dark.svg", "nodes/KallyAi/KallyAi.node.json"])
      expect(existsSync(join(PACKAGE_DIR, "dist", file)), file).toBe(true);
  });

  it("n8n-node lint passes: n8n's community-node rules, in strict mode", async () => {
    const lint = await n8nNode("lint");
    expect(lint.code, lint.output).toBe(0);
    expect(lint.output).not.toMatch(/\d+ problems?/);
  }, 600_000);

  it("has no runtime dependencies, and n8n-workflow only as a peer", () => {
    expect(packageJson.dependencies ?? {}).toEqual({});
    expect(packageJson.peerDependencies).toEqual({ "n8n-workflow": "*" });
    expect(packageJson.keywords).toContain("n8n-community-node-package");
    expect(packageJson.n8n).toMatchObject({ n8nNodesApiVersion: 1, strict: true });
  });
});

describe("the KallyAI Bridge API credential", () => {
  it("tests a working key with GET /v1/me", async () => {
    expect(await testCredentials(n8n, credentials)).toEqual({
      status: "OK",
      message: "Connection tested successfully",
    });
  });

  it("a wrong key fails the test", async () => {
    const result = await testCredentials(n8n, { ...credentials, apiKey: "not-a-key" });
    expect(result).toEqual({ status: "Error", message: expect.stringMatching(/authorization failed/i) });
  });
});

describe("the KallyAI node and the KallyAI Trigger against npm run dev", () => {
  let callId: string;

  it("the trigger, activated, subscribes its webhook URL to the chosen event", async () => {
    trigger = await startTrigger(n8n, credentials, "call.completed");
    expect(await trigger.checkExists()).toBe(false);
    expect(await trigger.create()).toBe(true);
    const { webhookId, webhookSecret } = trigger.staticData();
    expect(webhookSecret).toMatch(/^whsec_/);
    const hook = await (await bridgeGet(`/v1/webhooks/${webhookId}`)).json();
    expect(hook).toMatchObject({ url: trigger.url, events: ["call.completed"], state: "active" });
    expect(await trigger.checkExists()).toBe(true);
  });

  it("places a call with every field; the bridge records each one", async () => {
    const placed = await runNode(n8n, credentials, {
      resource: "call",
      operation: "place",
      phone: "(415) 555-1234",
      task: "Reserve a table for 4 at 8pm",
      category: "restaurant",
      language: "en",
      idempotencyKey: `n8n-e2e-${Date.now()}`,
      additionalFields: {
        business: "Italian Bistro",
        call_language: "es",
        country: "US",
        date: "2026-01-28",
        instructions: "Ask for a window table\nMention a birthday",
        name: "John Smith",
        party_size: 4,
        time: "20:00",
        time_preference: "evening",
        timezone: "America/New_York",
        urgent: true,
        user_phone: "+14155559876",
      },
    });
    expect(placed.error).toBeUndefined();
    expect(placed.items).toEqual([
      expect.objectContaining({ id: expect.any(String), status: expect.stringMatching(/queued|in_progress/) }),
    ]);
    callId = placed.items[0]!.id as string;
    const call = await (await bridgeGet(`/v1/calls/${callId}`)).json();
    expect(call).toMatchObject({
      phone: "+14155551234",
      task: "Reserve a table for 4 at 8pm",
      category: "restaurant",
      language: "en",
      call_language: "es",
      business: "Italian Bistro",
      name: "John Smith",
      party_size: 4,
      date: "2026-01-28",
      time: "20:00",
      time_preference: "evening",
      timezone: "America/New_York",
      user_phone: "+14155559876",
      urgent: true,
      instructions: ["Ask for a window table", "Mention a birthday"],
    });
  });

  it("the default idempotency key differs per execution; the same key places no second call", async () => {
    const fields = { resource: "call", operation: "place", phone: "+14155559876", task: "Ask about store hours today" };
    const first = await runNode(n8n, credentials, fields);
    const second = await runNode(n8n, credentials, fields);
    expect(second.items[0]!.id).not.toBe(first.items[0]!.id);
    const key = `n8n-replay-${Date.now()}`;
    const one = await runNode(n8n, credentials, { ...fields, idempotencyKey: key });
    const two = await runNode(n8n, credentials, { ...fields, idempotencyKey: key });
    expect(two.items[0]!.id).toBe(one.items[0]!.id);
  });

  it("without a time zone, the call is placed in the workflow's", async () => {
    // The harness's workflow settings say Europe/Madrid.
    const placed = await runNode(n8n, credentials, {
      resource: "call",
      operation: "place",
      phone: "+14155559876",
      task: "Ask about store hours today",
    });
    expect(await (await bridgeGet(`/v1/calls/${placed.items[0]!.id}`)).json()).toMatchObject({
      timezone: "Europe/Madrid",
    });
  });

  it("a bad input fails the node with the bridge's code and message", async () => {
    const refused = await runNode(n8n, credentials, {
      resource: "call",
      operation: "place",
      phone: "911",
      task: "Reserve a table for 4 at 8pm",
    });
    expect(refused.items).toEqual([]);
    expect(refused.error).toMatchObject({
      message: expect.stringMatching(/^Emergency and service numbers .* \(emergency_number\)$/),
      description: expect.stringContaining("HTTP 422"),
      httpCode: "422",
    });
  });

  it("Get with a wait answers once the call has ended, with its outcome", async () => {
    const got = await runNode(n8n, credentials, { resource: "call", operation: "get", callId, wait: 20 });
    expect(got.error).toBeUndefined();
    expect(got.items).toEqual([
      expect.objectContaining({ id: callId, status: "success", finished: true, highlights: expect.any(String) }),
    ]);
  });

  it("the trigger receives the call's signed call.completed event: the same object as the events feed", async () => {
    const delivery = await until(
      "the call.completed delivery",
      async () => {
        await fireCron();
        return trigger.received.find((d) => (d.items[0]?.data as { id?: string })?.id === callId);
      },
      60,
    );
    expect(delivery.status).toBe(200);
    const feed = await (await bridgeGet("/v1/events?type=call.completed")).json();
    const fromFeed = feed.items.find((e: { data: { id: string } }) => e.data.id === callId);
    expect(delivery.items).toEqual([fromFeed]);
    expect(fromFeed).toMatchObject({ type: "call.completed", data: { id: callId, status: "success" } });
  });

  it("the trigger refuses deliveries whose signature does not hold, and starts nothing", async () => {
    const before = trigger.received.length;
    const now = String(Math.floor(Date.now() / 1000));
    const body = JSON.stringify({ id: "evt_forged", type: "call.completed", data: { id: callId } });
    const attempts = [
      {}, // unsigned
      { "webhook-id": "evt_forged", "webhook-timestamp": now, "webhook-signature": "v1,Zm9yZ2Vk" },
    ];
    for (const headers of attempts) {
      const answer = await fetch(trigger.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
      expect(answer.status).toBe(401);
      expect((await answer.json()).error.code).toBe("invalid_signature");
    }
    expect(trigger.received.slice(before).every((d) => d.items.length === 0)).toBe(true);
  });

  it("Get Many follows next_cursor page by page with Return All, and filters by status", async () => {
    const all = await runNode(n8n, credentials, {
      resource: "call",
      operation: "getAll",
      returnAll: true,
      paging: { pageSize: 1 },
    });
    expect(all.error).toBeUndefined();
    const direct = await (await bridgeGet("/v1/calls?limit=100")).json();
    expect(direct.items.length).toBeGreaterThanOrEqual(3);
    expect(all.items.map((c) => c.id)).toEqual(direct.items.map((c: { id: string }) => c.id));

    const limited = await runNode(n8n, credentials, { resource: "call", operation: "getAll", limit: 1 });
    expect(limited.items).toHaveLength(1);

    const succeeded = await runNode(n8n, credentials, {
      resource: "call",
      operation: "getAll",
      returnAll: true,
      filters: { status: ["success"] },
    });
    expect(succeeded.items.map((c) => c.id)).toContain(callId);
    expect(succeeded.items.every((c) => c.status === "success")).toBe(true);
  });

  it("Get Transcript reads what was said", async () => {
    const transcript = await runNode(n8n, credentials, { resource: "call", operation: "getTranscript", callId });
    expect(transcript.items).toEqual([
      expect.objectContaining({ call_id: callId, entries: expect.arrayContaining([expect.any(Object)]) }),
    ]);
  });

  it("Cancel stops a running call; cancelling an ended one fails with the bridge's message", async () => {
    // A number ending in 0005 rings until cancelled in the sandbox.
    const placed = await runNode(n8n, credentials, {
      resource: "call",
      operation: "place",
      phone: "+14155550005",
      task: "Ask about store hours today",
    });
    const cancelled = await runNode(n8n, credentials, {
      resource: "call",
      operation: "cancel",
      callId: placed.items[0]!.id,
    });
    expect(cancelled.items).toEqual([
      expect.objectContaining({ id: placed.items[0]!.id, status: "cancelled", finished: true }),
    ]);
    const ended = await runNode(n8n, credentials, { resource: "call", operation: "cancel", callId });
    expect(ended.error).toMatchObject({ message: expect.stringContaining("(call_already_ended)"), httpCode: "409" });
  });

  it("Account: usage and subscription", async () => {
    const usage = await runNode(n8n, credentials, { resource: "account", operation: "usage" });
    expect(usage.items).toEqual([expect.objectContaining({ calls_used: expect.any(Number) })]);
    const subscription = await runNode(n8n, credentials, { resource: "account", operation: "subscription" });
    expect(subscription.items).toEqual([expect.objectContaining({ has_active_subscription: expect.any(Boolean) })]);
  });

  it("the trigger, deactivated, deletes its subscription", async () => {
    const { webhookId } = trigger.staticData();
    expect(await trigger.delete()).toBe(true);
    expect(trigger.staticData()).toEqual({});
    expect((await bridgeGet(`/v1/webhooks/${webhookId}`)).status).toBe(404);
    expect(await trigger.checkExists()).toBe(false);
  });
});
