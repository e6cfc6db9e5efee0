#!/usr/bin/env node
// `npm run bench:overhead`: what the bridge adds to a proxied read. Not a test; run it by hand.
// Loopback only, bounded in count and time.
//
// It starts its own `npm run dev` (local D1 in a temporary dir, the sandbox as upstream), links a
// sandbox user, places one call that stays running (so every read goes to the upstream), then
// times the same read two ways, interleaved in waves (one request per path and client at a time,
// the order alternating) so both see the same machine load:
//   bridge: GET /v1/calls/{id} with the bridge's API key (key check, vault, call row, upstream GET)
//   direct: GET /sandbox/v1/calls/{id} with the sandbox's own access token (the upstream alone)
// at 1 and 32 concurrent, and prints p50/p99, their ratios and the gap in ms, and the D1 round
// trips and statements per bridge request (the X-D1-* headers the dev server adds). A third
// series, the bridge answering a call it already knows has ended (from D1, no upstream request),
// and a fourth, a request refused for want of a key (no D1, no upstream), show the bridge's own
// cost apart from its trip to the upstream.
//
//   npm run bench:overhead
//   BENCH_REQUESTS=400 BENCH_CONCURRENCY=1,8,32 npm run bench:overhead
import { loadavg } from "node:os";
import { log, percentile, placeCall, runBench, sandboxSignIn } from "./support.mjs";

/** Requests per path and concurrency (at least 8 waves of `concurrency`). */
const REQUESTS = Math.max(1, Number(process.env.BENCH_REQUESTS ?? 200));
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? "1,32")
  .split(",")
  .map(Number)
  .filter((n) => n >= 1 && n <= 256);
const WARMUP = 30;

const ms = (n) => `${n.toFixed(1)} ms`;

/** One timed GET of the call `callId` (null: expect 401); `d1` holds the X-D1-* headers when the bridge sent them. */
async function timed(url, headers, callId) {
  const start = performance.now();
  const res = await fetch(url, { headers });
  const body = await res.json();
  const elapsed = performance.now() - start;
  if (res.status !== (callId === null ? 401 : 200))
    throw new Error(`${url} answered ${res.status}: ${JSON.stringify(body)}`);
  if (callId !== null && (body.id ?? body.call_id) !== callId)
    throw new Error(`${url} answered another call: ${JSON.stringify(body)}`);
  const trips = res.headers.get("x-d1-round-trips");
  return {
    elapsed,
    d1: trips === null ? null : { roundTrips: Number(trips), statements: Number(res.headers.get("x-d1-statements")) },
  };
}

/** `count` requests, `concurrency` at a time; returns their results and the wall time. */
async function batch(send, count, concurrency) {
  const results = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        next++;
        results.push(await send());
      }
    }),
  );
  return { results, wallMs: performance.now() - start };
}

