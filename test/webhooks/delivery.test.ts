import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { linkedUser } from "../support/accounts";
import { placed } from "../support/calls";
import { endSandboxCall } from "../support/sandbox";
import { sandboxPhone } from "../support/sandbox-phones";
import { eventsOf, getJson, makeCallsDue, receiver, subscribe, tick } from "../support/webhooks";

describe("outcome → signed webhook delivery", () => {
  it("delivers call.completed once, signed per Standard Webhooks, with the normalized call", async () => {
    const user = await linkedUser();
    const hook = receiver();
    const sub = await subscribe(user.apiKey, { url: hook.url, events: ["call.completed"], description: "test" });
    expect(sub).toMatchObject({
      id: expect.stringMatching(/^wh_/),
      url: hook.url,
      events: ["call.completed"],
      secret: expect.stringMatching(/^whsec_/),
    });
    expect(atob(sub.secret.slice(6)).length).toBeGreaterThanOrEqual(24);

    const call = await placed(user.apiKey);
    await endSandboxCall(call.id);
    await makeCallsDue([call.id]);
    await tick();

    expect(hook.received).toHaveLength(1);
    const [got] = hook.received;
    const verified = new Webhook(sub.secret).verify(got!.body, got!.headers) as {
      type: string;
      timestamp: string;
      data: Record<string, unknown>;
    };
    expect(verified).not.toHaveProperty("test");
    expect(verified).toMatchObject({
      id: got!.headers["webhook-id"],
      type: "call.completed",
      data: { id: call.id, status: "success", finished: true, business: "Italian Bistro", phone: "+14155551234" },
    });
    expect(verified.data.highlights).toEqual(expect.stringContaining("Italian Bistro"));
    expect(Date.parse(verified.timestamp)).not.toBeNaN();
    const events = await eventsOf(call.id);
    expect(got!.headers["webhook-id"]).toBe(events.find((e) => e.type === "call.completed")!.id);
    expect(got!.headers["content-type"]).toContain("application/json");

    // The outcome is recorded, and later ticks send nothing more.
    const row = await env.DB.prepare("SELECT status, next_poll_at, duration_seconds FROM calls WHERE id = ?")
      .bind(call.id)
      .first<{ status: string; next_poll_at: number | null; duration_seconds: number }>();
    expect(row).toMatchObject({ status: "success", next_poll_at: null });
    expect(row!.duration_seconds).toBeGreaterThan(0);
    await makeCallsDue();
    await tick();
    await tick();
    expect(hook.received).toHaveLength(1);
    expect(events.map((e) => e.type)).toEqual(["call.completed", "call.succeeded"]);
  });

  it("sends call.failed (not call.succeeded) for a busy line, to the subscriptions that asked for it", async () => {
    const user = await linkedUser();
    const failed = receiver("https://failed.test");
    const succeeded = receiver("https://succeeded.test");
    const subFailed = await subscribe(user.apiKey, { url: failed.url, events: ["call.failed"] });
    await subscribe(user.apiKey, { url: succeeded.url, events: ["call.succeeded"] });
    const call = await placed(user.apiKey, { phone: sandboxPhone("busy"), task: "Ask about store hours today" });
    await endSandboxCall(call.id);
    await makeCallsDue([call.id]);
    await tick();
    expect(succeeded.received).toHaveLength(0);
    expect(failed.received).toHaveLength(1);
    expect(new Webhook(subFailed.secret).verify(failed.received[0]!.body, failed.received[0]!.headers)).toMatchObject({
      type: "call.failed",
      data: { id: call.id, status: "busy" },
    });
  });

  it("a GET of the finished call emits the event at once, and the poller adds no second one", async () => {
    const user = await linkedUser();
    const hook = receiver();
    await subscribe(user.apiKey, { url: hook.url, events: ["call.completed"] });
    const call = await placed(user.apiKey);
    await endSandboxCall(call.id);
    expect((await getJson<{ status: string }>(user.apiKey, `/v1/calls/${call.id}`)).status).toBe("success");
    expect((await eventsOf(call.id)).map((e) => e.type)).toEqual(["call.completed", "call.succeeded"]);
    await makeCallsDue();
    await tick();
    await tick();
    expect(hook.received).toHaveLength(1);
  });

  it("two scheduled invocations at once process each call once: one event, one delivery", async () => {
    const user = await linkedUser();
    const hook = receiver();
    await subscribe(user.apiKey, { url: hook.url, events: ["call.completed"] });
    const calls = await Promise.all([1, 2, 3, 4, 5].map(() => placed(user.apiKey)));
    for (const c of calls) await endSandboxCall(c.id);
    await makeCallsDue(calls.map((c) => c.id));
    await Promise.all([tick(), tick()]);
    await tick();
    for (const c of calls) expect((await eventsOf(c.id)).filter((e) => e.type === "call.completed")).toHaveLength(1);
    const ids = hook.received.map((r) => JSON.parse(r.body).data.id).sort();
    expect(ids).toEqual(calls.map((c) => c.id).sort());
    const polls = await env.DB.prepare(
      `SELECT count(*) AS n FROM sandbox_requests WHERE method = 'GET'
       AND path IN (SELECT '/v1/calls/' || upstream_id FROM calls WHERE id IN (SELECT value FROM json_each(?)))`,
    )
      .bind(JSON.stringify(calls.map((c) => c.id)))
      .first<{ n: number }>();
    expect(polls!.n).toBe(calls.length);
  });
});
