#!/usr/bin/env node
// `npm run bench:scale`: many calls in flight at once through the queues. Not a test; run it by
// hand. Loopback only, bounded in count and time.
//
// It starts its own `npm run dev` (queues run locally under wrangler dev; the cron fires once a
// minute as the scheduler of last resort) with sandbox calls lasting 5–120 s (each call's length
// picked from the range by its id), links a sandbox user, subscribes a receiver on
// http://127.0.0.1, places N calls as fast as the bridge takes them, waits for every delivery,
// and prints: delivery − call end p50/p99/max, upstream polls per call, D1 statements per polled
// call, consumer invocations, and whether every call got exactly one event.
//
// With BENCH_PLACE_RATE the calls are placed at that many a second instead (a steady stream
// rather than one burst), and the figures add how many were in flight at once at the peak.
//
//   npm run bench:scale                                  # 200 calls
//   BENCH_CALLS=1000 BENCH_PLACE_CONCURRENCY=8 npm run bench:scale
//   BENCH_CALLS=10000 BENCH_PLACE_RATE=10 npm run bench:scale
import { loadavg } from "node:os";
import { latencies, linkUser, log, percentile, placeCall, runBench, sleep, subscribe } from "./support.mjs";

const N = Math.min(20_000, Number(process.env.BENCH_CALLS ?? 200));
const CALL_SECONDS = process.env.BENCH_CALL_SECONDS ?? "5-120";
const CONCURRENCY = Number(process.env.BENCH_PLACE_CONCURRENCY ?? 8);
/** Calls placed per second; 0: as fast as the bridge takes them. */
const RATE = Math.max(0, Number(process.env.BENCH_PLACE_RATE ?? 0));
const CALLS_PER_KEY = 1000;
const maxCallSeconds = Number(CALL_SECONDS.split("-").at(-1));

// What the worker logs: one line per consumer invocation and per cron tick that did something.
const queues = {};
const ticks = { count: 0, polled: 0, delivered: 0 };
const errors = {};
const onLine = (line) => {
  if (line.event === "queue_batch") {
    queues[line.queue] ??= {
      invocations: 0,
      messages: 0,
      polled: 0,
      upstream_requests: 0,
      delivered: 0,
      d1_statements: 0,
      d1_round_trips: 0,
      ms: [],
      late: [],
    };
    const q = queues[line.queue];
    q.invocations++;
    q.late.push(line.late_ms ?? 0);
    for (const k of ["messages", "polled", "upstream_requests", "delivered", "d1_statements", "d1_round_trips"])
      q[k] += line[k] ?? 0;
    q.ms.push(line.ms);
  } else if (line.event === "tick") {
    ticks.count++;
    ticks.polled += line.polled ?? 0;
    ticks.delivered += line.delivered ?? 0;
  } else if (line.level === "error") errors[line.event] = (errors[line.event] ?? 0) + 1;
};

