import { describe, expect, it } from "vitest";
import { eventBody, eventOf } from "../../src/domain/events";
import { linkedUser, withKey } from "../support/accounts";
import { bridge, errorOf } from "../support/bridge";
import { placed } from "../support/calls";
import { endSandboxCall } from "../support/sandbox";
import { sandboxPhone } from "../support/sandbox-phones";
import { getJson, makeCallsDue, receiver, subscribe, tick } from "../support/webhooks";

interface Feed {
  items: Array<{ id: string; type: string; timestamp: string; data: { id: string; status: string } }>;
  next_cursor: string | null;
}

describe("GET /v1/events", () => {
  it("lists events newest first, each with a unique id and the webhook's payload", async () => {
    const user = await linkedUser();
    const hook = receiver();
    await subscribe(user.apiKey, { url: hook.url, events: ["call.completed"] });
    const ok = await placed(user.apiKey);
    await endSandboxCall(ok.id);
    await makeCallsDue([ok.id]);
    await tick();
    const busy = await placed(user.apiKey, { phone: sandboxPhone("busy"), task: "Ask about store hours today" });
    await endSandboxCall(busy.id);
    await makeCallsDue([busy.id]);
    await tick();

    const feed = await getJson<Feed>(user.apiKey, "/v1/events");
    // Newest first: the busy call's two events, then the first call's two (same-instant events in a stable order).
    expect(feed.items.map((e) => e.data.id)).toEqual([busy.id, busy.id, ok.id, ok.id]);
    expect(new Set(feed.items.slice(0, 2).map((e) => e.type))).toEqual(new Set(["call.completed", "call.failed"]));
    expect(new Set(feed.items.slice(2).map((e) => e.type))).toEqual(new Set(["call.completed", "call.succeeded"]));
    expect(feed.items.every((e) => e.data.status === (e.data.id === busy.id ? "busy" : "success"))).toBe(true);
    expect(new Set(feed.items.map((e) => e.id)).size).toBe(4);
    // One event shape: each delivery's body is the feed item itself, its id the webhook-id.
    expect(hook.received).toHaveLength(2);
    for (const r of hook.received) {
      const body = JSON.parse(r.body) as { id: string };
      expect(body.id).toBe(r.headers["webhook-id"]);
      expect(feed.items.find((e) => e.id === body.id)).toStrictEqual(body);
    }

    const completed = await getJson<Feed>(user.apiKey, "/v1/events?type=call.completed");
    expect(completed.items.map((e) => e.data.id)).toEqual([busy.id, ok.id]);
    expect(completed.items.every((e) => e.type === "call.completed")).toBe(true);

    const page1 = await getJson<Feed>(user.apiKey, "/v1/events?limit=3");
    expect(page1.items).toHaveLength(3);
    const page2 = await getJson<Feed>(user.apiKey, `/v1/events?limit=3&cursor=${page1.next_cursor}`);
    expect(page2.items.map((e) => e.id)).toEqual([feed.items[3]!.id]);
    expect(page2.next_cursor).toBeNull();

    // Another account sees none of them.
    const other = await linkedUser();
    expect((await getJson<Feed>(other.apiKey, "/v1/events")).items).toEqual([]);
  });

  it("defaults to 50 items and refuses an unknown type", async () => {
    const user = await linkedUser();
    const res = await bridge("/v1/events?type=call.started", withKey(user.apiKey));
    expect(res.status).toBe(422);
    expect((await errorOf(res)).code).toBe("validation_error");
    expect((await bridge("/v1/events", {})).status).toBe(401);
  });

  it("is in the OpenAPI document, with the webhooks endpoints", async () => {
    const doc = (await (await bridge("/openapi.json")).json()) as { paths: Record<string, unknown> };
    for (const p of [
      "/v1/events",
      "/v1/webhooks",
      "/v1/webhooks/{id}",
      "/v1/webhooks/{id}/test",
      "/v1/webhooks/{id}/deliveries",
      "/v1/deliveries/{id}/retry",
    ])
      expect(doc.paths, p).toHaveProperty([p]);
  });
});

describe("one event shape", () => {
  it("an event stored before events carried their id is sent and listed with it", () => {
    const legacy = JSON.stringify({
      type: "call.completed",
      timestamp: "2026-01-28T18:03:52.410Z",
      data: { id: "c1", status: "success" },
    });
    const body = JSON.parse(eventBody("evt_1", legacy));
    expect(body).toStrictEqual({
      id: "evt_1",
      type: "call.completed",
      timestamp: "2026-01-28T18:03:52.410Z",
      data: { id: "c1", status: "success" },
    });
    expect(eventOf({ id: "evt_1", payload: legacy })).toStrictEqual(body);
    // A stored event that has its id is sent byte for byte as stored (what was signed stays signed).
    const current = JSON.stringify(body);
    expect(eventBody("evt_1", current)).toBe(current);
  });
});
