import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { linkedUser, withKey } from "../support/accounts";
import { bridge, errorOf, json } from "../support/bridge";
import { blocked } from "../support/network";
import { sandboxRequestTotal } from "../support/sandbox";

const call = { phone: "+14155551234", task: "Ask whether they are open today" };

async function trigger(apiKey: string, fields: Record<string, unknown>) {
  return json("/v1/triggers", { name: "t", ...fields }, withKey(apiKey));
}
async function triggerPath(apiKey: string, fields: Record<string, unknown>) {
  const res = await trigger(apiKey, fields);
  expect(res.status).toBe(201);
  return new URL(((await res.json()) as { url: string }).url).pathname;
}

describe("inputs that used to answer 500", () => {
  it('country {"toString": 1} on POST /v1/calls is a 422', async () => {
    const user = await linkedUser();
    const res = await json("/v1/calls", { ...call, task: "short", country: { toString: 1 } }, withKey(user.apiKey));
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({ code: "validation_error" });
  });

  it('value1 {"toString": null} on a trigger URL is a 422 naming value1', async () => {
    const user = await linkedUser();
    const path = await triggerPath(user.apiKey, { ...call, task: "Ask whether they have {{value1}} in stock" });
    const res = await json(path, { value1: { toString: null } });
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({ code: "validation_error", field: "value1" });
  });

  it("a call id with NUL or LF is refused before it reaches KallyAI's URL or headers", async () => {
    const user = await linkedUser();
    const before = await sandboxRequestTotal();
    for (const id of ["x%00y", "x%0Ay", "x%0D%0ASet-Cookie:%20a=b", "%E2%80%AF"]) {
      for (const [method, suffix] of [
        ["POST", "/cancel"],
        ["GET", ""],
        ["GET", "/transcript"],
        ["GET", "/recording"],
      ] as const) {
        const res = await bridge(`/v1/calls/${id}${suffix}`, { method, ...withKey(user.apiKey) });
        expect(res.status, `${method} ${id}${suffix}`).toBe(422);
        expect(await errorOf(res)).toMatchObject({ code: "validation_error", field: "id" });
      }
    }
    expect(await sandboxRequestTotal()).toBe(before);
    expect(blocked).toEqual([]);
  });

  it("GET /v1/calls?status= with 120 values answers (repeats count once), and a bogus status is a 422", async () => {
    const user = await linkedUser();
    const many = await bridge(`/v1/calls?status=${Array(120).fill("success").join(",")}`, withKey(user.apiKey));
    expect(many.status).toBe(200);
    const mixed = await bridge("/v1/calls?status=success,%20voicemail,expired,queued", withKey(user.apiKey));
    expect(mixed.status).toBe(200);
    const bogus = await bridge("/v1/calls?status=bogus", withKey(user.apiKey));
    expect(bogus.status).toBe(422);
    expect(await errorOf(bogus)).toMatchObject({ code: "validation_error", field: "status" });
    expect((await errorOf(await bridge("/v1/calls?status=success,bogus", withKey(user.apiKey)))).message).toContain(
      "no_answer",
    );
  });
});

describe("idempotency keys that are not ASCII", () => {
  const shortcutsDate = "Nov 25, 2026 at 9:41\u202fPM";

  it("a key with U+202F (iOS dates) is accepted and replays; KallyAI gets the call's own ASCII key", async () => {
    const user = await linkedUser();
    const first = await json("/v1/calls", { ...call, idempotency_key: shortcutsDate }, withKey(user.apiKey));
    expect(first.status).toBe(202);
    const again = await json("/v1/calls", { ...call, idempotency_key: shortcutsDate }, withKey(user.apiKey));
    expect(again.status).toBe(202);
    const { id } = (await first.json()) as { id: string };
    expect(((await again.json()) as { id: string }).id).toBe(id);
    const row = await env.DB.prepare(
      "SELECT idempotency_key FROM sandbox_calls WHERE id = (SELECT upstream_id FROM calls WHERE calls.id = ?)",
    )
      .bind(id)
      .first<{ idempotency_key: string }>();
    expect(row!.idempotency_key).toBe(`bridge-${id}`);
  });

  it("in the Idempotency-Key header too", async () => {
    const user = await linkedUser();
    const res = await json("/v1/calls", call, withKey(user.apiKey, { "idempotency-key": shortcutsDate }));
    expect(res.status).toBe(202);
  });

  it("a plain ASCII key stays the bridge's: KallyAI gets the call's own key, the same on every attempt", async () => {
    const user = await linkedUser();
    const res = await json("/v1/calls", { ...call, idempotency_key: "zap-run-42" }, withKey(user.apiKey));
    const { id } = (await res.json()) as { id: string };
    const row = await env.DB.prepare(
      "SELECT idempotency_key FROM sandbox_calls WHERE id = (SELECT upstream_id FROM calls WHERE calls.id = ?)",
    )
      .bind(id)
      .first<{ idempotency_key: string }>();
    expect(row!.idempotency_key).toBe(`bridge-${id}`);
  });

  it("a key that is not text, or longer than 255 characters, is a 422", async () => {
    const user = await linkedUser();
    const nested = {
      submission: { task_category: "general", task_description: call.task, respondent_phone: call.phone },
      timezone: "UTC",
    };
    for (const key of [{ a: 1 }, "k".repeat(256)]) {
      const res = await json("/v1/calls", { ...nested, idempotency_key: key }, withKey(user.apiKey));
      expect(res.status).toBe(422);
      expect(await errorOf(res)).toMatchObject({ field: "idempotency_key" });
    }
  });
});

describe("trigger templates", () => {
  it("{{constructor}} and {{__proto__}} fill only from fields the hit sent, never from what objects inherit", async () => {
    const user = await linkedUser();
    for (const name of ["constructor", "__proto__", "toString"]) {
      const path = await triggerPath(user.apiKey, { ...call, task: `Ask whether they have {{${name}}} in stock` });
      const res = await json(path, { value1: "oat milk" });
      expect(res.status, name).toBe(422);
      expect(await errorOf(res), name).toMatchObject({ code: "missing_field", field: name });
      const sent = await bridge(`${path}?${name}=oat%20milk`);
      expect(sent.status, name).toBe(202);
      const { id } = (await sent.json()) as { id: string };
      const request = await env.DB.prepare(
        "SELECT request FROM sandbox_calls WHERE id = (SELECT upstream_id FROM calls WHERE calls.id = ?)",
      )
        .bind(id)
        .first<{ request: string }>();
      expect(JSON.parse(request!.request).submission.task_description, name).toBe(
        "Ask whether they have oat milk in stock",
      );
    }
  });

  it("a trigger whose phone is an emergency, premium-rate or unsupported number is refused when it is created", async () => {
    const user = await linkedUser();
    for (const [phone, status, code] of [
      ["911", 422, "emergency_number"],
      ["+1 (911)", 422, "emergency_number"],
      ["112", 422, "emergency_number"],
      ["+1 900 555 0100", 422, "toll_number"],
      ["+86 10 6552 9988", 403, "country_restriction"],
      ["not a number", 422, "invalid_phone"],
    ] as const) {
      const res = await trigger(user.apiKey, { ...call, phone });
      expect(res.status, phone).toBe(status);
      expect(await errorOf(res), phone).toMatchObject({ code });
    }
    expect((await trigger(user.apiKey, { ...call, phone: "{{value1}}" })).status).toBe(201);
  });
});
