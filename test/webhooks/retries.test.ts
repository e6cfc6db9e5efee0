import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { linkedUser, withKey } from "../support/accounts";
import { bridge } from "../support/bridge";
import { placed } from "../support/calls";
import { endSandboxCall } from "../support/sandbox";
import { getJson, makeCallsDue, makeDeliveriesDue, receiver, subscribe, tick } from "../support/webhooks";

interface Delivery {
  id: string;
  event_id: string;
  event_type: string;
  state: string;
  attempts: number;
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  attempt_log: Array<{ attempt: number; at: string; status_code: number | null; error: string | null }>;
}

/** A user with a subscription to `answer`'s receiver and one finished call whose event is pending delivery. */
async function finishedCallFor(answer: Parameters<typeof receiver>[1]) {
  const user = await linkedUser();
  const hook = receiver(undefined, answer);
  const sub = await subscribe(user.apiKey, { url: hook.url, events: ["call.completed"] });
  const call = await placed(user.apiKey);
  await endSandboxCall(call.id);
  await makeCallsDue([call.id]);
  return { user, hook, sub, call };
}

const deliveriesOf = async (apiKey: string, webhookId: string) =>
  (await getJson<{ items: Delivery[] }>(apiKey, `/v1/webhooks/${webhookId}/deliveries`)).items;

