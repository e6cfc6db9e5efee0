import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { linkedUser } from "../support/accounts";
import { placed } from "../support/calls";
import { consume, consumeEnqueued, takeEnqueued } from "../support/queues";
import { endSandboxCall } from "../support/sandbox";
import { sandboxPhone } from "../support/sandbox-phones";
import { callRow, eventsOf, receiver, subscribe, tick, upstreamPolls } from "../support/webhooks";

/** Makes the call's scheduled poll due now (as if its message's delay had passed), keeping the message's `due` in step. */
async function dueNow(messages: Array<{ body: { call?: string; due: number } }>) {
  const now = Date.now() - 1;
  for (const m of messages) {
    await env.DB.prepare("UPDATE calls SET next_poll_at = ? WHERE id = ? AND next_poll_at = ?")
      .bind(now, m.body.call, m.body.due)
      .run();
    m.body.due = now;
  }
  return messages.map((m) => m.body);
}

describe("polling through the poll queue", () => {
  it("a placed call is enqueued for its first poll 15 s later", async () => {
    const user = await linkedUser();
    const call = await placed(user.apiKey);
    const [message, ...more] = takeEnqueued("polls");
    expect(more).toEqual([]);
    const row = await callRow(call.id);
    expect(message!.body).toEqual({ kind: "poll", call: call.id, due: row!.next_poll_at });
    expect(message!.delaySeconds).toBeGreaterThanOrEqual(14);
    expect(message!.delaySeconds).toBeLessThanOrEqual(15);
  });

  it("the consumer polls the batch, re-enqueues each running call 10 s out, and enqueues the deliveries of a finished one", async () => {
    const user = await linkedUser();
    const hook = receiver();
    await subscribe(user.apiKey, { url: hook.url, events: ["call.completed"] });
    const running = await placed(user.apiKey, { phone: sandboxPhone("never"), task: "Ask about store hours today" });
    const finished = await placed(user.apiKey);
    await endSandboxCall(finished.id);
    const bodies = await dueNow(takeEnqueued("polls"));

    const result = await consume("polls", bodies);
    expect(result).toMatchObject({ acked: 2, retried: 0 });
    expect(await upstreamPolls(running.id)).toBe(1);
    expect(await upstreamPolls(finished.id)).toBe(1);
    expect(await callRow(finished.id)).toMatchObject({ status: "success", next_poll_at: null, lease_until: null });
    const next = takeEnqueued("polls");
    const row = await callRow(running.id);
    expect(next.map((m) => m.body)).toEqual([{ kind: "poll", call: running.id, due: row!.next_poll_at }]);
    expect(next[0]!.delaySeconds).toBeGreaterThanOrEqual(9);
    expect(next[0]!.delaySeconds).toBeLessThanOrEqual(10);

    // The finished call's delivery is a message of its own, sent by the delivery consumer.
    expect(hook.received).toHaveLength(0);
    const { messages, result: sent } = await consumeEnqueued("deliveries");
    expect(messages).toHaveLength(1);
    expect(messages[0]!.delaySeconds).toBe(0);
    expect(sent).toMatchObject({ acked: 1, retried: 0 });
    expect(hook.received).toHaveLength(1);
    expect(JSON.parse(hook.received[0]!.body)).toMatchObject({
      type: "call.completed",
      data: { id: finished.id, status: "success" },
    });
  });

  it("keeps a call on its schedule: a poll taken 3 s late is followed by one due 10 s after the late one was due", async () => {
    const user = await linkedUser();
    const call = await placed(user.apiKey, { phone: sandboxPhone("never"), task: "Ask about store hours today" });
    const [message] = takeEnqueued("polls");
    const due = Date.now() - 3_000;
    await env.DB.prepare("UPDATE calls SET next_poll_at = ? WHERE id = ?").bind(due, call.id).run();
    await consume("polls", [{ ...message!.body, due }]);
    expect((await callRow(call.id))!.next_poll_at).toBe(due + 10_000);
    expect(takeEnqueued("polls").map((m) => m.body)).toEqual([{ kind: "poll", call: call.id, due: due + 10_000 }]);
  });

  it("duplicate messages poll a call once and emit its event once, in one batch or in later ones", async () => {
    const user = await linkedUser();
    const hook = receiver();
    await subscribe(user.apiKey, { url: hook.url, events: ["call.completed"] });
    const call = await placed(user.apiKey);
    await endSandboxCall(call.id);
    const [body] = await dueNow(takeEnqueued("polls"));
    // At-least-once: the same message three times in one batch, then twice more.
    expect(await consume("polls", [body, body, body])).toMatchObject({ acked: 3, retried: 0 });
    expect(await consume("polls", [body])).toMatchObject({ acked: 1 });
    expect(await upstreamPolls(call.id)).toBe(1);
    expect((await eventsOf(call.id)).map((e) => e.type)).toEqual(["call.completed", "call.succeeded"]);

    const deliveries = takeEnqueued("deliveries").map((m) => m.body);
    expect(deliveries).toHaveLength(1);
    await consume("deliveries", [deliveries[0], deliveries[0]]);
    await consume("deliveries", [deliveries[0]]);
    expect(hook.received).toHaveLength(1);
  });

  it("two consumers with the same message at once poll the call once", async () => {
    const user = await linkedUser();
    const calls = await Promise.all(
      [1, 2, 3, 4].map(() =>
        placed(user.apiKey, { phone: sandboxPhone("never"), task: "Ask about store hours today" }),
      ),
    );
    const bodies = await dueNow(takeEnqueued("polls"));
    await Promise.all([consume("polls", bodies), consume("polls", bodies), consume("polls", [...bodies].reverse())]);
    for (const c of calls) expect(await upstreamPolls(c.id)).toBe(1);
    // One next poll per call, not one per copy.
    expect(
      takeEnqueued("polls")
        .map((m) => m.body.call)
        .sort(),
    ).toEqual(calls.map((c) => c.id).sort());
  });

  it("a stale message (the call was polled or finished since) does nothing", async () => {
    const user = await linkedUser();
    const call = await placed(user.apiKey);
    const [first] = takeEnqueued("polls");
    await endSandboxCall(call.id);
    // A GET sees the end first and finalises the call.
    await (await import("../support/calls")).getCall(user.apiKey, call.id);
    expect(await consume("polls", [{ ...first!.body }])).toMatchObject({ acked: 1, retried: 0 });
    expect(await upstreamPolls(call.id)).toBe(1); // the GET's own read
    expect(takeEnqueued("polls")).toEqual([]);
  });

  it("a message that is not a poll or delivery is acknowledged and dropped", async () => {
    expect(await consume("polls", [{ kind: "poll" }, "hello", { kind: "launch", due: 1 }])).toMatchObject({
      acked: 3,
      retried: 0,
    });
  });

  it("a lost message: the cron polls a call once it is 30 s overdue, and leaves one due 5 s ago to its message", async () => {
    const user = await linkedUser();
    const [lost, late] = [await placed(user.apiKey), await placed(user.apiKey)];
    for (const c of [lost, late]) await endSandboxCall(c.id);
    takeEnqueued("polls");
    await env.DB.batch([
      env.DB.prepare("UPDATE calls SET next_poll_at = ? WHERE id = ?").bind(Date.now() - 31_000, lost.id),
      env.DB.prepare("UPDATE calls SET next_poll_at = ? WHERE id = ?").bind(Date.now() - 5_000, late.id),
    ]);
    const hook = receiver();
    await subscribe(user.apiKey, { url: hook.url, events: ["call.completed"] });
    // The production defaults with queues: POLLER_OVERDUE_SECONDS 30.
    await tick({ POLLER_OVERDUE_SECONDS: "" });
    expect(await upstreamPolls(lost.id)).toBe(1);
    expect(await upstreamPolls(late.id)).toBe(0);
    expect(await callRow(lost.id)).toMatchObject({ status: "success", next_poll_at: null });
    // Its delivery goes through the queue like any other (due now, so not yet overdue for the cron).
    expect(hook.received).toHaveLength(0);
    await consumeEnqueued("deliveries");
    expect(hook.received).toHaveLength(1);
  });
});

describe("a poll batch whose own work fails", () => {
  it("is retried instead of being acknowledged (after 5 tries it goes to the dead-letter queue), and the call stays due in D1", async () => {
    const user = await linkedUser();
    await placed(user.apiKey);
    const bodies = await dueNow(takeEnqueued("polls"));
    vi.spyOn(env.DB, "prepare").mockImplementation(() => {
      throw new Error("D1 is unavailable");
    });
    const result = await consume("polls", bodies);
    vi.mocked(env.DB.prepare).mockRestore();
    expect(result).toMatchObject({ acked: 0, retried: 1 });
    expect((await callRow(bodies[0]!.call!))!.next_poll_at).toBe(bodies[0]!.due);
  });
});
