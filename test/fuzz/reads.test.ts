import { describe, expect, it } from "vitest";
import { type Endpoint, fuzz, reachedPastTheKey } from "../support/fuzz";
import { fuzzAccount } from "../support/fuzz-setup";

const RUNS = 1500;

const READS: Endpoint[] = [
  { method: "GET", path: "/v1/calls" },
  { method: "GET", path: "/v1/calls/{id}" },
  { method: "GET", path: "/v1/calls/{id}/transcript" },
  { method: "GET", path: "/v1/calls/{id}/recording" },
  { method: "GET", path: "/v1/events" },
  { method: "GET", path: "/v1/webhooks" },
  { method: "GET", path: "/v1/webhooks/{id}" },
  { method: "GET", path: "/v1/webhooks/{id}/deliveries" },
  { method: "GET", path: "/v1/keys" },
  { method: "GET", path: "/v1/triggers" },
  { method: "GET", path: "/v1/triggers/{id}" },
  { method: "GET", path: "/v1/me" },
  { method: "GET", path: "/v1/usage" },
  { method: "GET", path: "/v1/subscription" },
  { method: "GET", path: "/v1/billing" },
  { method: "GET", path: "/health" },
  { method: "GET", path: "/openapi.json" },
  { method: "GET", path: "/auth/login" },
  { method: "GET", path: "/auth/callback" },
  { method: "GET", path: "/{id}" },
  { method: "HEAD", path: "/v1/calls/{id}" },
];

describe("fuzzing the read endpoints", () => {
  it(`${RUNS} generated requests: never a 5xx, every 4xx the JSON error shape`, { timeout: 600_000 }, async () => {
    const { sent, statuses } = await fuzz(READS, await fuzzAccount(), RUNS);
    console.log(`fuzz reads: ${sent} requests`, Object.fromEntries(statuses));
    expect(sent).toBe(RUNS);
    expect(reachedPastTheKey(statuses)).toBe(true);
  });
});