await runBench({ vars: { SANDBOX_CALL_SECONDS: CALL_SECONDS }, onLine }, async ({ bridge, receiver }) => {
  log(
    `bridge on ${bridge.origin}, receiver on ${receiver.url}; ${N} calls of ${CALL_SECONDS} s, placed ${RATE ? `${RATE} a second` : "as fast as the bridge takes them"}, ${CONCURRENCY} at a time`,
  );
  const keys = await linkUser(bridge.origin, {
    calls: N + 10,
    keys: Math.ceil(N / CALLS_PER_KEY),
    callsPerHour: CALLS_PER_KEY,
  });
  await subscribe(bridge.origin, keys[0], receiver.url);

  // Place every call, as fast as the bridge takes them or at RATE a second.
  const placed = [];
  const placedAt = new Map();
  const started = Date.now();
  let next = 0;
  const progress = setInterval(
    () => log(`placed ${placed.length}/${N}, delivered ${receiver.received.length}`),
    15_000,
  );
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const i = next++;
        if (RATE) await sleep(started + (i / RATE) * 1000 - Date.now());
        const id = await placeCall(bridge.origin, keys[Math.floor(i / CALLS_PER_KEY)], i);
        placed.push(id);
        placedAt.set(id, Date.now());
      }
    }),
  );
  const placing = (Date.now() - started) / 1000;
  const loadWhilePlacing = loadavg()[0];
  log(`placed ${N} calls in ${placing.toFixed(1)} s (${(N / placing).toFixed(0)}/s); waiting for their deliveries`);

  // Wait for every call's delivery (bounded).
  const waitUntil = Date.now() + maxCallSeconds * 1000 + 180_000;
  const deliveredCalls = () => new Set(receiver.received.map((r) => JSON.parse(r.body).data.id));
  while (deliveredCalls().size < N && Date.now() < waitUntil) await sleep(1000);
  await sleep(3000); // late duplicates, if any, would arrive now
  clearInterval(progress);
  const total = (Date.now() - started) / 1000;

  // Figures.
  const lat = latencies(receiver.received, placed);
  const perCall = new Map();
  for (const r of receiver.received) {
    const id = JSON.parse(r.body).data.id;
    perCall.set(id, (perCall.get(id) ?? 0) + 1);
  }
  const exactlyOnce = placed.filter((id) => perCall.get(id) === 1).length;
  const inFlight = peakInFlight(placedAt, receiver.received);
  const duplicateIds = receiver.received.length - new Set(receiver.received.map((r) => r.id)).size;
  await bridge.stop();
  const polls = bridge.query(
    "SELECT count(*) AS n FROM sandbox_requests WHERE method = 'GET' AND path LIKE '/v1/calls/%'",
  );
  const events = bridge.query(
    "SELECT count(*) AS n, count(DISTINCT call_id) AS calls FROM events WHERE type = 'call.completed'",
  );
  const pollQ = queues["kallyai-bridge-polls"] ?? { invocations: 0, messages: 0, polled: 0, d1_statements: 0, ms: [] };
  const deliveryQ = queues["kallyai-bridge-deliveries"] ?? {
    invocations: 0,
    messages: 0,
    delivered: 0,
    d1_statements: 0,
    ms: [],
  };
  const pct = (xs, p) =>
    xs.length
      ? percentile(
          [...xs].sort((a, b) => a - b),
          p,
        )
      : 0;
  const msP50 = (q) => pct(q.ms, 50);

  console.log("");
  console.log(
    `calls placed:                  ${N} (${CALL_SECONDS} s each, by id), in ${placing.toFixed(1)} s (${(N / placing).toFixed(0)}/s); run ${total.toFixed(0)} s`,
  );
  console.log(
    `every call exactly one event:  ${exactlyOnce === N && events?.n === N ? "yes" : "NO"} (${exactlyOnce}/${N} calls delivered once; call.completed events ${events?.n ?? "?"} for ${events?.calls ?? "?"} calls; ${duplicateIds} duplicate webhook-ids)`,
  );
  if (lat.length) {
    console.log(`delivery − call end, p50:      ${percentile(lat, 50).toFixed(1)} s`);
    console.log(`delivery − call end, p99:      ${percentile(lat, 99).toFixed(1)} s`);
    console.log(`delivery − call end, max:      ${lat.at(-1).toFixed(1)} s (min ${lat[0].toFixed(1)} s)`);
  }
  console.log(
    `in flight at once, peak:       ${inFlight.peak} calls placed and not yet ended (${inFlight.seconds} s after the first was placed)`,
  );
  if (polls)
    console.log(
      `upstream polls per call:       ${(polls.n / N).toFixed(2)} (GET /v1/calls/{id}; plus 1 POST to place it)`,
    );
  console.log(
    `D1 statements per polled call: ${pollQ.polled ? (pollQ.d1_statements / pollQ.polled).toFixed(2) : "–"} in the poll consumer (${pollQ.d1_statements} for ${pollQ.polled} polls); ${deliveryQ.delivered ? (deliveryQ.d1_statements / deliveryQ.delivered).toFixed(2) : "–"} per delivery in the delivery consumer`,
  );
  console.log(
    `consumer invocations:          polls ${pollQ.invocations} (${pollQ.messages} messages, ${(pollQ.messages / Math.max(1, pollQ.invocations)).toFixed(1)} a batch, p50 ${msP50(pollQ)} ms), deliveries ${deliveryQ.invocations} (${deliveryQ.messages} messages, p50 ${msP50(deliveryQ)} ms)`,
  );
  console.log(
    `batch lateness:                polls p50 ${(pct(pollQ.late ?? [], 50) / 1000).toFixed(1)} s, p99 ${(pct(pollQ.late ?? [], 99) / 1000).toFixed(1)} s after due (queue delay + waiting for the consumer)`,
  );
  console.log(
    `cron (last resort):            ${ticks.count} ticks did work; polled ${ticks.polled}, delivered ${ticks.delivered}`,
  );
  console.log(
    `machine:                       load average (1 min) ${loadWhilePlacing.toFixed(2)} after placing, ${loadavg()[0].toFixed(2)} at the end (2 cores here: above 2, figures include waiting for a core)`,
  );
  if (Object.keys(errors).length) console.log(`errors logged:                 ${JSON.stringify(errors)}`);
  if (process.env.BENCH_VERBOSE) console.log(`all (s): ${lat.map((l) => l.toFixed(1)).join(" ")}`);
  return exactlyOnce === N;
});

/** The most calls placed and not yet ended at one time (placement as the bench saw it, end as KallyAI reported it). */
function peakInFlight(placedAt, received) {
  const changes = [];
  const ended = new Set();
  for (const r of received) {
    const { id, ended_at: endedAt } = JSON.parse(r.body).data;
    if (!placedAt.has(id) || ended.has(id)) continue;
    ended.add(id);
    changes.push([placedAt.get(id), 1], [Date.parse(endedAt), -1]);
  }
  changes.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const first = Math.min(...placedAt.values());
  let now = 0;
  let peak = { peak: 0, seconds: 0 };
  for (const [at, delta] of changes) {
    now += delta;
    if (now > peak.peak) peak = { peak: now, seconds: Math.round((at - first) / 1000) };
  }
  return peak;
}
