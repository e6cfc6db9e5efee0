import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import type { Bindings } from "../../src/env";
import { linkedUser, withKey } from "../support/accounts";
import { bridge, errorOf } from "../support/bridge";
import { place, restaurant, sandboxCallOf } from "../support/calls";
import { route } from "../support/network";
import { consume, consumePlacementsWith, holdPlacements, settlePlacements, takeEnqueued } from "../support/queues";
import { auth, callBody, endSandboxCall, sandboxRequestCount, sandboxSignIn } from "../support/sandbox";
import { sandboxPhone } from "../support/sandbox-phones";
import { eventsOf, tick } from "../support/webhooks";

/**
 * Background placement (docs/architecture.md) against a sandbox that answers POST /v1/calls only once
 * the call has ended, as KallyAI documents: the bridge accepts at once with its own id, the
 * consumer makes the POST and waits, and refusals still come back in the placing request.
 */
const SYNC_ORIGIN = "http://sync.test";

/** The bridge on a synchronous sandbox (its own origin in the test network), and its consumer too. */
function syncBridge(vars: Record<string, string> = {}) {
  const custom = {
    ...env,
    SANDBOX_PLACEMENT: "sync",
    SANDBOX_CALL_SECONDS: "1",
    KALLYAI_API_BASE: `${SYNC_ORIGIN}/sandbox`,
    ...vars,
  } as Bindings;
  route(SYNC_ORIGIN, (req) => app.fetch(req, custom));
  consumePlacementsWith(custom);
  const request = async (path: string, init?: RequestInit) => app.request(`http://bridge.test${path}`, init, custom);
  const placeWith = (apiKey: string, body: Record<string, unknown> = restaurant, headers = {}) =>
    request("/v1/calls", {
      method: "POST",
      ...withKey(apiKey, { "content-type": "application/json", ...headers }),
      body: JSON.stringify(body),
    });
  return { custom, request, placeWith };
}

interface Placed {
  id: string;
  status: string;
}
const placementOf = (id: string) =>
  env.DB.prepare("SELECT * FROM call_placements WHERE call_id = ?").bind(id).first<{
    state: string;
    attempts: number;
    due_at: number;
    answered: number;
    upstream_key: string;
  }>();
const callOf = (id: string) =>
  env.DB.prepare("SELECT * FROM calls WHERE id = ?").bind(id).first<{
    status: string;
    upstream_id: string | null;
    next_poll_at: number | null;
    highlights: string | null;
  }>();
const allowanceUsed = async (keyId: string) =>
  (await env.DB.prepare("SELECT coalesce(sum(count), 0) AS n FROM rate_counters WHERE bucket LIKE ?")
    .bind(`calls:${keyId}:%`)
    .first<{ n: number }>())!.n;
const sandboxCallsOfKey = async (key: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM sandbox_calls WHERE idempotency_key = ?")
    .bind(key)
    .first<{ n: number }>())!.n;

describe("placing a call in the background", () => {
  it("answers 202 within the answer window with the bridge's own id, then records KallyAI's finished call once", async () => {
    const { placeWith, request } = syncBridge({ SANDBOX_CALL_SECONDS: "2" });
    const user = await linkedUser();
    const res = await placeWith(user.apiKey);
    expect(res.status).toBe(202);
    const placed = (await res.json()) as Placed;
    // KallyAI did not refuse within the grace: the first word is "in progress".
    expect(placed.status).toBe("in_progress");
    expect((await callOf(placed.id))!.upstream_id).toBeNull();
    await settlePlacements();
    const row = (await callOf(placed.id))!;
    expect(row).toMatchObject({ status: "success", next_poll_at: null });
    expect(row.upstream_id).not.toBe(placed.id);
    expect((await sandboxCallOf(placed.id))!.idempotency_key).toBe(`bridge-${placed.id}`);
    expect(await placementOf(placed.id)).toBeNull();
    expect((await eventsOf(placed.id)).map((e) => e.type)).toEqual(["call.completed", "call.succeeded"]);
    const view = (await (await request(`/v1/calls/${placed.id}`, withKey(user.apiKey))).json()) as Placed;
    expect(view).toMatchObject({ id: placed.id, status: "success" });
  });

  it("GET ?wait on a call being placed waits on D1 and ends with the outcome", async () => {
    const { placeWith, request } = syncBridge({ SANDBOX_CALL_SECONDS: "2" });
    const user = await linkedUser();
    const placed = (await (await placeWith(user.apiKey)).json()) as Placed;
    const waited = (await (await request(`/v1/calls/${placed.id}?wait=10`, withKey(user.apiKey))).json()) as {
      status: string;
      finished: boolean;
    };
    expect(waited).toMatchObject({ status: "success", finished: true });
  });

  it("the same Idempotency-Key answers the first 202 and places nothing more", async () => {
    const { placeWith } = syncBridge();
    const user = await linkedUser();
    const posts = await sandboxRequestCount("POST", "/v1/calls");
    const first = (await (await placeWith(user.apiKey, restaurant, { "idempotency-key": "k1" })).json()) as Placed;
    const again = (await (await placeWith(user.apiKey, restaurant, { "idempotency-key": "k1" })).json()) as Placed;
    expect(again.id).toBe(first.id);
    await settlePlacements();
    expect(await sandboxCallsOfKey(`bridge-${first.id}`)).toBe(1);
    expect(await sandboxRequestCount("POST", "/v1/calls")).toBe(posts + 1);
  });
});

