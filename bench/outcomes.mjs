#!/usr/bin/env node
// `npm run bench:outcomes`: how soon a subscriber hears of a call's outcome, and how many upstream
// requests a call costs. Not a test; run it by hand. Loopback only, bounded in count and time.
//
// It starts its own `npm run dev` (scripts/dev.mjs: wrangler dev with its local queues, local D1 in
// a temporary dir, the sandbox as upstream, the cron fired once a minute like production), links a
// sandbox user through the sandbox's CLI sign-in form and POST /v1/link, subscribes a receiver on
// http://127.0.0.1, places N calls spread over time (so they end at every phase of the cron
// minute), waits for the deliveries and prints p50/p99 of (delivery received − call ended) and
// upstream requests per call.
//
//   npm run bench:outcomes                       # 20 calls, 20 s each, one every 3 s
//   BENCH_CALLS=40 BENCH_CALL_SECONDS=10 BENCH_SPACING_MS=2000 npm run bench:outcomes
import { latencies, linkUser, log, percentile, placeCall, runBench, sleep, subscribe } from "./support.mjs";

const N = Math.min(200, Number(process.env.BENCH_CALLS ?? 20));
const CALL_SECONDS = Number(process.env.BENCH_CALL_SECONDS ?? 20);
const SPACING_MS = Number(process.env.BENCH_SPACING_MS ?? 3000);
const WAIT_AFTER_MS = 150_000;

await runBench({ vars: { SANDBOX_CALL_SECONDS: CALL_SECONDS } }, async ({ bridge, receiver }) => {
  log(
    `bridge on ${bridge.origin}, receiver on ${receiver.url}, ${N} calls of ${CALL_SECONDS} s, one every ${SPACING_MS} ms`,
  );
  // A key whose hourly guard (default 20) fits the run.
  const [auth] = await linkUser(bridge.origin, { calls: 1000, callsPerHour: Math.max(20, N) });
  await subscribe(bridge.origin, auth, receiver.url);

  // Place the calls, spread out, once the cron is running (the dev runner fires it at each
  // wall-clock minute, as Cloudflare does; in production it always is).
  const toMinute = 60_000 - (Date.now() % 60_000) + 1_000;
  log(`waiting ${Math.round(toMinute / 1000)} s for the first cron tick`);
  await sleep(toMinute);
  const placed = [];
  for (let i = 0; i < N; i++) {
    placed.push(await placeCall(bridge.origin, auth, i));
    if (i < N - 1) await sleep(SPACING_MS);
  }
  log(`placed ${N} calls; waiting for their deliveries`);

  // Wait for every call's delivery (bounded).
  const waitUntil = Date.now() + CALL_SECONDS * 1000 + WAIT_AFTER_MS;
  const got = () =>
    new Set(receiver.received.map((r) => JSON.parse(r.body).data.id).filter((id) => placed.includes(id)));
  while (got().size < N && Date.now() < waitUntil) await sleep(500);

  // Figures.
  const lat = latencies(receiver.received, placed);
  const duplicates = receiver.received.length - new Set(receiver.received.map((r) => r.id)).size;
  await bridge.stop();
  const polls = bridge.query(
    "SELECT count(*) AS n FROM sandbox_requests WHERE method = 'GET' AND path LIKE '/v1/calls/%'",
  );
  const posts = bridge.query("SELECT count(*) AS n FROM sandbox_requests WHERE method = 'POST' AND path = '/v1/calls'");

  console.log("");
  console.log(
    `calls placed:                 ${N} (${CALL_SECONDS} s each, polls and deliveries on the local queues, cron every 60 s)`,
  );
  console.log(
    `deliveries received:          ${got().size}/${N}${duplicates ? ` (+${duplicates} duplicate webhook-ids)` : ""}`,
  );
  if (lat.length) {
    console.log(`delivery − call end, p50:     ${percentile(lat, 50).toFixed(1)} s`);
    console.log(`delivery − call end, p99:     ${percentile(lat, 99).toFixed(1)} s`);
    console.log(`delivery − call end, max:     ${lat.at(-1).toFixed(1)} s (min ${lat[0].toFixed(1)} s)`);
  }
  if (process.env.BENCH_VERBOSE) console.log(`all (s): ${lat.map((l) => l.toFixed(1)).join(" ")}`);
  if (polls)
    console.log(
      `upstream polls per call:      ${(polls.n / N).toFixed(2)} (GET /v1/calls/{id}; plus ${(posts?.n ?? N) / N} POST to place it)`,
    );
  return got().size === N;
});
