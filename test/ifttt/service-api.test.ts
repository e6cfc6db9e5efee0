import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { RETRY_SCHEDULE_MS } from "../../src/domain/deliveries";
import { deps } from "../../src/domain/deps";
import { sendRealtime } from "../../src/domain/ifttt-realtime";
import { connectedApps, NON_EXPIRING_TOKEN_SECONDS, oauthServer, revokeApp } from "../../src/domain/oauth";
import { DEV_IFTTT_CLIENT, DEV_IFTTT_SERVICE_KEY } from "../../src/env";
import { bridgeWith, linkedUser, withKey } from "../support/accounts";
import { bridge, json } from "../support/bridge";
import { BRIDGE_ORIGIN, route } from "../support/network";
import { consume, takeEnqueued } from "../support/queues";
import { endSandboxCall } from "../support/sandbox";

const SERVICE = { "ifttt-service-key": DEV_IFTTT_SERVICE_KEY };
const ifttt = (path: string, body: unknown, token: string, headers: Record<string, string> = {}) =>
  json(`/ifttt/v1${path}`, body, { headers: { authorization: `Bearer ${token}`, ...headers } });

interface Setup {
  accessToken: string;
  samples: {
    triggers: Record<string, Record<string, string>>;
    triggerFieldValidations: Record<string, Record<string, { valid: string; invalid: string }>>;
    actions: Record<string, Record<string, string>>;
    actionRecordSkipping: Record<string, Record<string, string>>;
  };
}
type Item = Record<string, string> & { meta: { id: string; timestamp: number } };

async function expectIftttError(res: Response, status: number, skip = false) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await res.json()) as { errors: Array<{ message: string; status?: string }> };
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0]?.message).toEqual(expect.any(String));
  expect(body.errors[0]?.status).toBe(skip ? "SKIP" : undefined);
  return body.errors[0]?.message ?? "";
}

let setup: Setup;
beforeAll(async () => {
  const res = await json("/ifttt/v1/test/setup", {}, { headers: SERVICE });
  expect(res.status).toBe(200);
  setup = ((await res.json()) as { data: Setup }).data;
});

const trigger = (slug: string, extra: Record<string, unknown> = {}, token = setup.accessToken) =>
  ifttt(
    `/triggers/${slug}`,
    {
      trigger_identity: `ti-${slug}`,
      triggerFields: setup.samples.triggers[slug],
      user: { timezone: "UTC" },
      ...extra,
    },
    token,
  );

describe("service key endpoints", () => {
  it("GET /status answers 200 with the service key, 401 in IFTTT's shape without it or with another", async () => {
    expect((await bridge("/ifttt/v1/status", { headers: SERVICE })).status).toBe(200);
    await expectIftttError(await bridge("/ifttt/v1/status"), 401);
    await expectIftttError(await bridge("/ifttt/v1/status", { headers: { "ifttt-service-key": "nope" } }), 401);
  });

  it("POST /test/setup gives a token and samples for every trigger, validation, action and skip; 401 without the key", async () => {
    expect(setup.accessToken).toMatch(/^[^:]+:[^:]+:[^:]+$/);
    expect(Object.keys(setup.samples.triggers).sort()).toEqual(["call_finished", "call_finished_from_number"]);
    expect(setup.samples.actions.place_call?.phone).toBeTruthy();
    expect(setup.samples.actionRecordSkipping.place_call?.phone).toBe("911");
    expect(setup.samples.triggerFieldValidations.call_finished_from_number?.phone).toBeTruthy();
    await expectIftttError(await json("/ifttt/v1/test/setup", {}), 401);
  });

  it("a deployment without IFTTT_SERVICE_KEY runs no IFTTT service (404); one with the public dev key is misconfigured", async () => {
    const deployed = {
      BRIDGE_ENV: "production",
      BRIDGE_LOCAL_RUNNER: undefined,
      VAULT_KEYS: `prod:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`,
      API_KEY_SIGNING_KEYS: JSON.stringify([
        { kty: "oct", kid: "prod", alg: "HS256", k: "cHJvZC1zaWduaW5nLWtleS1mb3ItaWZ0dHQtdGVzdHMtMDEyMzQ1Njc4OQ" },
      ]),
    };
    const off = await bridgeWith(deployed)("/ifttt/v1/status", { headers: SERVICE });
    expect(await expectIftttError(off, 404)).toContain("IFTTT_SERVICE_KEY");
    const dev = await bridgeWith({ ...deployed, IFTTT_SERVICE_KEY: DEV_IFTTT_SERVICE_KEY })("/ifttt/v1/status", {
      headers: SERVICE,
    });
    const message = await expectIftttError(dev, 503);
    expect(message).toContain("IFTTT_SERVICE_KEY");
    expect(message).not.toContain(DEV_IFTTT_SERVICE_KEY);
  });
});

