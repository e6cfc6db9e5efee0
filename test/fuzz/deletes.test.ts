import { describe, expect, it } from "vitest";
import { type Endpoint, fuzz, reachedPastTheKey } from "../support/fuzz";
import { fuzzAccount } from "../support/fuzz-setup";

const RUNS = 1000;

describe("fuzzing the endpoints that remove things", () => {
  it(`${RUNS} generated requests: never a 5xx, every 4xx the JSON error shape`, { timeout: 600_000 }, async () => {
    const account = await fuzzAccount();
    const deletes: Endpoint[] = [
      { method: "DELETE", path: "/v1/keys/{id}" },
      { method: "DELETE", path: "/v1/triggers/{id}" },
      { method: "DELETE", path: "/v1/webhooks/{id}" },
      { method: "DELETE", path: "/v1/calls/{id}" },
      // With a key that may not unlink: the fuzzing account stays linked for the other requests.
      { method: "POST", path: "/v1/unlink", apiKey: account.readerKey },
    ];
    const { sent, statuses } = await fuzz(deletes, account, RUNS);
    console.log(`fuzz deletes: ${sent} requests`, Object.fromEntries(statuses));
    expect(sent).toBe(RUNS);
    expect(reachedPastTheKey(statuses)).toBe(true);
  });
});
