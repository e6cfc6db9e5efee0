import { describe, expect, it, vi } from "vitest";
import { consoleSignIn, local, postForm, revealed } from "../support/console";
import { endSandboxCall } from "../support/sandbox";
import { makeCallsDue, receiver, tick } from "../support/webhooks";

// Each test signs in twice through the sandbox like a browser: generous under a busy machine.
vi.setConfig({ testTimeout: 60_000 });

const get = async (cookie: string, path: string) => {
  const res = await local(path, { headers: { cookie } });
  return { status: res.status, html: await res.text() };
};
const api = (apiKey: string, path: string, init: RequestInit = {}) =>
  local(path, { ...init, headers: { authorization: `Bearer ${apiKey}`, ...init.headers } });

describe("one account never sees another's anything", () => {
  it("keys, calls, webhooks, deliveries and trigger URLs of Alice are invisible and untouchable for Bob", async () => {
    const alice = await consoleSignIn(`alice-${crypto.randomUUID()}@example.com`);
    const bob = await consoleSignIn(`bob-${crypto.randomUUID()}@example.com`);
    const aliceMe = (await (await api(alice.apiKey, "/v1/me")).json()) as { user_id: string; key: { id: string } };

    // Alice's things, made in her console.
    const placed = await postForm(alice, "/console/calls", {
      phone: "+14155550150",
      task: "Ask whether they have oat milk in stock",
      business: "Alice's Deli",
    });
    const callPath = placed.headers.get("location")!;
    const callId = decodeURIComponent(callPath.split("/").pop()!);
    const hooks = receiver();
    const added = await postForm(alice, "/console/webhooks", {
      kind: "webhook",
      url: hooks.url,
      events: "call.completed",
      description: "Alice's hook",
    });
    const webhookPath = added.headers.get("location")!;
    const webhookId = webhookPath.split("/").pop()!;
    await postForm(alice, "/console/triggers", {
      trigger_name: "Alice's trigger",
      phone: "+14155550151",
      task: "Ask whether they have {{value1}} in stock",
    });
    const triggerUrl = revealed((await get(alice.cookie, "/console/triggers")).html)!;
    const triggerId = ((await (await api(alice.apiKey, "/v1/triggers")).json()) as { items: Array<{ id: string }> })
      .items[0]!.id;
    await endSandboxCall(callId);
    await makeCallsDue();
    await tick();
    const deliveryId = (
      (await (await api(alice.apiKey, `/v1/webhooks/${webhookId}/deliveries`)).json()) as {
        items: Array<{ id: string }>;
      }
    ).items[0]!.id;

    // Bob's pages list none of it.
    for (const path of ["/console", "/console/keys", "/console/calls", "/console/webhooks", "/console/triggers"]) {
      const page = await get(bob.cookie, path);
      expect(page.status, path).toBe(200);
      for (const secret of [aliceMe.user_id, aliceMe.key.id, callId, webhookId, triggerId, "Alice's", "Alice&#39;s"])
        expect(page.html, `${path} shows ${secret}`).not.toContain(secret);
    }
    // Bob cannot open or act on any of it, by id.
    for (const path of [
      callPath,
      `${callPath}/status`,
      webhookPath,
      `${webhookPath}/delete`,
      `/console/keys/${aliceMe.key.id}/revoke`,
      `/console/triggers/${triggerId}/revoke`,
    ]) {
      const page = await get(bob.cookie, path);
      expect(page.status, path).toBe(404);
      expect(page.html, path).not.toContain("Alice");
    }
    for (const path of [
      `${callPath}/cancel`,
      `${webhookPath}/test`,
      `${webhookPath}/enable`,
      `${webhookPath}/delete`,
      `/console/deliveries/${deliveryId}/retry`,
      `/console/keys/${aliceMe.key.id}/revoke`,
      `/console/triggers/${triggerId}/revoke`,
    ]) {
      expect((await postForm(bob, path, {})).status, path).toBe(404);
    }
    // And all of Alice's things still work.
    expect((await api(alice.apiKey, "/v1/me")).status).toBe(200);
    expect((await api(alice.apiKey, `/v1/webhooks/${webhookId}`)).status).toBe(200);
    expect(hooks.received.filter((r) => !r.headers["webhook-id"]!.startsWith("evt_test_"))).toHaveLength(1);
    expect(
      (
        await local(new URL(triggerUrl).pathname, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"value1":"oat milk"}',
        })
      ).status,
    ).toBe(202);
  });
});
