import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { MAX_DELAY_SECONDS, QUEUE_NAMES } from "../../src/domain/queues";
import wranglerToml from "../../wrangler.toml?raw";
import { linkedUser } from "../support/accounts";
import { placed } from "../support/calls";
import { consume, type Enqueued, takeEnqueued } from "../support/queues";
import { endSandboxCall } from "../support/sandbox";
import { getJson, receiver, subscribe, tick } from "../support/webhooks";

interface Delivery {
  id: string;
  state: string;
  attempts: number;
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  attempt_log: Array<{ attempt: number; status_code: number | null }>;
}

/** A finished call whose delivery message to `answer`'s receiver is waiting in the delivery queue. */
async function pendingDelivery(answer: Parameters<typeof receiver>[1]) {
  const user = await linkedUser();
  const hook = receiver(undefined, answer);
  const sub = await subscribe(user.apiKey, { url: hook.url, events: ["call.completed"] });
  const call = await placed(user.apiKey);
  await endSandboxCall(call.id);
  // A GET records the outcome: its event, its delivery, and the delivery's message.
  await getJson(user.apiKey, `/v1/calls/${call.id}`);
  takeEnqueued("polls");
  const [message] = takeEnqueued("deliveries");
  const deliveries = async () =>
    (await getJson<{ items: Delivery[] }>(user.apiKey, `/v1/webhooks/${sub.id}/deliveries`)).items;
  return { user, hook, sub, message: message!, deliveries };
}

/** The message's delay has passed: its attempt is due now. */
async function dueNow(m: Enqueued) {
  const now = Date.now() - 1;
  await env.DB.prepare("UPDATE deliveries SET next_attempt_at = ? WHERE id = ? AND next_attempt_at = ?")
    .bind(now, m.body.delivery, m.body.due)
    .run();
  return { ...m.body, due: now };
}

