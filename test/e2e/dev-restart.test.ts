import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startDevServer } from "./dev-server";
import { linkedKey } from "./sandbox-account";

const stateDir = mkdtempSync(join(tmpdir(), "kallyai-restart-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

describe("npm run dev keeps its state across restarts", () => {
  it("a sandbox sign-in, a linked key and a placed call are still there after Ctrl-C and a new start", async () => {
    const first = await startDevServer([], { stateDir });
    const apiKey = await linkedKey(first.origin, "restart@example.com");
    const placed = await (
      await fetch(`${first.origin}/v1/calls`, {
        method: "POST",
        headers: { "x-api-key": apiKey },
        body: new URLSearchParams({ phone: "+14155551234", task: "Ask about store hours today" }),
      })
    ).json();
    expect(placed.id).toBeTruthy();
    expect(await first.stop()).toBe(0);

    const second = await startDevServer([], { stateDir });
    try {
      const call = await fetch(`${second.origin}/v1/calls/${placed.id}`, { headers: { "x-api-key": apiKey } });
      expect(call.status).toBe(200);
      expect(await call.json()).toMatchObject({ id: placed.id, task: "Ask about store hours today" });
      const usage = await (await fetch(`${second.origin}/v1/usage`, { headers: { "x-api-key": apiKey } })).json();
      expect(usage.calls_used).toBe(1);
    } finally {
      await second.stop();
    }
    // Two starts of wrangler, each up to a minute on a loaded machine.
  }, 300_000);
});
