import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EXPIRE_AFTER_MS, PARK_MS, pollDelayMs } from "../../src/domain/poller";
import { linkedUser } from "../support/accounts";
import { place, placed } from "../support/calls";
import { route } from "../support/network";
import { consume, holdPlacements, takeEnqueued } from "../support/queues";
import { endSandboxCall, expireSandboxAccessTokens } from "../support/sandbox";
import { sandboxPhone } from "../support/sandbox-phones";
import { callRow, eventsOf, makeCallsDue, receiver, subscribe, tick, upstreamPolls } from "../support/webhooks";

const ageCall = (id: string, ms: number) =>
  env.DB.batch([
    env.DB.prepare("UPDATE calls SET created_at = created_at - ?1, next_poll_at = ?2 WHERE id = ?3").bind(
      ms,
      Date.now() - 1,
      id,
    ),
    env.DB.prepare(
      "UPDATE sandbox_calls SET created_at = created_at - ?1 WHERE id = (SELECT upstream_id FROM calls WHERE calls.id = ?2)",
    ).bind(ms, id),
  ]);

describe("the outcome poller", () => {
  it("does not poll in a call's first 15 seconds", async () => {
    const user = await linkedUser();
    const call = await placed(user.apiKey);
    const row = await callRow(call.id);
    expect(row!.next_poll_at! - row!.created_at).toBeGreaterThanOrEqual(14_000);
    await tick();
    expect(await upstreamPolls(call.id)).toBe(0);
  });

  it("polls a running call, records its progress, and looks again 10 s later while it is young", async () => {
    const user = await linkedUser();
    const call = await placed(user.apiKey);
    await makeCallsDue([call.id]);
    await tick();
    expect(await upstreamPolls(call.id)).toBe(1);
    const row = await callRow(call.id);
    expect(row!.status).toMatch(/queued|in_progress/);
    expect(row!.polls).toBe(1);
    expect(row!.lease_until).toBeNull();
    expect(row!.next_poll_at! - Date.now()).toBeGreaterThan(8_000);
    expect(row!.next_poll_at! - Date.now()).toBeLessThanOrEqual(10_000);
    expect(await eventsOf(call.id)).toEqual([]);
  });

  it("polls less often as calls get older", () => {
    expect(pollDelayMs(20_000)).toBe(10_000);
    expect(pollDelayMs(6 * 60_000)).toBe(60_000);
    expect(pollDelayMs(45 * 60_000)).toBe(5 * 60_000);
    expect(EXPIRE_AFTER_MS).toBe(6 * 3600_000);
  });

  it("looks every minute at a 10-minute-old call and every 5 minutes at a 1-hour-old one", async () => {
    const user = await linkedUser();
    const [a, b] = [
      await placed(user.apiKey, { phone: sandboxPhone("never"), task: "Ask about store hours today" }),
      await placed(user.apiKey, { phone: sandboxPhone("never"), task: "Ask about store hours today" }),
    ];
    await ageCall(a!.id, 10 * 60_000);
    await ageCall(b!.id, 60 * 60_000);
    await tick();
    const ra = await callRow(a!.id);
    const rb = await callRow(b!.id);
    expect(ra!.next_poll_at! - Date.now()).toBeGreaterThan(55_000);
    expect(ra!.next_poll_at! - Date.now()).toBeLessThanOrEqual(60_000);
    expect(rb!.next_poll_at! - Date.now()).toBeGreaterThan(295_000);
  });

  it("gives up at 6 hours: status expired and one call.expired (and call.completed) event", async () => {
    const user = await linkedUser();
    const hook = receiver();
    await subscribe(user.apiKey, { url: hook.url, events: ["call.expired"] });
    // 0005: the sandbox call never ends.
    const call = await placed(user.apiKey, { phone: sandboxPhone("never"), task: "Ask about store hours today" });
    await ageCall(call.id, EXPIRE_AFTER_MS + 1000);
    await tick();
    expect(await callRow(call.id)).toMatchObject({ status: "expired", next_poll_at: null });
    expect((await eventsOf(call.id)).map((e) => e.type)).toEqual(["call.completed", "call.expired"]);
    expect(hook.received).toHaveLength(1);
    expect(JSON.parse(hook.received[0]!.body)).toMatchObject({
      type: "call.expired",
      data: { id: call.id, status: "expired", finished: true },
    });
  });

  it("parks the calls of an account that must be relinked instead of retrying them every tick", async () => {
    const user = await linkedUser();
    const call = await placed(user.apiKey);
    await env.DB.prepare("UPDATE users SET link_state = 'relink_required' WHERE id = ?").bind(user.userId).run();
    await makeCallsDue([call.id]);
    await tick();
    expect(await upstreamPolls(call.id)).toBe(0);
    const row = await callRow(call.id);
    expect(row!.next_poll_at! - Date.now()).toBeGreaterThan(PARK_MS - 5_000);
    await tick();
    expect((await callRow(call.id))!.polls).toBe(1);
  });

  it("a call whose KallyAI poll fails is looked at again on its schedule", async () => {
    const user = await linkedUser();
    const call = await placed(user.apiKey);
    await makeCallsDue([call.id]);
    route("http://bridge.test", () => new Response("oops", { status: 500 }));
    await tick();
    const row = await callRow(call.id);
    expect(row!.next_poll_at).not.toBeNull();
    expect(row!.lease_until).toBeNull();
    expect(row!.next_poll_at! - Date.now()).toBeLessThanOrEqual(10_000);
  });

  it("two overlapping ticks never poll the same call: each is polled once", async () => {
    const user = await linkedUser();
    const calls = await Promise.all(
      Array.from({ length: 12 }, () =>
        placed(user.apiKey, { phone: sandboxPhone("never"), task: "Ask about store hours today" }),
      ),
    );
    await makeCallsDue(calls.map((c) => c.id));
    const before = await upstreamPolls();
    await Promise.all([tick(), tick(), tick()]);
    expect((await upstreamPolls()) - before).toBe(calls.length);
  });

  it("completes a placement whose request died before sending its message: the cron sends it once a minute overdue", async () => {
    holdPlacements();
    const user = await linkedUser();
    const key = `crash-${crypto.randomUUID()}`;
    const body = { phone: "+14155551234", task: "Ask about store hours today" };
    const first = (await (await place(user.apiKey, body, { "idempotency-key": key })).json()) as { id: string };
    // The message was lost with the request; the call waits in D1, queued.
    takeEnqueued("placements");
    await env.DB.prepare("UPDATE call_placements SET due_at = ? WHERE call_id = ?")
      .bind(Date.now() - 61_000, first.id)
      .run();
    await tick({ POLLER_OVERDUE_SECONDS: "30" });
    const [message] = takeEnqueued("placements");
    expect(message!.body).toMatchObject({ kind: "placement", call: first.id });
    await consume("placements", [message!.body]);
    expect(await callRow(first.id)).toMatchObject({ id: first.id, status: "queued" });
    expect(
      (await env.DB.prepare("SELECT upstream_id FROM calls WHERE id = ?").bind(first.id).first())!.upstream_id,
    ).toEqual(expect.any(String));
    // A retry by the caller gets the same call.
    const again = await place(user.apiKey, body, { "idempotency-key": key });
    expect(((await again.json()) as { id: string }).id).toBe(first.id);
  });

  it("deletes expired rows: rate counters, sign-in states, idempotency records older than 24 h", async () => {
    await env.DB.batch([
      env.DB.prepare("INSERT INTO rate_counters (bucket, count, expires_at) VALUES ('old-bucket', 1, ?)").bind(
        Date.now() - 1000,
      ),
      env.DB.prepare("INSERT INTO rate_counters (bucket, count, expires_at) VALUES ('live-bucket', 1, ?)").bind(
        Date.now() + 60_000,
      ),
    ]);
    const user = await linkedUser();
    await placed(user.apiKey);
    await env.DB.prepare("UPDATE placements SET created_at = ? WHERE user_id = ?")
      .bind(Date.now() - 25 * 3600_000, user.userId)
      .run();
    await tick();
    const buckets = (
      await env.DB.prepare("SELECT bucket FROM rate_counters WHERE bucket IN ('old-bucket', 'live-bucket')").all<{
        bucket: string;
      }>()
    ).results.map((r) => r.bucket);
    expect(buckets).toEqual(["live-bucket"]);
    expect(
      (await env.DB.prepare("SELECT count(*) AS n FROM placements WHERE user_id = ?")
        .bind(user.userId)
        .first<{ n: number }>())!.n,
    ).toBe(0);
  });

  it("keeps sweeping inside one tick (POLLER_SWEEP_SECONDS): a call falling due mid-tick is polled and delivered in the same tick", async () => {
    const user = await linkedUser();
    const hook = receiver();
    await subscribe(user.apiKey, { url: hook.url, events: ["call.completed"] });
    const call = await placed(user.apiKey);
    await endSandboxCall(call.id);
    await env.DB.prepare("UPDATE calls SET next_poll_at = ? WHERE id = ?")
      .bind(Date.now() + 1_500, call.id)
      .run();
    await tick({ POLLER_SWEEP_SECONDS: "4" });
    expect(hook.received).toHaveLength(1);
    expect(await callRow(call.id)).toMatchObject({ status: "success", next_poll_at: null });
  });

  it("an access token KallyAI refuses is refreshed once, and the poll goes through", async () => {
    const user = await linkedUser();
    const calls = [await placed(user.apiKey), await placed(user.apiKey)];
    for (const c of calls) await endSandboxCall(c.id);
    await expireSandboxAccessTokens();
    await makeCallsDue(calls.map((c) => c.id));
    const refreshes = () =>
      env.DB.prepare("SELECT count(*) AS n FROM sandbox_requests WHERE path = '/v1/auth/refresh'").first<{
        n: number;
      }>();
    const before = (await refreshes())!.n;
    await tick();
    for (const c of calls) expect(await callRow(c.id)).toMatchObject({ status: "success", next_poll_at: null });
    expect((await refreshes())!.n - before).toBe(1);
  });

  it("deletes events and their deliveries after 30 days", async () => {
    const user = await linkedUser();
    const hook = receiver();
    await subscribe(user.apiKey, { url: hook.url, events: ["call.completed"] });
    const [old, recent] = [await placed(user.apiKey), await placed(user.apiKey)];
    for (const c of [old!, recent!]) await endSandboxCall(c.id);
    await makeCallsDue([old!.id, recent!.id]);
    await tick();
    expect(hook.received).toHaveLength(2);
    await env.DB.prepare("UPDATE events SET created_at = ? WHERE call_id = ?")
      .bind(Date.now() - 31 * 24 * 3600_000, old!.id)
      .run();
    await tick();
    expect(await eventsOf(old!.id)).toEqual([]);
    expect((await eventsOf(recent!.id)).length).toBe(2);
    const deliveries = await env.DB.prepare(
      "SELECT count(*) AS n FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.user_id = ?",
    )
      .bind(user.userId)
      .first<{ n: number }>();
    const orphans = await env.DB.prepare(
      "SELECT count(*) AS n FROM deliveries WHERE user_id = ? AND event_id NOT IN (SELECT id FROM events)",
    )
      .bind(user.userId)
      .first<{ n: number }>();
    expect(deliveries!.n).toBe(1);
    expect(orphans!.n).toBe(0);
  });
});
