import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { isPrivateHost } from "../../src/domain/webhook-targets";
import { MAX_ACTIVE_WEBHOOKS } from "../../src/domain/webhooks";
import { DEV_VAULT_KEYS } from "../../src/env";
import { bridgeWith, linkedUser, withKey } from "../support/accounts";
import { bridge, errorOf, json } from "../support/bridge";
import { placed } from "../support/calls";
import { blocked, route } from "../support/network";
import { endSandboxCall } from "../support/sandbox";
import { getJson, makeCallsDue, receiver, subscribe, tick } from "../support/webhooks";

// Targets are checked as deployed (no loopback allowance). A production-mode bridge would refuse
// the tests' public dev secrets, so this is the dev bridge with the deployed setting.
const production = bridgeWith({ WEBHOOKS_ALLOW_LOOPBACK: "false" });
const subscribeIn = (app: typeof production, apiKey: string, body: unknown) =>
  app("/v1/webhooks", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });

describe("webhook subscriptions", () => {
  it("subscribe, list, get, delete (REST hooks, as Zapier and n8n use them)", async () => {
    const user = await linkedUser();
    const created = await subscribe(user.apiKey, {
      url: "https://hooks.example.com/a",
      events: ["call.completed", "call.failed"],
      description: "Zap 1",
    });
    expect(created).toMatchObject({
      kind: "webhook",
      url: "https://hooks.example.com/a",
      events: ["call.completed", "call.failed"],
      description: "Zap 1",
      state: "active",
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]+=*$/),
    });
    const list = await getJson<{ items: Array<Record<string, unknown>> }>(user.apiKey, "/v1/webhooks");
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).not.toHaveProperty("secret");
    const one = await getJson(user.apiKey, `/v1/webhooks/${created.id}`);
    expect(one).toMatchObject({ id: created.id, state: "active", disabled_reason: null });
    expect(one).not.toHaveProperty("secret");

    const other = await linkedUser();
    expect((await bridge(`/v1/webhooks/${created.id}`, withKey(other.apiKey))).status).toBe(404);
    // Another account's subscription is "already gone" for it: success, and nothing is removed.
    expect((await bridge(`/v1/webhooks/${created.id}`, { method: "DELETE", ...withKey(other.apiKey) })).status).toBe(
      200,
    );
    expect((await bridge(`/v1/webhooks/${created.id}`, withKey(user.apiKey))).status).toBe(200);

    const deleted = await bridge(`/v1/webhooks/${created.id}`, { method: "DELETE", ...withKey(user.apiKey) });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ id: created.id, deleted: true });
    expect((await bridge(`/v1/webhooks/${created.id}`, withKey(user.apiKey))).status).toBe(404);
  });

  it("unsubscribing again answers success: platforms repeat unsubscribes", async () => {
    const user = await linkedUser();
    const created = await subscribe(user.apiKey, {
      url: "https://hooks.example.com/again",
      events: ["call.completed"],
    });
    for (const id of [created.id, created.id, "wh_never_existed"]) {
      const res = await bridge(`/v1/webhooks/${id}`, { method: "DELETE", ...withKey(user.apiKey) });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ id, deleted: true });
    }
    expect((await getJson<{ items: unknown[] }>(user.apiKey, "/v1/webhooks")).items).toEqual([]);
  });

  it("stores the signing secret encrypted, not in plain text", async () => {
    const user = await linkedUser();
    const created = await subscribe(user.apiKey, { url: "https://hooks.example.com/b", events: ["call.completed"] });
    const row = await env.DB.prepare("SELECT secret FROM webhooks WHERE id = ?")
      .bind(created.id)
      .first<{ secret: string }>();
    expect(row!.secret).not.toContain(created.secret.slice(6));
  });

  it.each([
    [{ url: "https://hooks.example.com/x", events: [] }, "events"],
    [{ url: "https://hooks.example.com/x", events: ["call.started"] }, "events"],
    [{ events: ["call.completed"] }, "url"],
    [{ url: "not a url", events: ["call.completed"] }, "url"],
    [{ url: "ftp://hooks.example.com/x", events: ["call.completed"] }, "url"],
    [{ url: "https://user:pw@hooks.example.com/x", events: ["call.completed"] }, "url"],
    [{ kind: "ifttt", events: ["call.completed"], key: "abcdefghijkl" }, "event"],
    [{ kind: "ifttt", events: ["call.completed"], event: "call_done", key: "short" }, "key"],
  ])("refuses %j naming %s", async (body, field) => {
    const user = await linkedUser();
    const res = await json("/v1/webhooks", body, withKey(user.apiKey));
    expect(res.status).toBe(422);
    expect((await errorOf(res)) as { field?: string }).toMatchObject({ field: expect.stringContaining(field) });
  });

  it("needs the webhooks scope", async () => {
    const user = await linkedUser();
    const res = await json("/v1/keys", { name: "read only", scopes: ["calls:read"] }, withKey(user.apiKey));
    expect(res.status).toBe(201);
    const { api_key } = (await res.json()) as { api_key: string };
    const refused = await json(
      "/v1/webhooks",
      { url: "https://hooks.example.com/x", events: ["call.completed"] },
      withKey(api_key),
    );
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).code).toBe("insufficient_scope");
    expect((await bridge("/v1/webhooks", {})).status).toBe(401);
  });

  it("POST /v1/webhooks/{id}/test sends a signed sample event and says what the receiver answered", async () => {
    const user = await linkedUser();
    const hook = receiver();
    const sub = await subscribe(user.apiKey, { url: hook.url, events: ["call.failed"] });
    const res = await bridge(`/v1/webhooks/${sub.id}/test`, { method: "POST", ...withKey(user.apiKey) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { delivered: boolean; event_id: string; status_code: number };
    expect(body).toMatchObject({
      delivered: true,
      status_code: 200,
      type: "call.failed",
      event_id: expect.stringMatching(/^evt_test_/),
    });
    expect(hook.received).toHaveLength(1);
    // The event shape of real deliveries, its id the webhook-id, marked "test" so automations can skip it.
    const sample = new Webhook(sub.secret).verify(hook.received[0]!.body, hook.received[0]!.headers) as Record<
      string,
      unknown
    >;
    expect(sample).toMatchObject({
      id: body.event_id,
      type: "call.failed",
      test: true,
      data: { status: "no_answer", id: expect.any(String) },
    });
    expect(hook.received[0]!.headers["webhook-id"]).toBe(body.event_id);
    expect(Object.keys(sample).sort()).toEqual(["data", "id", "test", "timestamp", "type"]);

    route(new URL(hook.url).origin, () => new Response("no", { status: 500 }));
    const failed = (await (
      await bridge(`/v1/webhooks/${sub.id}/test`, { method: "POST", ...withKey(user.apiKey) })
    ).json()) as { delivered: boolean; status_code: number };
    expect(failed).toMatchObject({ delivered: false, status_code: 500 });
  });

  it("unlinking the account disables its subscriptions: nothing more is sent", async () => {
    const user = await linkedUser();
    const hook = receiver();
    const sub = await subscribe(user.apiKey, { url: hook.url, events: ["call.completed"] });
    const call = await placed(user.apiKey);
    await endSandboxCall(call.id);
    // The outcome is in (its delivery pending) when the account is unlinked.
    await getJson(user.apiKey, `/v1/calls/${call.id}`);
    expect((await json("/v1/unlink", {}, withKey(user.apiKey))).status).toBe(200);
    const row = await env.DB.prepare("SELECT state, disabled_reason FROM webhooks WHERE id = ?")
      .bind(sub.id)
      .first<{ state: string; disabled_reason: string }>();
    expect(row).toMatchObject({ state: "disabled", disabled_reason: expect.stringContaining("unlinked") });
    await makeCallsDue([call.id]);
    await tick();
    expect(hook.received).toHaveLength(0);
    const d = await env.DB.prepare("SELECT state, last_error FROM deliveries WHERE webhook_id = ?")
      .bind(sub.id)
      .first<{ state: string; last_error: string }>();
    expect(d).toMatchObject({ state: "failed", last_error: expect.stringContaining("unlinked") });
  });
});

