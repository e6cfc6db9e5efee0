import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, vi } from "vitest";
import { interceptedFetch, resetRoutes } from "./network";
import { interceptQueues } from "./queues";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

beforeEach(() => {
  resetRoutes();
  vi.spyOn(globalThis, "fetch").mockImplementation(interceptedFetch);
  interceptQueues();
});
afterEach(() => {
  vi.restoreAllMocks();
});