describe("delivering through the delivery queue", () => {
  it("a failed attempt is retried on the Standard Webhooks schedule through the message delay: 5 s, then 5 min ±10 %", async () => {
    const { hook, message, deliveries } = await pendingDelivery(
      (n) => new Response("", { status: n <= 2 ? 500 : 200 }),
    );
    expect(message).toMatchObject({ body: { kind: "delivery" }, delaySeconds: 0 });
    expect(await consume("deliveries", [message.body])).toMatchObject({ acked: 1, retried: 0 });
    const [second] = takeEnqueued("deliveries");
    expect(second!.delaySeconds).toBe(5);
    expect((await deliveries())[0]).toMatchObject({ state: "pending", attempts: 1, last_status: 500 });

    await consume("deliveries", [await dueNow(second!)]);
    const [third] = takeEnqueued("deliveries");
    expect(third!.delaySeconds).toBeGreaterThanOrEqual(270);
    expect(third!.delaySeconds).toBeLessThanOrEqual(330);

    await consume("deliveries", [await dueNow(third!)]);
    expect(takeEnqueued("deliveries")).toEqual([]);
    const [d] = await deliveries();
    expect(d).toMatchObject({ state: "succeeded", attempts: 3, last_status: 200, next_attempt_at: null });
    expect(d!.attempt_log.map((a) => a.status_code)).toEqual([500, 500, 200]);
    expect(new Set(hook.received.map((r) => r.headers["webhook-id"])).size).toBe(1);
    // A copy of the first message arriving late sends nothing more.
    await consume("deliveries", [message.body, second!.body]);
    expect(hook.received).toHaveLength(3);
  });

  it("a delay longer than Queues' 24 h (the last step, 24 h +10 %) is sent as 24 h, and sent on for the rest when the message arrives early", async () => {
    const { hook, message, deliveries } = await pendingDelivery(() => new Response("", { status: 500 }));
    // Eight attempts have failed; the ninth fails too, and the tenth is due 24 h later, jittered up.
    await env.DB.prepare("UPDATE deliveries SET attempts = 8 WHERE id = ?").bind(message.body.delivery).run();
    vi.spyOn(Math, "random").mockReturnValue(0.99);
    await consume("deliveries", [message.body]);
    const [later] = takeEnqueued("deliveries");
    expect(later!.delaySeconds).toBe(MAX_DELAY_SECONDS);
    expect(later!.body.due - Date.now()).toBeGreaterThan(26 * 3600_000);
    // 24 h on, the message arrives with 2 h still to go: nothing is sent, the rest is enqueued.
    expect(await consume("deliveries", [later!.body])).toMatchObject({ acked: 1, retried: 0 });
    expect(hook.received).toHaveLength(1);
    const [rest] = takeEnqueued("deliveries");
    expect(rest!.body).toEqual(later!.body);
    expect((await deliveries())[0]).toMatchObject({ state: "pending", attempts: 9 });
  });

  it("a message the delivery queue gave up on (dead-letter queue) ends the delivery failed, saying so in its log", async () => {
    const { hook, message, deliveries } = await pendingDelivery(() => new Response("ok"));
    expect(await consume("deadLetters", [message.body], 6)).toMatchObject({ acked: 1, retried: 0 });
    expect(hook.received).toHaveLength(0);
    const [d] = await deliveries();
    expect(d).toMatchObject({
      state: "failed",
      next_attempt_at: null,
      last_error: expect.stringContaining("dead-letter"),
    });
    // Nothing sends it afterwards: not its message, not the cron.
    await consume("deliveries", [message.body]);
    await tick();
    expect(hook.received).toHaveLength(0);
  });

  it("a dead-lettered message for an attempt that is no longer the next one changes nothing", async () => {
    const { message, deliveries } = await pendingDelivery(() => new Response("ok"));
    await consume("deliveries", [message.body]);
    await consume("deadLetters", [message.body, { kind: "poll", call: "gone", due: 1 }], 6);
    expect((await deliveries())[0]).toMatchObject({ state: "succeeded", attempts: 1, last_error: null });
  });

  it("a lost delivery message: the cron sends the delivery once it is 30 s overdue", async () => {
    const { hook, message } = await pendingDelivery(() => new Response("ok"));
    await tick({ POLLER_OVERDUE_SECONDS: "" });
    expect(hook.received).toHaveLength(0);
    await env.DB.prepare("UPDATE deliveries SET next_attempt_at = ? WHERE id = ?")
      .bind(Date.now() - 31_000, message.body.delivery)
      .run();
    await tick({ POLLER_OVERDUE_SECONDS: "" });
    expect(hook.received).toHaveLength(1);
  });

  it("wrangler.toml: the consumers' queues are the ones the code names, with batches that fit the free plan's 50 subrequests and a dead-letter queue", () => {
    const consumers = [...wranglerToml.matchAll(/\[\[queues\.consumers\]\]\n([\s\S]*?)(?=\n\n|\n\[|$)/g)].map((m) =>
      Object.fromEntries([...m[1]!.matchAll(/^(\w+) = "?([^"\n]+)"?$/gm)].map((kv) => [kv[1], kv[2]])),
    );
    expect(consumers.map((c) => c.queue).sort()).toEqual(Object.values(QUEUE_NAMES).sort());
    for (const c of consumers) expect(Number(c.max_batch_size)).toBeLessThanOrEqual(10);
    for (const c of consumers.filter((c) => c.queue !== QUEUE_NAMES.deadLetters))
      expect(c.dead_letter_queue).toBe(QUEUE_NAMES.deadLetters);
    const producers = [
      ...wranglerToml.matchAll(/\[\[queues\.producers\]\]\nbinding = "(\w+)"\nqueue = "([^"]+)"/g),
    ].map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(producers)).toEqual({
      POLL_QUEUE: QUEUE_NAMES.polls,
      DELIVERY_QUEUE: QUEUE_NAMES.deliveries,
      PLACEMENT_QUEUE: QUEUE_NAMES.placements,
    });
    // A placement batch holds its requests until the calls end: at most 6, what an invocation may hold at once.
    expect(Number(consumers.find((c) => c.queue === QUEUE_NAMES.placements)?.max_batch_size)).toBeLessThanOrEqual(6);
  });
});
