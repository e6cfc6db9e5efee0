import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureInstalled, run } from "./package-install";

// integrations/zapier as its README tells a developer to work on it, offline: `npm install`, then
// Zapier's own CLI through npx. Zapier's endpoint is pointed at a closed loopback port, so any call
// to zapier.com fails here instead of reaching the network.

const PACKAGE_DIR = resolve(import.meta.dirname, "../../integrations/zapier");
const OFFLINE = { ZAPIER_BASE_ENDPOINT: "http://127.0.0.1:9", NO_UPDATE_NOTIFIER: "1", DISABLE_ZAPIER_ANALYTICS: "1" };
const TOKEN = "zapier-package-test-token";

/** The bridge's events feed, as `invoke` reads it for a hook trigger's sample. */
let events: unknown[] = [];
const bridge = createServer((req, res) => {
  const ok = req.headers.authorization === `Bearer ${TOKEN}` && req.url?.startsWith("/v1/events");
  res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
  res.end(JSON.stringify(ok ? { items: events, next_cursor: null } : { error: { code: "unauthorized" } }));
});

beforeAll(async () => {
  await ensureInstalled(PACKAGE_DIR);
  await new Promise<void>((done) => bridge.listen(0, "127.0.0.1", done));
}, 300_000);
afterAll(() => new Promise<void>((done) => bridge.close(() => done())));

const npx = (...args: string[]) => {
  const bridgeUrl = `http://127.0.0.1:${(bridge.address() as AddressInfo).port}`;
  return run("npx", ["zapier-platform", ...args], PACKAGE_DIR, {
    ...OFFLINE,
    authData_bridge_url: bridgeUrl,
    authData_access_token: TOKEN,
  });
};

describe("integrations/zapier, developed offline with Zapier's CLI", () => {
  it("`npx zapier-platform test` validates the app locally and passes its tests", async () => {
    const { code, output } = await npx("test");
    expect(output).toContain("This project is structurally sound!");
    expect(output).toMatch(/ℹ pass [1-9]/);
    expect(output).toContain("ℹ fail 0");
    expect(output).not.toContain("RSSMEM");
    expect(code).toBe(0);
  }, 120_000);

  it("`validate --without-style` passes offline", async () => {
    const { code, output } = await npx("validate", "--without-style");
    expect(output).toContain("This project is structurally sound!");
    expect(code).toBe(0);
  }, 120_000);

  it("`invoke trigger call_finished` answers the sample while the feed is empty, then the latest event", async () => {
    events = [];
    const empty = await npx("invoke", "trigger", "call_finished", "--non-interactive");
    expect(empty.output).toContain('"id": "evt_9b2f41c0d3e84a7f9c1e2d3b4a5f6e7d"');
    expect(empty.code).toBe(0);

    events = [{ id: "evt_latest_from_feed", type: "call.completed", timestamp: "2026-12-03T00:00:00Z", data: {} }];
    const latest = await npx("invoke", "trigger", "call_finished", "--non-interactive");
    expect(latest.output).toContain('"id": "evt_latest_from_feed"');
    expect(latest.code).toBe(0);
  }, 120_000);
});