describe("POST /test/setup outside test mode", () => {
  it("acts as the linked account IFTTT_TEST_USER_ID names", async () => {
    const user = await linkedUser();
    const res = await setupWith({ IFTTT_TEST_USER_ID: user.userId });
    expect(res.status).toBe(200);
    const token = ((await res.json()) as { data: Setup }).data.accessToken;
    const info = (await (await bridge("/ifttt/v1/user/info", withKey(token))).json()) as { data: { id: string } };
    expect(info.data.id).toBe(user.userId);
  });

  it("answers 503 when IFTTT_TEST_USER_ID names no linked account, or when there is neither it nor the sandbox", async () => {
    const unknown = await setupWith({ IFTTT_TEST_USER_ID: "usr_nobody" });
    expect(await expectIftttError(unknown, 503)).toContain("IFTTT_TEST_USER_ID");
    const noSandbox = await setupWith({ KALLYAI_API_BASE: "https://api.kallyai.example", SANDBOX_ENABLED: "false" });
    expect(await expectIftttError(noSandbox, 503)).toContain("IFTTT_TEST_USER_ID");
  });
});

describe("GET /user/info", () => {
  it("names the user with the bridge's permanent id and the console's URL", async () => {
    const res = await bridge("/ifttt/v1/user/info", withKey(setup.accessToken));
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: { id: string; name: string; url: string } };
    expect(data.id).toMatch(/^usr_/);
    expect(data.name).toEqual(expect.any(String));
    expect(data.url).toBe("https://bridge.test/console");
  });

  it("refuses a bad token, no token, and a bridge API key with 401 in IFTTT's shape", async () => {
    await expectIftttError(await bridge("/ifttt/v1/user/info", withKey("a:b:c")), 401);
    await expectIftttError(await bridge("/ifttt/v1/user/info"), 401);
    const user = await linkedUser();
    await expectIftttError(await bridge("/ifttt/v1/user/info", withKey(user.apiKey)), 401);
  });
});