describe("webhook targets", () => {
  it("deployed, refuses plain http, private, loopback and link-local targets, before any request", async () => {
    const user = await linkedUser();
    const refused = [
      "http://hooks.example.com/x",
      "https://localhost/x",
      "https://api.localhost/x",
      "https://printer.local/x",
      "https://intranet/x",
      "https://127.0.0.1/x",
      "https://2130706433/x",
      "https://0x7f.1/x",
      "https://10.1.2.3/x",
      "https://172.16.0.1/x",
      "https://172.31.255.255/x",
      "https://192.168.1.1/x",
      "https://169.254.169.254/latest/meta-data",
      "https://0.0.0.0/x",
      "https://100.64.0.1/x",
      "https://[::1]/x",
      "https://[::]/x",
      "https://[fc00::1]/x",
      "https://[fd12:3456::1]/x",
      "https://[fe80::1]/x",
      "https://[::ffff:127.0.0.1]/x",
      "https://[::ffff:10.0.0.1]/x",
      // Forms a text check used to miss: IPv6 that carries an IPv4, documentation ranges, local names, wildcard DNS.
      "https://[2002:7f00:1::1]/x",
      "https://[2002:c0a8:101::]/x",
      "https://[64:ff9b::7f00:1]/x",
      "https://[64:ff9b::a00:1]/x",
      "https://[64:ff9b:1::a00:1]/x",
      "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x",
      "https://[2001:db8::1]/x",
      "https://[3fff:1::1]/x",
      "https://[::127.0.0.1]/x",
      "https://[100::1]/x",
      "https://[fec0::1]/x",
      "https://198.51.100.7/x",
      "https://203.0.113.9/x",
      "https://192.0.2.1/x",
      "https://localhost.localdomain/x",
      "https://router.localdomain/x",
      "https://127.0.0.1.nip.io/x",
      "https://10-0-0-1.nip.io/x",
      "https://app.10.0.0.1.nip.io/x",
      "https://7f000001.nip.io/x",
      "https://anything.sslip.io/x",
      "https://192-168-1-1.sslip.io/x",
      "https://localtest.me/x",
      "https://hooks.localtest.me/x",
      "https://lvh.me/x",
      "https://127.0.0.1.xip.io/x",
      "https://10.0.0.5.wildcard.example.com/x",
      "https://ip-192-168-0-10.example.net/x",
    ];
    for (const url of refused) {
      const res = await subscribeIn(production, user.apiKey, { url, events: ["call.completed"] });
      expect(res.status, url).toBe(422);
      expect(await errorOf(res), url).toMatchObject({ code: "invalid_webhook_url", field: "url" });
    }
    expect(blocked).toEqual([]);
    for (const url of [
      "https://hooks.zapier.com/hooks/standard/1/abc/",
      "https://8.8.8.8/x",
      "https://[2606:4700::1111]/x",
      "https://172.32.0.1/x",
      "https://ec2-8-8-8-8.compute-1.amazonaws.com/x",
      "https://[2001:4860:4860::8888]/x",
    ]) {
      expect((await subscribeIn(production, user.apiKey, { url, events: ["call.completed"] })).status, url).toBe(201);
    }
  });

  it("in dev (WEBHOOKS_ALLOW_LOOPBACK, on by default), http://127.0.0.1 is allowed for local testing", async () => {
    const user = await linkedUser();
    expect(
      (
        await json(
          "/v1/webhooks",
          { url: "http://127.0.0.1:8788/hook", events: ["call.completed"] },
          withKey(user.apiKey),
        )
      ).status,
    ).toBe(201);
    const devWithoutLoopback = bridgeWith({ WEBHOOKS_ALLOW_LOOPBACK: "false" });
    expect(
      (
        await subscribeIn(devWithoutLoopback, user.apiKey, {
          url: "http://127.0.0.1:8788/hook",
          events: ["call.completed"],
        })
      ).status,
    ).toBe(422);
  });

  it("is checked again before each delivery: a stored private target is not contacted when not allowed", async () => {
    const user = await linkedUser();
    await subscribe(user.apiKey, { url: "http://127.0.0.1:9/hook", events: ["call.completed"] });
    const call = await placed(user.apiKey);
    await endSandboxCall(call.id);
    await makeCallsDue([call.id]);
    await tick({ WEBHOOKS_ALLOW_LOOPBACK: "false" });
    expect(blocked).toEqual([]);
    const d = await env.DB.prepare("SELECT state, attempts, last_error FROM deliveries WHERE user_id = ?")
      .bind(user.userId)
      .first<{ state: string; attempts: number; last_error: string }>();
    expect(d).toMatchObject({ state: "pending", attempts: 1, last_error: expect.stringContaining("refused") });
  });

  it.each([
    "localhost",
    "LOCALHOST.",
    "a.b.local",
    "10.0.0.1",
    "[fe80::1%25eth0]",
    "[ff02::1]",
    "224.0.0.1",
    "255.255.255.255",
  ])("isPrivateHost(%s)", (host) => {
    expect(isPrivateHost(host)).toBe(true);
  });
  it.each(["example.com", "hooks.zapier.com", "1.1.1.1", "[2606:4700::1111]"])("public: %s", (host) => {
    expect(isPrivateHost(host)).toBe(false);
  });
});

