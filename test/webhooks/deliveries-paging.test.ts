import { describe, expect, it } from "vitest";
import { linkedUser, withKey } from "../support/accounts";
import { bridge, errorOf } from "../support/bridge";
import { placed } from "../support/calls";
import { endSandboxCall } from "../support/sandbox";
import { getJson, makeCallsDue, receiver, subscribe, tick } from "../support/webhooks";

type Page = { items: Array<{ id: string }>; next_cursor: string | null };

describe("GET /v1/webhooks/{id}/deliveries", () => {
  it("pages with a cursor, newest first, down to the oldest delivery", async () => {
    const user = await linkedUser();
    const sub = await subscribe(user.apiKey, { url: receiver().url, events: ["call.completed", "call.succeeded"] });
    const calls = [await placed(user.apiKey), await placed(user.apiKey), await placed(user.apiKey)];
    for (const call of calls) await endSandboxCall(call.id);
    await makeCallsDue(calls.map((c) => c.id));
    await tick();

    const all = await getJson<Page>(user.apiKey, `/v1/webhooks/${sub.id}/deliveries?limit=100`);
    expect(all.items).toHaveLength(6);
    expect(all.next_cursor).toBeNull();

    const seen: string[] = [];
    let path = `/v1/webhooks/${sub.id}/deliveries?limit=4`;
    for (let pages = 0; ; pages++) {
      const page = await getJson<Page>(user.apiKey, path);
      seen.push(...page.items.map((d) => d.id));
      if (!page.next_cursor) break;
      expect(pages).toBeLessThan(3);
      path = `/v1/webhooks/${sub.id}/deliveries?limit=4&cursor=${encodeURIComponent(page.next_cursor)}`;
    }
    expect(seen).toEqual(all.items.map((d) => d.id));
  });

  it("refuses a cursor it did not make with a 422", async () => {
    const user = await linkedUser();
    const sub = await subscribe(user.apiKey, { url: receiver().url, events: ["call.completed"] });
    const res = await bridge(`/v1/webhooks/${sub.id}/deliveries?cursor=nope`, withKey(user.apiKey));
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({ code: "validation_error", field: "cursor" });
  });

  it.each(["0", "101", "abc", "2.5"])("refuses ?limit=%s with a 422 naming limit (1–100)", async (limit) => {
    const user = await linkedUser();
    const sub = await subscribe(user.apiKey, { url: receiver().url, events: ["call.completed"] });
    const res = await bridge(`/v1/webhooks/${sub.id}/deliveries?limit=${limit}`, withKey(user.apiKey));
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({ code: "validation_error", field: "limit" });
  });
});