describe("triggers", () => {
  it("call_finished lists the newest finished calls first, each with its ingredients and meta", async () => {
    const res = await trigger("call_finished");
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: Item[] };
    expect(data.length).toBeGreaterThanOrEqual(3);
    const times = data.map((i) => i.meta.timestamp);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(new Set(data.map((i) => i.meta.id)).size).toBe(data.length);
    expect(data[0]).toMatchObject({
      call_id: expect.any(String),
      status: "success",
      phone: "+14155550100",
      business: "Test Bistro",
      highlights: expect.any(String),
      duration_seconds: expect.stringMatching(/^\d+$/),
      ended_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      call_url: expect.stringMatching(/^https:\/\/bridge\.test\/console\/calls\//),
    });
    expect(data[0]?.meta.id).toMatch(/^evt_/);
  });

  it("honours limit 0, 1 and 3, and ignores keys it does not know", async () => {
    for (const limit of [0, 1, 3]) {
      const res = await trigger("call_finished", { limit, extra: { nested: true }, unknown_key: 1 });
      expect(((await res.json()) as { data: Item[] }).data).toHaveLength(limit);
    }
  });

  it("outcome succeeded and failed filter; an unknown outcome is a 400", async () => {
    const failed = await ifttt(
      "/triggers/call_finished",
      { trigger_identity: "x", triggerFields: { outcome: "failed" } },
      setup.accessToken,
    );
    expect(((await failed.json()) as { data: Item[] }).data).toEqual([]);
    const ok = await ifttt(
      "/triggers/call_finished",
      { trigger_identity: "x", triggerFields: { outcome: "succeeded" } },
      setup.accessToken,
    );
    expect(((await ok.json()) as { data: Item[] }).data.length).toBeGreaterThanOrEqual(3);
    await expectIftttError(
      await ifttt(
        "/triggers/call_finished",
        { trigger_identity: "x", triggerFields: { outcome: "maybe" } },
        setup.accessToken,
      ),
      400,
    );
  });

  it("call_finished_from_number lists calls to that number only; a bad number is a 400", async () => {
    const res = await trigger("call_finished_from_number");
    const { data } = (await res.json()) as { data: Item[] };
    expect(data.length).toBeGreaterThanOrEqual(3);
    expect(data.every((i) => i.phone === "+14155550100")).toBe(true);
    const other = await ifttt(
      "/triggers/call_finished_from_number",
      { trigger_identity: "y", triggerFields: { phone: "+14155550199" } },
      setup.accessToken,
    );
    expect(((await other.json()) as { data: Item[] }).data).toEqual([]);
    await expectIftttError(
      await ifttt(
        "/triggers/call_finished_from_number",
        { trigger_identity: "y", triggerFields: { phone: "abc" } },
        setup.accessToken,
      ),
      400,
    );
  });

  it("refuses a bad token (401), an unknown trigger (404), and a body without identity or fields, or not JSON (400)", async () => {
    await expectIftttError(await trigger("call_finished", {}, "x:y:z"), 401);
    await expectIftttError(await trigger("no_such_trigger"), 404);
    await expectIftttError(await ifttt("/triggers/call_finished", { triggerFields: {} }, setup.accessToken), 400);
    await expectIftttError(await ifttt("/triggers/call_finished", { trigger_identity: "z" }, setup.accessToken), 400);
    await expectIftttError(
      await ifttt(
        "/triggers/call_finished",
        { trigger_identity: "z", triggerFields: {}, limit: -1 },
        setup.accessToken,
      ),
      400,
    );
    const notJson = await bridge("/ifttt/v1/triggers/call_finished", {
      method: "POST",
      headers: { authorization: `Bearer ${setup.accessToken}`, "content-type": "application/json" },
      body: "{",
    });
    await expectIftttError(notJson, 400);
  });

  it("DELETE of a trigger identity answers 200 with the service key and forgets it; 401 with nothing", async () => {
    await trigger("call_finished");
    const count = () =>
      env.DB.prepare("SELECT count(*) AS n FROM ifttt_trigger_identities WHERE id = 'ti-call_finished'").first<{
        n: number;
      }>();
    expect((await count())?.n).toBe(1);
    const path = "/ifttt/v1/triggers/call_finished/trigger_identity/ti-call_finished";
    expect((await bridge(path, { method: "DELETE", headers: SERVICE })).status).toBe(200);
    expect((await count())?.n).toBe(0);
    await expectIftttError(await bridge(path, { method: "DELETE" }), 401);
  });
});

describe("action place_call", () => {
  it("places the call and answers its id and console URL; the same X-Request-ID places no second call", async () => {
    const fields = { ...setup.samples.actions.place_call, phone: "+14155550123" };
    const headers = { "x-request-id": crypto.randomUUID() };
    const res = await ifttt(
      "/actions/place_call",
      { actionFields: fields, user: { timezone: "UTC" }, ifttt_source: { id: "1", url: "u" }, extra: 1 },
      setup.accessToken,
      headers,
    );
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: Array<{ id: string; url: string }> };
    expect(data).toHaveLength(1);
    expect(data[0]?.url).toBe(`https://bridge.test/console/calls/${data[0]?.id}`);
    const again = await ifttt("/actions/place_call", { actionFields: fields }, setup.accessToken, headers);
    expect(((await again.json()) as { data: Array<{ id: string }> }).data[0]?.id).toBe(data[0]?.id);
  });

  it("skips an emergency number, a bad phone and a missing task with 400 SKIP and the bridge's message", async () => {
    const message = await expectIftttError(
      await ifttt(
        "/actions/place_call",
        { actionFields: setup.samples.actionRecordSkipping.place_call },
        setup.accessToken,
      ),
      400,
      true,
    );
    expect(message).toMatch(/emergency/i);
    await expectIftttError(
      await ifttt(
        "/actions/place_call",
        { actionFields: { phone: "12", task: "Ask about the opening hours" } },
        setup.accessToken,
      ),
      400,
      true,
    );
    await expectIftttError(
      await ifttt("/actions/place_call", { actionFields: { phone: "+14155550123" } }, setup.accessToken),
      400,
      true,
    );
  });

  it("refuses a bad token (401), an unknown action (404) and a body without actionFields (400)", async () => {
    await expectIftttError(await ifttt("/actions/place_call", { actionFields: {} }, "a:b:c"), 401);
    await expectIftttError(await ifttt("/actions/nope", { actionFields: {} }, setup.accessToken), 404);
    await expectIftttError(await ifttt("/actions/place_call", {}, setup.accessToken), 400);
  });
});