describe("IFTTT subscriptions", () => {
  it("deliver {value1: status, value2: highlights, value3: next_steps} to maker.ifttt.com, with the key kept secret", async () => {
    const user = await linkedUser();
    const hits: Array<{ url: string; body: unknown }> = [];
    route("https://maker.ifttt.com", async (req) => {
      hits.push({ url: req.url, body: await req.json() });
      return new Response("Congratulations! You've fired the call_done event");
    });
    const key = "dK3y-Secret_abc123";
    const res = await json(
      "/v1/webhooks",
      { kind: "ifttt", event: "call_done", key, events: ["call.completed"] },
      withKey(user.apiKey),
    );
    expect(res.status).toBe(201);
    const sub = (await res.json()) as Record<string, unknown>;
    expect(sub).toMatchObject({ kind: "ifttt", events: ["call.completed"] });
    expect(sub).not.toHaveProperty("secret");
    expect(JSON.stringify(sub)).not.toContain(key);
    expect(JSON.stringify(await getJson(user.apiKey, `/v1/webhooks/${sub.id}`))).not.toContain(key);
    const stored = await env.DB.prepare("SELECT * FROM webhooks WHERE id = ?").bind(sub.id).first();
    expect(JSON.stringify(stored)).not.toContain(key);

    const call = await placed(user.apiKey);
    await endSandboxCall(call.id);
    await makeCallsDue([call.id]);
    await tick();
    expect(hits).toHaveLength(1);
    expect(hits[0]!.url).toBe(`https://maker.ifttt.com/trigger/call_done/with/key/${key}`);
    expect(hits[0]!.body).toEqual({
      value1: "success",
      value2: expect.stringContaining("Italian Bistro"),
      value3: expect.stringContaining("Arrive"),
    });
  });

  it("vault rotation re-encrypts webhook secrets and IFTTT keys; deliveries still verify with the original secret", async () => {
    const user = await linkedUser();
    const hook = receiver();
    const sub = await subscribe(user.apiKey, { url: hook.url, events: ["call.completed"] });
    const call = await placed(user.apiKey);
    await endSandboxCall(call.id);
    const newKey = `wk2:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
    const { reencryptVault } = await import("../../src/domain/vault-rotation");
    const { deps } = await import("../../src/domain/deps");
    const result = await reencryptVault(deps({ ...env, VAULT_KEYS: `${newKey},${DEV_VAULT_KEYS}` } as never));
    expect(result).toMatchObject({ remaining: 0 });
    expect(
      (await env.DB.prepare("SELECT key_id FROM webhooks WHERE id = ?").bind(sub.id).first<{ key_id: string }>())!
        .key_id,
    ).toBe("wk2");
    await makeCallsDue([call.id]);
    await tick({ VAULT_KEYS: newKey });
    expect(hook.received).toHaveLength(1);
    expect(new Webhook(sub.secret).verify(hook.received[0]!.body, hook.received[0]!.headers)).toMatchObject({
      data: { id: call.id },
    });
  });
});

describe("POST /v1/webhooks/{id}/enable: the edges", () => {
  const disable = (id: string) =>
    env.DB.prepare(
      "UPDATE webhooks SET state = 'disabled', disabled_reason = 'Deliveries failed for 5 days.', disabled_at = ? WHERE id = ?",
    )
      .bind(Date.now(), id)
      .run();
  const enable = (apiKey: string, id: string) =>
    bridge(`/v1/webhooks/${id}/enable`, { method: "POST", ...withKey(apiKey) });

  it("an active subscription is answered as it is (enabling twice is harmless)", async () => {
    const user = await linkedUser();
    const sub = await subscribe(user.apiKey, { url: receiver().url, events: ["call.completed"] });
    for (let i = 0; i < 2; i++) {
      const res = await enable(user.apiKey, sub.id);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ id: sub.id, state: "active" });
    }
  });

  it("an unknown id is a 404, an id over 100 characters a 422 naming id", async () => {
    const user = await linkedUser();
    const unknown = await enable(user.apiKey, "wh_nope");
    expect(unknown.status).toBe(404);
    expect(await errorOf(unknown)).toMatchObject({ code: "not_found" });
    const long = await enable(user.apiKey, "w".repeat(101));
    expect(long.status).toBe(422);
    expect(await errorOf(long)).toMatchObject({ code: "validation_error", field: "id" });
  });

  it(`with ${MAX_ACTIVE_WEBHOOKS} active subscriptions, a disabled one stays disabled: 422 too_many_webhooks`, async () => {
    const user = await linkedUser();
    const url = receiver().url;
    const first = await subscribe(user.apiKey, { url, events: ["call.completed"] });
    await disable(first.id);
    for (let i = 0; i < MAX_ACTIVE_WEBHOOKS; i++) await subscribe(user.apiKey, { url, events: ["call.completed"] });
    const res = await enable(user.apiKey, first.id);
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({ code: "too_many_webhooks" });
    expect((await getJson<{ state: string }>(user.apiKey, `/v1/webhooks/${first.id}`)).state).toBe("disabled");
  });
});
