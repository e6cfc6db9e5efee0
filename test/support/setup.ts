import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, afterEach, beforeEach, expect, vi } from "vitest";
import { ownSandbox } from "../../src/sandbox/upstream";
import { observed } from "./bridge";
import { documentedStatuses } from "./documented-statuses";
import { interceptedFetch, resetRoutes } from "./network";
import { interceptQueues, settlePlacements, stopPump } from "./queues";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

beforeEach(() => {
  resetRoutes();
  vi.spyOn(globalThis, "fetch").mockImplementation(interceptedFetch);
  // Test mode hands requests to its own sandbox in-process (src/sandbox/upstream.ts): same network.
  vi.spyOn(ownSandbox, "dispatch").mockImplementation((request) => interceptedFetch(request));
  interceptQueues();
});
afterEach(async () => {
  // Background placement consumers finish inside the test that started them.
  await settlePlacements();
  stopPump();
  vi.restoreAllMocks();
});

// Every status a test observed must be one the OpenAPI document lists for that request.
afterAll(async () => {
  const undocumented = new Set<string>();
  for (const { method, path, status } of observed) {
    const documented = await documentedStatuses(method, path);
    if (documented && !documented.has(String(status)) && !documented.has("default"))
      undocumented.add(`${method} ${path} → ${status}`);
  }
  expect([...undocumented]).toEqual([]);
});