describe("field options and validation", () => {
  it("category and language have options; a field without options is a 404", async () => {
    const category = await ifttt("/actions/place_call/fields/category/options", {}, setup.accessToken);
    expect(((await category.json()) as { data: Array<{ value: string }> }).data.map((o) => o.value)).toEqual([
      "restaurant",
      "clinic",
      "hotel",
      "general",
    ]);
    const language = await ifttt("/actions/place_call/fields/language/options", {}, setup.accessToken);
    expect(((await language.json()) as { data: Array<{ label: string; value: string }> }).data).toEqual([
      { label: "English", value: "en" },
      { label: "Spanish", value: "es" },
    ]);
    await expectIftttError(await ifttt("/actions/place_call/fields/task/options", {}, setup.accessToken), 404);
    await expectIftttError(await ifttt("/actions/place_call/fields/category/options", {}, "a:b:c"), 401);
  });

  it("phone validation says valid, or why not", async () => {
    const validate = async (step: string, value: unknown) =>
      (
        (await (await ifttt(`${step}/fields/phone/validate`, { value }, setup.accessToken)).json()) as {
          data: { valid: boolean; message?: string };
        }
      ).data;
    expect(await validate("/actions/place_call", "(415) 555-0123")).toEqual({ valid: true });
    expect(await validate("/triggers/call_finished_from_number", "+14155550100")).toEqual({ valid: true });
    expect(await validate("/actions/place_call", "911")).toEqual({
      valid: false,
      message: expect.stringMatching(/emergency/i),
    });
    expect((await validate("/actions/place_call", "abc")).valid).toBe(false);
    await expectIftttError(await ifttt("/actions/place_call/fields/phone/validate", {}, setup.accessToken), 400);
    await expectIftttError(
      await ifttt("/actions/place_call/fields/task/validate", { value: "x" }, setup.accessToken),
      404,
    );
  });
});

describe("IFTTT's OAuth grant", () => {
  it("is a connected app with calls:write and calls:read only; revoking it there disconnects IFTTT", async () => {
    const fresh = ((await (await json("/ifttt/v1/test/setup", {}, { headers: SERVICE })).json()) as { data: Setup })
      .data;
    const info = (await (await bridge("/ifttt/v1/user/info", withKey(fresh.accessToken))).json()) as {
      data: { id: string };
    };
    const oauth = oauthServer(env, `${BRIDGE_ORIGIN}/`);
    if (!oauth) throw new Error("no OAuth server");
    const apps = await connectedApps(deps(env), oauth, info.data.id);
    const app = apps.find((a) => a.clientId === DEV_IFTTT_CLIENT.id);
    expect(app?.scopes).toEqual(["calls:write", "calls:read"]);
    const grant = await env.OAUTH_KV?.list({ prefix: `token:${info.data.id}:${app?.grantId}:` });
    const record = (await env.OAUTH_KV?.get(grant?.keys[0]?.name ?? "", "json")) as { expiresAt: number } | null;
    expect(record?.expiresAt).toBeGreaterThan(Date.now() / 1000 + NON_EXPIRING_TOKEN_SECONDS - 3600);
    expect(await revokeApp(deps(env), oauth, info.data.id, app?.grantId ?? "")).toBe(true);
    await expectIftttError(await bridge("/ifttt/v1/user/info", withKey(fresh.accessToken)), 401);
  });
});