// The call does not end during the bench (an hour), so both paths do the same work every time.
await runBench({ receiver: false, vars: { SANDBOX_CALL_SECONDS: 3600 } }, async ({ bridge }) => {
  const { origin } = bridge;
  // The bridge gets the sign-in's refresh token; the direct path uses its access token.
  const tokens = await sandboxSignIn(origin, 1000);
  const link = await fetch(`${origin}/v1/link`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refresh_token: tokens.refreshToken }),
  });
  if (link.status !== 201) throw new Error(`linking answered ${link.status}: ${await link.text()}`);
  const user = { apiKey: (await link.json()).api_key, upstreamAccessToken: tokens.accessToken };
  const auth = { authorization: `Bearer ${user.apiKey}`, "content-type": "application/json" };
  const callId = await placeCall(origin, auth, 0);
  const endedId = await placeCall(origin, auth, 1);
  if (
    (
      await fetch(`${origin}/v1/calls/${endedId}/cancel`, {
        method: "POST",
        headers: { authorization: `Bearer ${user.apiKey}` },
      })
    ).status !== 200
  )
    throw new Error("cancelling the second call failed");

  const paths = {
    bridge: () => timed(`${origin}/v1/calls/${callId}`, { authorization: `Bearer ${user.apiKey}` }, callId),
    direct: () =>
      timed(`${origin}/sandbox/v1/calls/${callId}`, { authorization: `Bearer ${user.upstreamAccessToken}` }, callId),
    ended: () => timed(`${origin}/v1/calls/${endedId}`, { authorization: `Bearer ${user.apiKey}` }, endedId),
    bare: () => timed(`${origin}/v1/calls/${callId}`, {}, null),
  };
  for (const send of Object.values(paths)) await batch(send, WARMUP, 4);

  const loadBefore = loadavg()[0];
  log(
    `${origin}: ${REQUESTS}+ requests per path and concurrency, in waves alternating the order; load average ${loadBefore.toFixed(2)}`,
  );
  const report = [];
  for (const concurrency of CONCURRENCY) {
    const waves = Math.max(8, Math.ceil(REQUESTS / concurrency));
    const names = Object.keys(paths);
    const seen = Object.fromEntries(names.map((n) => [n, []]));
    const wall = Object.fromEntries(names.map((n) => [n, 0]));
    for (let wave = 0; wave < waves; wave++) {
      const order = wave % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        const { results, wallMs } = await batch(paths[name], concurrency, concurrency);
        seen[name].push(...results);
        wall[name] += wallMs;
      }
    }
    report.push({ concurrency, seen, wall });
  }
  const loadAfter = loadavg()[0];

  console.log("");
  console.log(
    `GET /v1/calls/{id} of a running call: bridge (API key) vs the sandbox directly (upstream token), npm run dev on this machine`,
  );
  console.log(
    `load average (1 min) ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after: figures are noisy when other work runs`,
  );
  for (const { concurrency, seen, wall } of report) {
    const stats = (name) => {
      const sorted = seen[name].map((r) => r.elapsed).sort((a, b) => a - b);
      return {
        n: sorted.length,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        rps: (sorted.length / wall[name]) * 1000,
      };
    };
    const b = stats("bridge");
    const d = stats("direct");
    const e = stats("ended");
    const bare = stats("bare");
    console.log("");
    console.log(`concurrency ${concurrency} (${b.n} requests per path)`);
    console.log(`  bridge  p50 ${ms(b.p50).padStart(9)}  p99 ${ms(b.p99).padStart(9)}  ${b.rps.toFixed(0)} req/s`);
    console.log(`  direct  p50 ${ms(d.p50).padStart(9)}  p99 ${ms(d.p99).padStart(9)}  ${d.rps.toFixed(0)} req/s`);
    console.log(
      `  where the gap goes (p50): any request through npm run dev (no key: 401) ${ms(bare.p50)}; the bridge answering from D1 alone (call known ended) ${ms(e.p50)}`,
    );
    console.log(
      `  bridge/direct  p50 ${(b.p50 / d.p50).toFixed(2)}× (+${ms(b.p50 - d.p50)})  p99 ${(b.p99 / d.p99).toFixed(2)}× (+${ms(b.p99 - d.p99)})`,
    );
  }
  const d1 = report.flatMap((r) => [...r.seen.bridge, ...r.seen.ended].map((s) => s.d1)).filter(Boolean);
  console.log("");
  if (d1.length === 0) console.log("D1 per bridge request: no X-D1-* headers (is BRIDGE_ENV development?)");
  else {
    const range = (key) => {
      const values = d1.map((x) => x[key]);
      const [lo, hi] = [Math.min(...values), Math.max(...values)];
      return `${(values.reduce((a, v) => a + v, 0) / values.length).toFixed(2)}${lo === hi ? "" : ` (${lo}–${hi})`}`;
    };
    console.log(
      `D1 per bridge request: ${range("roundTrips")} round trips, ${range("statements")} statements (over ${d1.length} requests)`,
    );
  }
  return true;
});
