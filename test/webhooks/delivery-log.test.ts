import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RESPONSE_LOG_BYTES } from "../../src/domain/deliveries";
import { deps } from "../../src/domain/deps";
import { listTests, TESTS_KEPT } from "../../src/domain/webhooks";
import { linkedUser, withKey } from "../support/accounts";
import { bridge, json } from "../support/bridge";
import { placed } from "../support/calls";
import { route } from "../support/network";
import { endSandboxCall } from "../support/sandbox";
import { getJson, makeCallsDue, makeDeliveriesDue, receiver, subscribe, tick } from "../support/webhooks";

interface Delivery {
  event_id: string;
  request_body: string;
  attempt_log: Array<{ attempt: number; status_code: number | null; response_body: string | null }>;
}
const deliveriesOf = async (apiKey: string, webhookId: string) =>
  (await getJson<{ items: Delivery[] }>(apiKey, `/v1/webhooks/${webhookId}/deliveries`)).items;

describe("the delivery log: what was sent and what came back", () => {
  it("keeps the body each delivery sends and the first 2 KB of every answer", async () => {
    const user = await linkedUser();
    const long = "x".repeat(RESPONSE_LOG_BYTES * 3);
    const hook = receiver(undefined, (n) =>
      n === 1 ? new Response(long, { status: 503 }) : new Response('{"accepted":true}', { status: 200 }),
    );
    const sub = await subscribe(user.apiKey, { url: hook.url, events: ["call.completed"] });
    const call = await placed(user.apiKey);
    await endSandboxCall(call.id);
    await makeCallsDue([call.id]);
    await tick();
    await makeDeliveriesDue(user.userId);
    await tick();

    const [delivery] = await deliveriesOf(user.apiKey, sub.id);
    expect(delivery?.request_body).toBe(hook.received[0]?.body);
    expect(JSON.parse(delivery?.request_body ?? "{}")).toMatchObject({
      id: delivery?.event_id,
      type: "call.completed",
    });
    expect(delivery?.attempt_log.map((a) => [a.status_code, a.response_body])).toEqual([
      [503, "x".repeat(RESPONSE_LOG_BYTES)],
      [200, '{"accepted":true}'],
    ]);
  });

  it("blanks out an IFTTT key the answer echoes, in what is stored too", async () => {
    const user = await linkedUser();
    const key = "echoed-Key_0123456789";
    route("https://maker.ifttt.com", () => new Response(`Fired call_done with key ${key}`));
    const res = await json(
      "/v1/webhooks",
      { kind: "ifttt", event: "call_done", key, events: ["call.completed"] },
      withKey(user.apiKey),
    );
    const sub = (await res.json()) as { id: string };
    const call = await placed(user.apiKey);
    await endSandboxCall(call.id);
    await makeCallsDue([call.id]);
    await tick();

    const [delivery] = await deliveriesOf(user.apiKey, sub.id);
    expect(JSON.parse(delivery?.request_body ?? "{}")).toMatchObject({ value1: "success" });
    expect(delivery?.attempt_log[0]?.response_body).toBe("Fired call_done with key [secret]");
    const stored = await env.DB.prepare("SELECT response_body FROM delivery_attempts").all();
    expect(JSON.stringify(stored.results)).not.toContain(key);
  });

  it(`records test deliveries apart from real ones, the newest ${TESTS_KEPT} of each subscription`, async () => {
    const user = await linkedUser();
    const hook = receiver(undefined, (n) => new Response(`test answer ${n}`));
    const sub = await subscribe(user.apiKey, { url: hook.url, events: ["call.failed"] });
    const sent: string[] = [];
    for (let i = 0; i < TESTS_KEPT + 1; i++) {
      const res = await bridge(`/v1/webhooks/${sub.id}/test`, { method: "POST", ...withKey(user.apiKey) });
      sent.push(((await res.json()) as { event_id: string }).event_id);
    }
    const tests = await listTests(deps(env), user.userId, sub.id);
    expect(tests.map((t) => t.event_id).sort()).toEqual(sent.slice(1).sort());
    const newest = tests.find((t) => t.event_id === sent.at(-1));
    expect(newest).toMatchObject({
      event_type: "call.failed",
      delivered: true,
      status_code: 200,
      response_body: `test answer ${TESTS_KEPT + 1}`,
    });
    expect(JSON.parse(newest?.request_body ?? "{}")).toMatchObject({ id: sent.at(-1), test: true });
    // Not in the API's deliveries, and not in the events feed that Zapier and IFTTT poll.
    expect(await deliveriesOf(user.apiKey, sub.id)).toEqual([]);
    expect((await getJson<{ items: unknown[] }>(user.apiKey, "/v1/events")).items).toEqual([]);
  });
});