describe("fast refusals, in the placing request", () => {
  it.each([
    ["a flagged number", { ...restaurant, phone: sandboxPhone("blocked") }, 403, "blocked_number"],
    ["a threatening task", { ...restaurant, task: "Tell them I will kill them" }, 422, "safety_violation"],
  ])("%s: KallyAI's refusal is the answer, and no call is kept", async (_what, body, status, code) => {
    const { placeWith } = syncBridge();
    const user = await linkedUser();
    const res = await placeWith(user.apiKey, body);
    expect(res.status).toBe(status);
    expect(await errorOf(res)).toMatchObject({ code });
    await settlePlacements();
    const calls = await env.DB.prepare("SELECT count(*) AS n FROM calls WHERE user_id = ?").bind(user.userId).first();
    expect(calls).toEqual({ n: 0 });
    expect(await allowanceUsed(user.keyId)).toBe(0);
  });

  it("a bare 402 becomes 402 quota_exceeded with KallyAI's upgrade_url", async () => {
    const { placeWith } = syncBridge();
    const user = await linkedUser(`broke-${crypto.randomUUID()}+calls0@example.com`);
    const res = await placeWith(user.apiKey);
    expect(res.status).toBe(402);
    const error = await errorOf(res);
    expect(error).toMatchObject({ code: "quota_exceeded", upgrade_url: "http://sync.test/sandbox/top-up" });
    expect(error.message).toContain("http://sync.test/sandbox/top-up");
  });

  it("a refusal after the 202 ends the call failed with KallyAI's code, emits call.failed, and gives the allowance back", async () => {
    holdPlacements();
    const { placeWith, custom } = syncBridge({ PLACEMENT_ANSWER_WINDOW_MS: "0" });
    const user = await linkedUser();
    const res = await placeWith(user.apiKey, { ...restaurant, phone: sandboxPhone("blocked") });
    expect(res.status).toBe(202);
    const placed = (await res.json()) as Placed;
    expect(placed.status).toBe("queued");
    expect(await allowanceUsed(user.keyId)).toBe(1);
    const [message] = takeEnqueued("placements");
    await consume("placements", [message!.body], 1, custom);
    const row = (await callOf(placed.id))!;
    expect(row).toMatchObject({ status: "failed", next_poll_at: null, upstream_id: null });
    expect(row.highlights).toContain("blocked_number");
    expect((await eventsOf(placed.id)).map((e) => e.type)).toEqual(["call.completed", "call.failed"]);
    expect(await allowanceUsed(user.keyId)).toBe(0);
    expect(await placementOf(placed.id)).toBeNull();
  });
});