describe("delivery retries", () => {
  it("a receiver failing 3 times then answering 200 gets the event 4 times in all, with the same webhook-id, then nothing more", async () => {
    const { user, hook, sub } = await finishedCallFor(
      (n) => new Response(n <= 3 ? "down" : "ok", { status: n <= 3 ? 500 : 200 }),
    );
    await tick();
    let [d] = await deliveriesOf(user.apiKey, sub.id);
    expect(d).toMatchObject({ state: "pending", attempts: 1, last_status: 500 });
    // The second attempt is scheduled 5 s after the first, the third 5 min after the second.
    expect(Date.parse(d!.next_attempt_at!) - Date.parse(d!.attempt_log[0]!.at)).toBeGreaterThanOrEqual(5_000);
    await makeDeliveriesDue(user.userId);
    await tick();
    [d] = await deliveriesOf(user.apiKey, sub.id);
    const gap = Date.parse(d!.next_attempt_at!) - Date.parse(d!.attempt_log[1]!.at);
    expect(gap).toBeGreaterThanOrEqual(0.9 * 5 * 60_000);
    expect(gap).toBeLessThanOrEqual(1.1 * 5 * 60_000);
    for (let i = 0; i < 4; i++) {
      await makeDeliveriesDue(user.userId);
      await tick();
    }
    expect(hook.received).toHaveLength(4);
    const ids = new Set(hook.received.map((r) => r.headers["webhook-id"]));
    expect(ids.size).toBe(1);
    for (const r of hook.received) new Webhook(sub.secret).verify(r.body, r.headers);
    [d] = await deliveriesOf(user.apiKey, sub.id);
    expect(d).toMatchObject({
      state: "succeeded",
      attempts: 4,
      last_status: 200,
      next_attempt_at: null,
      event_type: "call.completed",
    });
    expect(d!.event_id).toBe([...ids][0]);
    expect(d!.attempt_log.map((a) => a.status_code)).toEqual([500, 500, 500, 200]);
  });

  it("a receiver answering 410 Gone is unsubscribed", async () => {
    const { user, hook, sub } = await finishedCallFor(() => new Response("gone", { status: 410 }));
    await tick();
    expect(hook.received).toHaveLength(1);
    expect((await bridge(`/v1/webhooks/${sub.id}`, withKey(user.apiKey))).status).toBe(404);
    expect((await getJson<{ items: unknown[] }>(user.apiKey, "/v1/webhooks")).items).toHaveLength(0);
    await makeDeliveriesDue(user.userId);
    await tick();
    expect(hook.received).toHaveLength(1);
  });

  it("a receiver failing past the whole schedule ends failed, with its 10 attempts listed", async () => {
    const { user, hook, sub } = await finishedCallFor(() => new Response("nope", { status: 500 }));
    for (let i = 0; i < 12; i++) {
      await makeDeliveriesDue(user.userId);
      await tick();
    }
    expect(hook.received).toHaveLength(10);
    const [d] = await deliveriesOf(user.apiKey, sub.id);
    expect(d).toMatchObject({
      state: "failed",
      attempts: 10,
      next_attempt_at: null,
      last_status: 500,
      last_error: "HTTP 500",
    });
    expect(d!.attempt_log.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Failing for 3 days is not yet 5: the subscription stays active.
    expect((await getJson<{ state: string }>(user.apiKey, `/v1/webhooks/${sub.id}`)).state).toBe("active");
  });

  it("does not follow redirects, and a timeout-free network failure counts as a failed attempt", async () => {
    const { user, sub } = await finishedCallFor((n) =>
      n === 1
        ? new Response(null, { status: 302, headers: { location: "https://elsewhere.test/" } })
        : Promise.reject(new Error("connection reset")),
    );
    await tick();
    await makeDeliveriesDue(user.userId);
    await tick();
    const [d] = await deliveriesOf(user.apiKey, sub.id);
    expect(d!.attempt_log[0]).toMatchObject({
      status_code: 302,
      error: expect.stringContaining("redirects are not followed"),
    });
    expect(d!.attempt_log[1]).toMatchObject({ status_code: null, error: expect.stringContaining("connection failed") });
  });

  it("honours Retry-After on 429 and 503", async () => {
    const { user, sub } = await finishedCallFor(
      (n) =>
        new Response("slow down", {
          status: n === 1 ? 429 : 503,
          headers: { "retry-after": n === 1 ? "3600" : new Date(Date.now() + 7200_000).toUTCString() },
        }),
    );
    await tick();
    let [d] = await deliveriesOf(user.apiKey, sub.id);
    expect(Date.parse(d!.next_attempt_at!) - Date.parse(d!.attempt_log[0]!.at)).toBeGreaterThanOrEqual(3600_000 - 1000);
    await makeDeliveriesDue(user.userId);
    await tick();
    [d] = await deliveriesOf(user.apiKey, sub.id);
    expect(Date.parse(d!.next_attempt_at!) - Date.parse(d!.attempt_log[1]!.at)).toBeGreaterThanOrEqual(7200_000 - 5000);
  });

  it("disables a subscription whose deliveries have failed for 5 days, with the reason on GET", async () => {
    const { user, hook, sub } = await finishedCallFor(() => new Response("nope", { status: 500 }));
    await tick();
    expect((await getJson<{ state: string }>(user.apiKey, `/v1/webhooks/${sub.id}`)).state).toBe("active");
    await env.DB.prepare("UPDATE webhooks SET failing_since = ? WHERE id = ?")
      .bind(Date.now() - 5 * 24 * 3600_000 - 1000, sub.id)
      .run();
    await makeDeliveriesDue(user.userId);
    await tick();
    const w = await getJson<{ state: string; disabled_reason: string; disabled_at: string }>(
      user.apiKey,
      `/v1/webhooks/${sub.id}`,
    );
    expect(w).toMatchObject({ state: "disabled", disabled_reason: expect.stringContaining("5 days") });
    const [d] = await deliveriesOf(user.apiKey, sub.id);
    expect(d).toMatchObject({ state: "failed", next_attempt_at: null });
    const sent = hook.received.length;
    await makeDeliveriesDue(user.userId);
    await tick();
    expect(hook.received).toHaveLength(sent);
  });

  it("a success clears the failure streak", async () => {
    const { user, sub } = await finishedCallFor((n) => new Response("", { status: n === 1 ? 500 : 204 }));
    await tick();
    expect(
      (await env.DB.prepare("SELECT failing_since FROM webhooks WHERE id = ?")
        .bind(sub.id)
        .first<{ failing_since: number | null }>())!.failing_since,
    ).not.toBeNull();
    await makeDeliveriesDue(user.userId);
    await tick();
    expect(
      (await env.DB.prepare("SELECT failing_since FROM webhooks WHERE id = ?")
        .bind(sub.id)
        .first<{ failing_since: number | null }>())!.failing_since,
    ).toBeNull();
    expect((await deliveriesOf(user.apiKey, sub.id))[0]).toMatchObject({ state: "succeeded", last_status: 204 });
  });

  it("POST /v1/deliveries/{id}/retry replays a failed delivery now, with the same webhook-id", async () => {
    let up = false;
    const { user, hook, sub } = await finishedCallFor(() => new Response("", { status: up ? 200 : 500 }));
    for (let i = 0; i < 10; i++) {
      await makeDeliveriesDue(user.userId);
      await tick();
    }
    let [d] = await deliveriesOf(user.apiKey, sub.id);
    expect(d!.state).toBe("failed");
    up = true;
    const res = await bridge(`/v1/deliveries/${d!.id}/retry`, { method: "POST", ...withKey(user.apiKey) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id: d!.id,
      state: "succeeded",
      attempts: 11,
      last_status: 200,
      subscription_removed: false,
    });
    expect(hook.received).toHaveLength(11);
    expect(hook.received.at(-1)!.headers["webhook-id"]).toBe(hook.received[0]!.headers["webhook-id"]);
    new Webhook(sub.secret).verify(hook.received.at(-1)!.body, hook.received.at(-1)!.headers);
    [d] = await deliveriesOf(user.apiKey, sub.id);
    expect(d).toMatchObject({ state: "succeeded", attempts: 11 });

    const other = await linkedUser();
    expect((await bridge(`/v1/deliveries/${d!.id}/retry`, { method: "POST", ...withKey(other.apiKey) })).status).toBe(
      404,
    );
  });

  it("a delivery whose tick died while sending it (lease left behind) is sent by a later tick once the lease runs out", async () => {
    const { user, hook, call } = await finishedCallFor(() => new Response("ok"));
    // The outcome is recorded (here by a GET) with its event and pending delivery...
    await getJson(user.apiKey, `/v1/calls/${call.id}`);
    // ...and a tick took the delivery, then died before sending it.
    await env.DB.prepare("UPDATE deliveries SET lease_until = ? WHERE user_id = ?")
      .bind(Date.now() + 60_000, user.userId)
      .run();
    await tick();
    expect(hook.received).toHaveLength(0);
    await env.DB.prepare("UPDATE deliveries SET lease_until = ? WHERE user_id = ?")
      .bind(Date.now() - 1, user.userId)
      .run();
    await tick();
    expect(hook.received).toHaveLength(1);
    expect(JSON.parse(hook.received[0]!.body).data.id).toBe(call.id);
  });
});
