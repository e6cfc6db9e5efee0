import { describe, expect, it } from "vitest";
import { type Endpoint, fuzz, reachedPastTheKey } from "../support/fuzz";
import { fuzzAccount } from "../support/fuzz-setup";

const RUNS = 2500;

describe("fuzzing the write endpoints", () => {
  it(`${RUNS} generated requests: never a 5xx, every 4xx the JSON error shape`, { timeout: 600_000 }, async () => {
    const account = await fuzzAccount();
    const call = { phone: "+14155551234", task: "Ask whether they are open today" };
    const writes: Endpoint[] = [
      { method: "POST", path: "/v1/calls", base: call },
      {
        method: "POST",
        path: "/v1/calls",
        base: {
          submission: { task_category: "general", task_description: call.task, respondent_phone: call.phone },
          timezone: "UTC",
        },
      },
      { method: "POST", path: "/v1/calls/{id}/cancel" },
      { method: "POST", path: `/t/${account.token}`, base: { value1: "oat milk" } },
      { method: "POST", path: "/t/{id}" },
      { method: "GET", path: "/t/{id}" },
      { method: "POST", path: "/v1/link", base: { refresh_token: "not-a-token" } },
      { method: "POST", path: "/v1/keys", base: { name: "fuzz", scopes: ["calls:read"] } },
      { method: "POST", path: "/v1/triggers", base: { name: "fuzz", ...call } },
      { method: "PATCH", path: "/v1/triggers/{id}", base: { open_fields: ["party_size"] } },
      { method: "POST", path: "/v1/webhooks", base: { url: account.receiverUrl, events: ["call.completed"] } },
      { method: "POST", path: "/v1/webhooks/{id}/test" },
      { method: "POST", path: "/v1/webhooks/{id}/enable" },
      { method: "POST", path: "/v1/deliveries/{id}/retry" },
      { method: "POST", path: "/admin/vault/reencrypt" },
      { method: "PUT", path: "/v1/calls/{id}" },
      { method: "PATCH", path: "/v1/webhooks/{id}" },
    ];
    const { sent, statuses } = await fuzz(writes, account, RUNS);
    console.log(`fuzz writes: ${sent} requests`, Object.fromEntries(statuses));
    expect(sent).toBe(RUNS);
    expect(reachedPastTheKey(statuses)).toBe(true);
    expect(statuses.has(422)).toBe(true);
  });
});