describe("cancelling", () => {
  it("a call not yet handed to KallyAI is cancelled here and never placed; its allowance comes back", async () => {
    holdPlacements();
    const { placeWith, request, custom } = syncBridge({ PLACEMENT_ANSWER_WINDOW_MS: "0" });
    const user = await linkedUser();
    const posts = await sandboxRequestCount("POST", "/v1/calls");
    const placed = (await (await placeWith(user.apiKey)).json()) as Placed;
    const res = await request(`/v1/calls/${placed.id}/cancel`, { method: "POST", ...withKey(user.apiKey) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: placed.id, status: "cancelled", finished: true });
    const [message] = takeEnqueued("placements");
    await consume("placements", [message!.body], 1, custom);
    expect(await sandboxRequestCount("POST", "/v1/calls")).toBe(posts);
    expect((await eventsOf(placed.id)).map((e) => e.type)).toEqual(["call.completed", "call.failed"]);
    expect(await allowanceUsed(user.keyId)).toBe(0);
    const again = await request(`/v1/calls/${placed.id}/cancel`, { method: "POST", ...withKey(user.apiKey) });
    expect(await errorOf(again)).toMatchObject({ code: "call_already_ended" });
  });

  it("a call whose POST is under way answers 409 cannot_cancel", async () => {
    const { placeWith, request } = syncBridge({ SANDBOX_CALL_SECONDS: "3" });
    const user = await linkedUser();
    const placed = (await (await placeWith(user.apiKey)).json()) as Placed;
    expect(placed.status).toBe("in_progress");
    const res = await request(`/v1/calls/${placed.id}/cancel`, { method: "POST", ...withKey(user.apiKey) });
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toMatchObject({ code: "cannot_cancel" });
  });

  it("a call KallyAI has, when KallyAI does not offer cancelling (405), answers 409 cannot_cancel", async () => {
    const user = await linkedUser();
    const id = await insertCall(user.userId, { upstream_id: "up-cancel", status: "in_progress" });
    route("http://fake.test", () => new Response(JSON.stringify({ detail: "Method Not Allowed" }), { status: 405 }));
    const res = await fakeUpstream(`/v1/calls/${id}/cancel`, { method: "POST", ...withKey(user.apiKey) });
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toMatchObject({ code: "cannot_cancel" });
  });
});

/** The bridge with KallyAI at http://fake.test (a test route answers for it). */
const fakeUpstream = (path: string, init?: RequestInit) =>
  app.request(`http://bridge.test${path}`, init, { ...env, KALLYAI_API_BASE: "http://fake.test" } as Bindings);

