#!/usr/bin/env node
// `npm run bench:outcomes`: how soon a subscriber hears of a call's outcome, and how many upstream
// requests a call costs. Not a test; run it by hand. Loopback only, bounded in count and time.
//
// It starts its own `npm run dev` (scripts/dev.mjs: wrangler dev, local D1 in a temporary dir, the
// sandbox as upstream, the cron fired once a minute like production), links a sandbox user through
// the sandbox's CLI sign-in form and POST /v1/link, subscribes a receiver on http://127.0.0.1,
// places N calls spread over time (so they end at every phase of the cron minute), waits for the
// deliveries and prints p50/p99 of (delivery received − call ended) and upstream requests per call.
//
//   npm run bench:outcomes                       # 20 calls, 20 s each, one every 3 s
//   BENCH_CALLS=40 BENCH_CALL_SECONDS=10 BENCH_SPACING_MS=2000 npm run bench:outcomes
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { freePort } from "./dev-bridge.mjs";

const N = Math.min(200, Number(process.env.BENCH_CALLS ?? 20));
const CALL_SECONDS = Number(process.env.BENCH_CALL_SECONDS ?? 20);
const SPACING_MS = Number(process.env.BENCH_SPACING_MS ?? 3000);
const WAIT_AFTER_MS = 150_000;

const log = (m) => console.log(`[bench] ${m}`);

// 1. A receiver on loopback.
const received = [];
const receiver = createServer((req, res) => {
  let body = "";
  req.on("data", (d) => (body += d));
  req.on("end", () => {
    received.push({ at: Date.now(), id: req.headers["webhook-id"], body });
    res.writeHead(200).end("ok");
  });
});
const receiverPort = await freePort();
await new Promise((r) => receiver.listen(receiverPort, "127.0.0.1", r));

// 2. The bridge under `npm run dev`, on its own port and database.
const port = await freePort();
const state = mkdtempSync(join(tmpdir(), "kallyai-bench-"));
const origin = `http://127.0.0.1:${port}`;
const dev = spawn(process.execPath, ["scripts/dev.mjs", "--port", String(port), "--persist-to", state, "--var", `SANDBOX_CALL_SECONDS:${CALL_SECONDS}`], {
  stdio: ["ignore", "pipe", "pipe"],
  env: { ...process.env, DEV_CRON_SECONDS: "60" },
});
let devLog = "";
dev.stdout.on("data", (d) => (devLog += d));
dev.stderr.on("data", (d) => (devLog += d));
const stopped = new Promise((r) => dev.on("exit", r));

async function finish(code) {
  dev.kill("SIGINT");
  await Promise.race([stopped, new Promise((r) => setTimeout(r, 10_000))]);
  receiver.close();
  rmSync(state, { recursive: true, force: true });
  process.exit(code);
}

