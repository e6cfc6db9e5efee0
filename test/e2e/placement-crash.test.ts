import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type DevServer, d1Rows, startDevServer, until } from "./dev-server";
import { linkAndSubscribe, sandboxSaw, sleep, startReceiver, waitForEnd } from "./placement-harness";

/**
 * A crash mid-call (issue 19, item 6): `npm run dev` is SIGKILLed (runner, wrangler and workerd at
 * once) while the placement consumer's POST to KallyAI is in flight, then started again on the same
 * state. The local queue's messages died with it; the placement's D1 row and lease remain, so the
 * cron queues it again once the lease has run out, and the retry POSTs with the same upstream
 * Idempotency-Key, which KallyAI (the sandbox) answers with the same call.
 */
const stateDir = mkdtempSync(join(tmpdir(), "kallyai-crash-"));
const LEASE_SECONDS = 5;
// Long enough to outlive the checks around the kill on a loaded machine.
const CALL_SECONDS = 45;
// The cron every 5 s and a 5 s lease, instead of a minute each: the recovery within seconds.
const args = ["--var", `SANDBOX_CALL_SECONDS:${CALL_SECONDS}`, "--var", `PLACEMENT_LEASE_SECONDS:${LEASE_SECONDS}`];
let server: DevServer | undefined;
let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;

afterAll(async () => {
  await server?.stop();
  await receiver?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

describe("a crash of npm run dev while KallyAI holds the placement's POST", () => {
  it("KallyAI places the call once, the bridge reports it once it has ended, and one call.completed goes out", async () => {
    receiver = await startReceiver();
    server = await startDevServer(args, { stateDir, cronSeconds: 5 });
    const apiKey = await linkAndSubscribe(server.origin, receiver.url, "crash@example.com");
    const res = await fetch(`${server.origin}/v1/calls`, {
      method: "POST",
      headers: { "x-api-key": apiKey, "content-type": "application/json" },
      body: JSON.stringify({ phone: "+14155551234", task: "Ask whether they deliver on Sundays" }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const started = Date.now();
    const upstreamKey = `bridge-${id}`;

    // In flight: the consumer's POST has gone unanswered past the refusal grace (the call shows
    // in_progress), and the sandbox holds it until the call ends.
    await until("the placement's POST to be in flight", async () => {
      const call = await fetch(`${server?.origin}/v1/calls/${id}`, { headers: { "x-api-key": apiKey } });
      return ((await call.json()) as { status: string }).status === "in_progress" ? true : undefined;
    });
    await sleep(1_000);
    console.log(`[crash] the POST is in flight (${Date.now() - started} ms in); killing npm run dev`);
    await server.crash();
    server = undefined;

    // What the crash left: KallyAI has the call, still running; the bridge's placement is held by a dead consumer.
    const [atCrash] = await d1Rows<{ state: string; running: number }>(
      stateDir,
      `SELECT p.state, (SELECT count(*) FROM sandbox_calls s WHERE s.idempotency_key = p.upstream_key AND s.ends_at > ${Date.now()}) AS running
       FROM call_placements p WHERE p.call_id = '${id}'`,
    );
    expect(atCrash).toEqual({ state: "sending", running: 1 });

    server = await startDevServer(args, { stateDir, cronSeconds: 5 });
    console.log(`[crash] restarted (${Date.now() - started} ms in)`);
    const ended = await waitForEnd(server.origin, apiKey, id, 180);
    expect(ended).toMatchObject({ id, status: "success", finished: true });

    const saw = await sandboxSaw(stateDir, upstreamKey);
    // Two POSTs (the one that died, and the retry), one call placed for the key.
    expect(saw.placements).toBe(1);
    expect(saw.posts).toBe(2);
    await sleep(3_000); // room for a second delivery, which must not come
    expect(receiver.of(id).map((d) => d.type)).toEqual(["call.completed"]);
  }, 600_000);
});