async function insertCall(userId: string, c: { upstream_id: string | null; status: string }) {
  const id = crypto.randomUUID();
  const upstreamId = c.upstream_id && `${c.upstream_id}-${id}`;
  await env.DB.prepare(
    `INSERT INTO calls (id, user_id, status, request, created_at, updated_at, next_poll_at, upstream_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(id, userId, c.status, JSON.stringify(callBody("+14155551234")), Date.now(), Date.now(), null, upstreamId)
    .run();
  return id;
}

describe("recording", () => {
  it.each([
    ["405", () => new Response("", { status: 405 }), "recording_not_available"],
    [
      "a bare 404",
      () => new Response(JSON.stringify({ detail: "Not Found" }), { status: 404 }),
      "recording_not_available",
    ],
    [
      "KallyAI's own recording_not_found",
      () =>
        new Response(JSON.stringify({ error: { code: "recording_not_found", details: { message: "none" } } }), {
          status: 404,
        }),
      "recording_not_found",
    ],
  ])("an upstream %s → 404 (%#), not call_not_found", async (_what, answer, code) => {
    const user = await linkedUser();
    const id = await insertCall(user.userId, { upstream_id: "up-rec", status: "success" });
    route("http://fake.test", answer);
    const res = await fakeUpstream(`/v1/calls/${id}/recording`, withKey(user.apiKey));
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code });
  });

  it("the documented sandbox offers none, as KallyAI's reference: an ended call's recording is recording_not_available", async () => {
    const { placeWith, request } = syncBridge();
    const user = await linkedUser();
    const placed = (await (await placeWith(user.apiKey)).json()) as Placed;
    await settlePlacements();
    expect((await callOf(placed.id))!.status).toBe("success");
    const res = await request(`/v1/calls/${placed.id}/recording`, withKey(user.apiKey));
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: "recording_not_available" });
  });
});

describe("recovery", () => {
  it("a consumer that died mid-call: the cron queues it again, the retry POSTs the same key, and KallyAI placed one call", async () => {
    holdPlacements();
    const { placeWith, custom } = syncBridge({ PLACEMENT_ANSWER_WINDOW_MS: "0", SANDBOX_CALL_SECONDS: "1.5" });
    const { accessToken, refreshToken } = await sandboxSignIn();
    const linked = await bridge("/v1/link", {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": crypto.randomUUID() },
      body: JSON.stringify({ refresh_token: refreshToken }),
    });
    const user = (await linked.json()) as { api_key: string };
    const placed = (await (await placeWith(user.api_key)).json()) as Placed;
    takeEnqueued("placements");
    // The consumer took the placement and sent its POST; then it vanished, and its lease ran out.
    const key = `bridge-${placed.id}`;
    const { request } = (await env.DB.prepare("SELECT request FROM calls WHERE id = ?")
      .bind(placed.id)
      .first<{ request: string }>())!;
    const deadConsumersPost = app.fetch(
      new Request(`${SYNC_ORIGIN}/sandbox/v1/calls`, {
        method: "POST",
        headers: { ...auth(accessToken), "content-type": "application/json", "idempotency-key": key },
        body: request,
      }),
      custom,
    );
    while ((await sandboxCallsOfKey(key)) === 0) await new Promise((r) => setTimeout(r, 50));
    await env.DB.prepare("UPDATE call_placements SET state = 'sending', attempts = 1, due_at = ? WHERE call_id = ?")
      .bind(Date.now() - 1, placed.id)
      .run();
    await tick(custom);
    expect(await placementOf(placed.id)).toMatchObject({ state: "queued" });
    const [message] = takeEnqueued("placements");
    expect(message!.body).toMatchObject({ kind: "placement", call: placed.id });
    await consume("placements", [message!.body], 1, custom);
    await deadConsumersPost;
    expect(await sandboxCallsOfKey(key)).toBe(1);
    expect(await callOf(placed.id)).toMatchObject({ status: "success", next_poll_at: null });
    expect((await eventsOf(placed.id)).filter((e) => e.type === "call.completed")).toHaveLength(1);
  });

  it("a POST that outlasts PLACEMENT_TIMEOUT is queued again, and the retry gets the same call", async () => {
    holdPlacements();
    const { placeWith, custom } = syncBridge({ PLACEMENT_ANSWER_WINDOW_MS: "0", PLACEMENT_TIMEOUT_SECONDS: "1" });
    const user = await linkedUser();
    const placed = (await (
      await placeWith(user.apiKey, { ...restaurant, phone: sandboxPhone("never") })
    ).json()) as Placed;
    const [first] = takeEnqueued("placements");
    await consume("placements", [first!.body], 1, custom);
    expect(await placementOf(placed.id)).toMatchObject({ state: "queued", attempts: 1 });
    const [retry] = takeEnqueued("placements");
    expect(retry!.delaySeconds).toBe(10);
    // The call ends at KallyAI; the retry, due now, POSTs the same key.
    await env.DB.prepare("UPDATE sandbox_calls SET outcome = 'busy', ends_at = ? WHERE idempotency_key = ?")
      .bind(Date.now() - 1, `bridge-${placed.id}`)
      .run();
    await env.DB.prepare("UPDATE call_placements SET due_at = ? WHERE call_id = ?").bind(Date.now(), placed.id).run();
    await consume("placements", [retry!.body], 1, custom);
    expect(await callOf(placed.id)).toMatchObject({ status: "busy" });
    expect(await sandboxCallsOfKey(`bridge-${placed.id}`)).toBe(1);
  });

  it("KallyAI failing (500) leaves the placement queued for a later attempt with the same key", async () => {
    holdPlacements();
    const { placeWith, custom } = syncBridge({ PLACEMENT_ANSWER_WINDOW_MS: "0" });
    const user = await linkedUser();
    const placed = (await (
      await placeWith(user.apiKey, { ...restaurant, phone: sandboxPhone("fault:500") })
    ).json()) as Placed;
    const [message] = takeEnqueued("placements");
    await consume("placements", [message!.body], 1, custom);
    expect(await placementOf(placed.id)).toMatchObject({ state: "queued", attempts: 1 });
    expect(takeEnqueued("placements").map((m) => m.delaySeconds)).toEqual([10]);
    expect(await callOf(placed.id)).toMatchObject({ upstream_id: null, next_poll_at: expect.any(Number) });
  });

  it("a lost message: the cron sends a placement that is a minute past due again", async () => {
    holdPlacements();
    const { placeWith, custom } = syncBridge({ PLACEMENT_ANSWER_WINDOW_MS: "0" });
    const user = await linkedUser();
    const placed = (await (await placeWith(user.apiKey)).json()) as Placed;
    takeEnqueued("placements");
    await tick(custom);
    expect(takeEnqueued("placements")).toEqual([]);
    await env.DB.prepare("UPDATE call_placements SET due_at = ? WHERE call_id = ?")
      .bind(Date.now() - 61_000, placed.id)
      .run();
    await tick(custom);
    expect(takeEnqueued("placements").map((m) => m.body.call)).toEqual([placed.id]);
  });

  it("a refusal the placing request never answered: the cron ends the call failed", async () => {
    holdPlacements();
    const { placeWith, custom } = syncBridge({ PLACEMENT_ANSWER_WINDOW_MS: "0" });
    const user = await linkedUser();
    const placed = (await (await placeWith(user.apiKey)).json()) as Placed;
    const refusal = { status: 422, code: "safety_violation", message: "Rephrase the task." };
    await env.DB.prepare(
      "UPDATE call_placements SET state = 'refused', answered = 0, refusal = ?, due_at = ? WHERE call_id = ?",
    )
      .bind(JSON.stringify(refusal), Date.now() - 1, placed.id)
      .run();
    await tick(custom);
    expect(await callOf(placed.id)).toMatchObject({ status: "failed" });
    expect((await eventsOf(placed.id)).map((e) => e.type)).toEqual(["call.completed", "call.failed"]);
    expect(await allowanceUsed(user.keyId)).toBe(0);
  });

  it("a placement older than 6 hours ends expired when a consumer takes it", async () => {
    holdPlacements();
    const { placeWith, custom } = syncBridge({ PLACEMENT_ANSWER_WINDOW_MS: "0" });
    const user = await linkedUser();
    const posts = await sandboxRequestCount("POST", "/v1/calls");
    const placed = (await (await placeWith(user.apiKey)).json()) as Placed;
    const [message] = takeEnqueued("placements");
    await env.DB.prepare("UPDATE calls SET created_at = created_at - ? WHERE id = ?")
      .bind(6 * 3600_000 + 1, placed.id)
      .run();
    await consume("placements", [message!.body], 1, custom);
    expect(await callOf(placed.id)).toMatchObject({ status: "expired" });
    expect((await eventsOf(placed.id)).map((e) => e.type)).toEqual(["call.completed", "call.expired"]);
    expect(await sandboxRequestCount("POST", "/v1/calls")).toBe(posts);
  });
});

describe("KallyAI answering at once (SANDBOX_PLACEMENT=async)", () => {
  it("the poller takes the call over: KallyAI's id recorded, first poll in 15 s", async () => {
    const user = await linkedUser();
    const res = await place(user.apiKey);
    const placed = (await res.json()) as Placed;
    await settlePlacements();
    const row = (await callOf(placed.id))!;
    expect(row.upstream_id).toEqual(expect.any(String));
    expect(row.status).toBe("queued");
    expect(row.next_poll_at! - Date.now()).toBeGreaterThan(10_000);
    expect(takeEnqueued("polls").map((m) => m.body.call)).toEqual([placed.id]);
  });
});

describe("GET /v1/calls/{id}/calendar.ics", () => {
  it("proxies KallyAI's event for a call that booked something; 404 calendar_not_found otherwise", async () => {
    const user = await linkedUser();
    const booked = (await (
      await place(user.apiKey, { ...restaurant, date: "2026-01-28", time: "20:00" })
    ).json()) as Placed;
    const plain = (await (
      await place(user.apiKey, { phone: "+14155551234", task: "Ask about store hours" })
    ).json()) as Placed;
    await settlePlacements();
    for (const id of [booked.id, plain.id]) await endSandboxCall((await sandboxCallOf(id))!.id);
    const ics = await bridge(`/v1/calls/${booked.id}/calendar.ics`, withKey(user.apiKey));
    expect(ics.status).toBe(200);
    expect(ics.headers.get("content-type")).toContain("text/calendar");
    expect(await ics.text()).toContain("BEGIN:VEVENT");
    const none = await bridge(`/v1/calls/${plain.id}/calendar.ics`, withKey(user.apiKey));
    expect(none.status).toBe(404);
    expect(await errorOf(none)).toMatchObject({ code: "calendar_not_found" });
  });

  it("needs calls:read, and another user's call is 404", async () => {
    const [a, b] = [await linkedUser(), await linkedUser()];
    const placed = (await (await place(a.apiKey)).json()) as Placed;
    expect((await bridge(`/v1/calls/${placed.id}/calendar.ics`, withKey(b.apiKey))).status).toBe(404);
    expect((await bridge(`/v1/calls/${placed.id}/calendar.ics`)).status).toBe(401);
  });
});