try {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (dev.exitCode !== null) throw new Error(`dev server exited:\n${devLog}`);
    try {
      if ((await fetch(`${origin}/health`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`dev server did not start:\n${devLog}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  log(`bridge on ${origin}, receiver on http://127.0.0.1:${receiverPort}, ${N} calls of ${CALL_SECONDS} s, one every ${SPACING_MS} ms`);

  // 3. Link a sandbox user as the CLI does, subscribe the receiver.
  const signIn = await fetch(`${origin}/sandbox/v1/auth/cli`, {
    method: "POST",
    body: new URLSearchParams({ redirect_uri: "http://127.0.0.1:8740/callback", state: "bench", email: `bench-${Date.now()}+calls1000@example.com` }),
    redirect: "manual",
  });
  const refreshToken = new URL(signIn.headers.get("location")).searchParams.get("refresh_token");
  const linked = await (await fetch(`${origin}/v1/link`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ refresh_token: refreshToken }) })).json();
  // A key whose hourly guard (default 20) fits the run.
  const keyRes = await fetch(`${origin}/v1/keys`, { method: "POST", headers: { authorization: `Bearer ${linked.api_key}`, "content-type": "application/json" }, body: JSON.stringify({ name: "bench", calls_per_hour: Math.max(20, N) }) });
  if (keyRes.status !== 201) throw new Error(`creating a key answered ${keyRes.status}: ${await keyRes.text()}`);
  const auth = { authorization: `Bearer ${(await keyRes.json()).api_key}`, "content-type": "application/json" };
  const sub = await fetch(`${origin}/v1/webhooks`, { method: "POST", headers: auth, body: JSON.stringify({ url: `http://127.0.0.1:${receiverPort}/hook`, events: ["call.completed"] }) });
  if (sub.status !== 201) throw new Error(`subscribing answered ${sub.status}: ${await sub.text()}`);

  // 4. Place the calls, spread out, once the cron is running (the dev runner fires it at each
  // wall-clock minute, as Cloudflare does; in production it always is).
  const toMinute = 60_000 - (Date.now() % 60_000) + 1_000;
  log(`waiting ${Math.round(toMinute / 1000)} s for the first cron tick`);
  await new Promise((r) => setTimeout(r, toMinute));
  const placed = [];
  for (let i = 0; i < N; i++) {
    const res = await fetch(`${origin}/v1/calls`, { method: "POST", headers: auth, body: JSON.stringify({ phone: "+14155551234", task: `Benchmark call number ${i + 1}, ask about hours` }) });
    if (res.status !== 202) throw new Error(`placing answered ${res.status}: ${await res.text()}`);
    placed.push((await res.json()).id);
    if (i < N - 1) await new Promise((r) => setTimeout(r, SPACING_MS));
  }
  log(`placed ${N} calls; waiting for their deliveries`);

  // 5. Wait for every call's delivery (bounded).
  const waitUntil = Date.now() + CALL_SECONDS * 1000 + WAIT_AFTER_MS;
  const got = () => new Set(received.map((r) => JSON.parse(r.body).data.id).filter((id) => placed.includes(id)));
  while (got().size < N && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 500));

  // 6. Figures.
  const latencies = received
    .map((r) => ({ r, data: JSON.parse(r.body).data }))
    .filter(({ data }) => placed.includes(data.id))
    .map(({ r, data }) => (r.at - Date.parse(data.ended_at)) / 1000)
    .sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];
  const duplicates = received.length - new Set(received.map((r) => r.id)).size;

  dev.kill("SIGINT");
  await Promise.race([stopped, new Promise((r) => setTimeout(r, 10_000))]);
  const wrangler = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");
  const query = (sql) => {
    const out = spawnSync(process.execPath, [wrangler, "d1", "execute", "DB", "--local", "--persist-to", state, "--json", "--command", sql], { encoding: "utf8", env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" } });
    try {
      return JSON.parse(out.stdout)[0].results[0];
    } catch {
      return null;
    }
  };
  const polls = query("SELECT count(*) AS n FROM sandbox_requests WHERE method = 'GET' AND path LIKE '/v1/calls/%'");
  const posts = query("SELECT count(*) AS n FROM sandbox_requests WHERE method = 'POST' AND path = '/v1/calls'");

  console.log("");
  console.log(`calls placed:                 ${N} (${CALL_SECONDS} s each, cron every 60 s, POLLER_SWEEP_SECONDS default)`);
  console.log(`deliveries received:          ${got().size}/${N}${duplicates ? ` (+${duplicates} duplicate webhook-ids)` : ""}`);
  if (latencies.length) {
    console.log(`delivery − call end, p50:     ${pct(50).toFixed(1)} s`);
    console.log(`delivery − call end, p99:     ${pct(99).toFixed(1)} s`);
    console.log(`delivery − call end, max:     ${latencies.at(-1).toFixed(1)} s (min ${latencies[0].toFixed(1)} s)`);
  }
  if (process.env.BENCH_VERBOSE) console.log(`all (s): ${latencies.map((l) => l.toFixed(1)).join(" ")}`);
  if (polls) console.log(`upstream polls per call:      ${(polls.n / N).toFixed(2)} (GET /v1/calls/{id}; plus ${(posts?.n ?? N) / N} POST to place it)`);
  await finish(got().size === N ? 0 : 1);
} catch (err) {
  console.error(String(err?.stack ?? err));
  await finish(1);
}