describe("realtime", () => {
  it("a call a trigger identity would list ends: IFTTT's realtime endpoint gets the user's id with the service key", async () => {
    const fresh = ((await (await json("/ifttt/v1/test/setup", {}, { headers: SERVICE })).json()) as { data: Setup })
      .data;
    const token = fresh.accessToken;
    const info = (await (await bridge("/ifttt/v1/user/info", withKey(token))).json()) as { data: { id: string } };
    await ifttt("/triggers/call_finished", { trigger_identity: "rt-1", triggerFields: { outcome: "any" } }, token);
    const received: Array<{ key: string | null; body: unknown }> = [];
    route("https://realtime.ifttt.com", async (req) => {
      received.push({ key: req.headers.get("ifttt-service-key"), body: await req.json() });
      return new Response("{}", { status: 200 });
    });
    const callId = await placeThroughIfttt(token, "+14155550142", () => takeEnqueued("deliveries"));
    expect(received).toEqual([]);
    const wakeUps = takeEnqueued("deliveries").filter((m) => m.body.kind === "ifttt_realtime");
    expect(wakeUps).toHaveLength(1);
    await consume("deliveries", [wakeUps[0]?.body]);
    expect(received).toEqual([{ key: DEV_IFTTT_SERVICE_KEY, body: { data: [{ user_id: info.data.id }] } }]);
    const newest = await ifttt(
      "/triggers/call_finished",
      { trigger_identity: "rt-1", triggerFields: { outcome: "any" }, limit: 1 },
      token,
    );
    expect(((await newest.json()) as { data: Item[] }).data[0]?.call_id).toBe(callId);
  });

  it("a notification IFTTT refuses is tried again on the webhook schedule, then dropped; the trigger still lists the call", async () => {
    const user = await linkedUser();
    const token = ((await (await setupWith({ IFTTT_TEST_USER_ID: user.userId })).json()) as { data: Setup }).data
      .accessToken;
    await ifttt("/triggers/call_finished", { trigger_identity: "rt-2", triggerFields: { outcome: "any" } }, token);
    let refused = 0;
    route("https://realtime.ifttt.com", () => {
      refused++;
      return new Response("{}", { status: 500 });
    });
    const callId = await placeThroughIfttt(token, "+14155550143");
    const owed = () =>
      env.DB.prepare("SELECT attempts, due_at FROM ifttt_notifications WHERE user_id = ?")
        .bind(user.userId)
        .first<{ attempts: number; due_at: number }>();
    const d = deps(env);
    expect(await sendRealtime(d)).toBe(0);
    expect(refused).toBe(1);
    expect(await owed()).toMatchObject({ attempts: 1, due_at: expect.any(Number) });
    expect((await owed())!.due_at).toBeGreaterThan(Date.now());
    // The last try of the schedule: refused once more, the notification is dropped.
    await env.DB.prepare("UPDATE ifttt_notifications SET attempts = ?, due_at = 0 WHERE user_id = ?")
      .bind(RETRY_SCHEDULE_MS.length - 1, user.userId)
      .run();
    expect(await sendRealtime(d)).toBe(0);
    expect(refused).toBe(2);
    expect(await owed()).toBeNull();
    const listed = await ifttt(
      "/triggers/call_finished",
      { trigger_identity: "rt-2", triggerFields: { outcome: "any" }, limit: 1 },
      token,
    );
    expect(((await listed.json()) as { data: Item[] }).data[0]?.call_id).toBe(callId);
  });
});

/**
 * A call placed by IFTTT's place_call action and finished at the sandbox; `beforeEnd` runs once it
 * is placed. Reading the finished call records its outcome (the poller does the same).
 */
async function placeThroughIfttt(token: string, phone: string, beforeEnd: () => void = () => undefined) {
  const placed = await ifttt(
    "/actions/place_call",
    { actionFields: { phone, task: "Ask about the opening hours" } },
    token,
  );
  const callId = ((await placed.json()) as { data: Array<{ id: string }> }).data[0]?.id ?? "";
  beforeEnd();
  await endSandboxCall(callId);
  expect((await bridge(`/v1/calls/${callId}`, withKey(token))).status).toBe(200);
  return callId;
}

/** POST /test/setup on a bridge with other configuration (IFTTT_TEST_USER_ID, another upstream). */
const setupWith = (vars: Record<string, string>) =>
  bridgeWith(vars)("/ifttt/v1/test/setup", {
    method: "POST",
    headers: { ...SERVICE, "content-type": "application/json" },
    body: "{}",
  });
