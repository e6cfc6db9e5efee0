import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { linkedUser, withKey } from "../support/accounts";
import { bridge, errorOf, json } from "../support/bridge";
import { endSandboxCall, sandboxRequestCount } from "../support/sandbox";

const template = {
  name: "Oat milk check",
  phone: "+14155551234",
  category: "general",
  business: "Corner Shop",
  task: "Ask whether they have {{value1}} in stock",
};

async function createTrigger(apiKey: string, body: Record<string, unknown> = template) {
  const res = await json("/v1/triggers", body, withKey(apiKey));
  if (res.status !== 201) throw new Error(`create answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { id: string; url: string; name: string };
}

const pathOf = (url: string) => new URL(url).pathname;
const taskOf = async (callId: string) =>
  JSON.parse(
    (await env.DB.prepare(
      "SELECT request FROM sandbox_calls WHERE id = (SELECT upstream_id FROM calls WHERE calls.id = ?)",
    )
      .bind(callId)
      .first<{ request: string }>())!.request,
  ).submission.task_description as string;

describe("POST /v1/triggers", () => {
  it("answers an unguessable URL, shown once, and stores only its hash", async () => {
    const user = await linkedUser();
    const trigger = await createTrigger(user.apiKey);
    expect(trigger.url).toMatch(/^http:\/\/bridge\.test\/t\/[A-Za-z0-9_-]{32,}$/);
    const token = pathOf(trigger.url).split("/")[2]!;
    const row = await env.DB.prepare("SELECT * FROM triggers WHERE id = ?")
      .bind(trigger.id)
      .first<Record<string, unknown>>();
    expect(JSON.stringify(row)).not.toContain(token);
    const listed = await (await bridge("/v1/triggers", withKey(user.apiKey))).text();
    expect(listed).toContain(trigger.id);
    expect(listed).not.toContain(token);
  });

  it("refuses unknown fields and invalid fixed values now, not at the first hit", async () => {
    const user = await linkedUser();
    for (const [body, field] of [
      [{ ...template, colour: "red" }, "colour"],
      [{ ...template, party_size: 0 }, "party_size"],
      [{ ...template, category: "bar" }, "category"],
      [{ phone: "+14155551234" }, "name"],
    ] as const) {
      const res = await json("/v1/triggers", body, withKey(user.apiKey));
      expect(res.status, field).toBe(422);
      expect((await errorOf(res)).message, field).toContain(field);
    }
  });

  it("an account may have 100 trigger URLs: the next answers 422 too_many_triggers until one is revoked", async () => {
    const user = await linkedUser();
    const now = Date.now();
    await env.DB.batch(
      Array.from({ length: 100 }, (_, i) =>
        env.DB.prepare(
          "INSERT INTO triggers (id, user_id, key_id, name, token_hash, template, created_at) VALUES (?, ?, ?, ?, ?, '{}', ?)",
        ).bind(`trg_fill_${i}_${user.userId}`, user.userId, user.keyId, `filler ${i}`, `hash-${i}-${user.userId}`, now),
      ),
    );
    const res = await json("/v1/triggers", template, withKey(user.apiKey));
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({
      code: "too_many_triggers",
      message: expect.stringContaining("DELETE /v1/triggers/{id}"),
    });
    expect(
      (await bridge(`/v1/triggers/trg_fill_0_${user.userId}`, { method: "DELETE", ...withKey(user.apiKey) })).status,
    ).toBe(200);
    expect((await json("/v1/triggers", template, withKey(user.apiKey))).status).toBe(201);
  });

  it("needs the calls:write scope", async () => {
    const user = await linkedUser();
    const reader = (await (
      await json("/v1/keys", { name: "r", scopes: ["calls:read"] }, withKey(user.apiKey))
    ).json()) as { api_key: string };
    expect(await errorOf(await json("/v1/triggers", template, withKey(reader.api_key)))).toMatchObject({
      code: "insufficient_scope",
    });
  });
});

describe("hitting a trigger URL", () => {
  it("with value1=oat milk places a call whose task contains it", async () => {
    const user = await linkedUser();
    const trigger = await createTrigger(user.apiKey);
    const res = await bridge(`${pathOf(trigger.url)}?value1=oat%20milk`);
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect(await taskOf(id)).toBe("Ask whether they have oat milk in stock");
    const row = await env.DB.prepare("SELECT user_id FROM calls WHERE id = ?").bind(id).first<{ user_id: string }>();
    expect(row!.user_id).toBe(user.userId);
  });

  it("takes JSON and form bodies, {{any_field}}, and call fields overriding the defaults", async () => {
    const user = await linkedUser();
    const trigger = await createTrigger(user.apiKey, {
      name: "Table",
      phone: "+14155551234",
      category: "restaurant",
      task: "Reserve a table for {{guests}} at {{value2}}",
      party_size: 2,
    });
    const viaJson = await bridge(pathOf(trigger.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ guests: 4, value2: "8pm", party_size: 4 }),
    });
    expect(viaJson.status).toBe(202);
    const jsonCall = (await viaJson.json()) as { id: string };
    expect(await taskOf(jsonCall.id)).toBe("Reserve a table for 4 at 8pm");
    const sent = JSON.parse(
      (await env.DB.prepare(
        "SELECT request FROM sandbox_calls WHERE id = (SELECT upstream_id FROM calls WHERE calls.id = ?)",
      )
        .bind(jsonCall.id)
        .first<{ request: string }>())!.request,
    );
    expect(sent.submission.party_size).toBe(4);
    const viaForm = await bridge(pathOf(trigger.url), {
      method: "POST",
      body: new URLSearchParams({ guests: "2", value2: "7pm" }),
    });
    expect(await taskOf(((await viaForm.json()) as { id: string }).id)).toBe("Reserve a table for 2 at 7pm");
  });

  it("a missing placeholder value → 422 naming what to send; nothing is placed", async () => {
    const user = await linkedUser();
    const trigger = await createTrigger(user.apiKey);
    const before = await sandboxRequestCount("POST", "/v1/calls");
    const res = await bridge(pathOf(trigger.url), { method: "POST" });
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({
      code: "missing_field",
      field: "value1",
      message: expect.stringContaining("send value1"),
    });
    expect(await sandboxRequestCount("POST", "/v1/calls")).toBe(before);
  });

  it("validates the filled-in call like POST /v1/calls (emergency numbers included)", async () => {
    const user = await linkedUser();
    const trigger = await createTrigger(user.apiKey, {
      name: "Any number",
      phone: "{{value1}}",
      task: "Ask about store hours today",
    });
    expect(await errorOf(await bridge(`${pathOf(trigger.url)}?value1=911`))).toMatchObject({
      code: "emergency_number",
    });
    expect(await errorOf(await bridge(`${pathOf(trigger.url)}?value1=hello`))).toMatchObject({ code: "invalid_phone" });
    expect((await bridge(`${pathOf(trigger.url)}?value1=${encodeURIComponent("(415) 555-1234")}`)).status).toBe(202);
  });

  it("?wait=N answers the finished call", async () => {
    const user = await linkedUser();
    const trigger = await createTrigger(user.apiKey, {
      name: "Quick",
      phone: "+14155551234",
      task: "Ask about store hours today",
    });
    const startedAt = Date.now();
    const hit = bridge(`${pathOf(trigger.url)}?wait=10&format=text`);
    // End the call as soon as it exists, while the request waits for it.
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const row = await env.DB.prepare(
        "SELECT id FROM sandbox_calls WHERE created_at >= ? ORDER BY created_at DESC LIMIT 1",
      )
        .bind(startedAt)
        .first<{ id: string }>();
      if (row) {
        await endSandboxCall(row.id);
        break;
      }
    }
    const res = await hit;
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^Call to \+14155551234 succeeded/);
  }, 20_000);

  it("the key's hourly guard applies", async () => {
    const user = await linkedUser();
    const limited = (await (
      await json("/v1/keys", { name: "limited", calls_per_hour: 1 }, withKey(user.apiKey))
    ).json()) as { api_key: string };
    const trigger = await createTrigger(limited.api_key, {
      name: "Once",
      phone: "+14155551234",
      task: "Ask about store hours today",
    });
    expect((await bridge(pathOf(trigger.url))).status).toBe(202);
    const second = await bridge(pathOf(trigger.url));
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBeTruthy();
  });

  it("a revoked trigger → 404, and so does one whose key was revoked, or a made-up token", async () => {
    const user = await linkedUser();
    const trigger = await createTrigger(user.apiKey, {
      name: "Gone",
      phone: "+14155551234",
      task: "Ask about store hours today",
    });
    expect((await bridge(`/v1/triggers/${trigger.id}`, { method: "DELETE", ...withKey(user.apiKey) })).status).toBe(
      200,
    );
    const res = await bridge(pathOf(trigger.url));
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: "trigger_not_found" });
    expect((await bridge(`/v1/triggers/${trigger.id}`, withKey(user.apiKey))).status).toBe(404);

    const key = (await (await json("/v1/keys", { name: "temp" }, withKey(user.apiKey))).json()) as {
      id: string;
      api_key: string;
    };
    const orphan = await createTrigger(key.api_key, {
      name: "Orphan",
      phone: "+14155551234",
      task: "Ask about store hours today",
    });
    await bridge(`/v1/keys/${key.id}`, { method: "DELETE", ...withKey(user.apiKey) });
    expect((await bridge(pathOf(orphan.url))).status).toBe(404);
    expect((await bridge("/t/not-a-real-token-at-all-1234567890")).status).toBe(404);
  });

  it("another user cannot read or revoke my trigger", async () => {
    const [alice, bob] = [await linkedUser(), await linkedUser()];
    const trigger = await createTrigger(alice.apiKey);
    expect((await bridge(`/v1/triggers/${trigger.id}`, withKey(bob.apiKey))).status).toBe(404);
    expect((await bridge(`/v1/triggers/${trigger.id}`, { method: "DELETE", ...withKey(bob.apiKey) })).status).toBe(404);
    expect((await bridge(`/v1/triggers/${trigger.id}`, withKey(alice.apiKey))).status).toBe(200);
  });
});
