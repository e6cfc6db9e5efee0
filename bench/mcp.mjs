#!/usr/bin/env node
// What MCP costs over REST, against `npm run dev` on loopback: the same reads through /mcp
// (a JSON-RPC POST, a new dispatcher and transport per request) and through /v1, N times each.
//
//   npm run bench:mcp            # N=50;  BENCH_N=200 npm run bench:mcp
import { linkUser, log, percentile, runBench, sleep } from "./support.mjs";

const N = Number(process.env.BENCH_N ?? 50);
await runBench({ receiver: false, vars: { SANDBOX_CALL_SECONDS: "1" } }, async ({ bridge }) => {
  const [auth] = await linkUser(bridge.origin, { calls: 1000, callsPerHour: 1000 });
  const mcpHeaders = { ...auth, accept: "application/json, text/event-stream" };
  let id = 0;
  const rpc = async (method, params = {}) => {
    const res = await fetch(`${bridge.origin}/mcp`, {
      method: "POST",
      headers: mcpHeaders,
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
    });
    const body = await res.json();
    if (res.status !== 200 || body.error || body.result?.isError)
      throw new Error(`${method} failed: ${JSON.stringify(body)}`);
    return body.result;
  };
  const rest = async (path) => {
    const res = await fetch(`${bridge.origin}${path}`, { headers: auth });
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    return res.json();
  };
  const placed = await rpc("tools/call", {
    name: "place_call",
    arguments: { phone: "(415) 555-1234", task: "Benchmark call, ask about store hours" },
  });
  const callId = placed.structuredContent.id;
  // A finished call: both APIs then read it from D1 alone, without asking KallyAI.
  await sleep(1500);
  await rpc("tools/call", { name: "get_call", arguments: { id: callId, wait: 5 } });

  // Each pair runs alternately, so both sides see the same machine load.
  const pairs = [
    [
      "initialize / GET /health",
      () => rest("/health"),
      () =>
        rpc("initialize", {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "bench", version: "1" },
        }),
    ],
    ["tools/list / GET /v1/me", () => rest("/v1/me"), () => rpc("tools/list")],
    [
      "list_calls / GET /v1/calls",
      () => rest("/v1/calls?limit=20"),
      () => rpc("tools/call", { name: "list_calls", arguments: { limit: 20 } }),
    ],
    [
      "get_call / GET /v1/calls/{id}",
      () => rest(`/v1/calls/${callId}`),
      () => rpc("tools/call", { name: "get_call", arguments: { id: callId } }),
    ],
    [
      "get_usage / GET /v1/usage",
      () => rest("/v1/usage"),
      () => rpc("tools/call", { name: "get_usage", arguments: {} }),
    ],
  ];
  const line = (label, times) =>
    `${label.padEnd(36)} p50 ${percentile(times, 50).toFixed(1).padStart(6)}   p95 ${percentile(times, 95).toFixed(1).padStart(6)}`;
  log(`${N} requests per side, alternating MCP and REST, after 5 warm-up rounds (wall time on loopback, ms)`);
  for (const [name, restRun, mcpRun] of pairs) {
    for (let i = 0; i < 5; i++) await Promise.all([restRun(), mcpRun()]);
    const times = { rest: [], mcp: [] };
    for (let i = 0; i < N; i++) {
      for (const [side, run] of [
        ["rest", restRun],
        ["mcp", mcpRun],
      ]) {
        const start = performance.now();
        await run();
        times[side].push(performance.now() - start);
      }
    }
    const [mcpName, restName] = name.split(" / ");
    log(
      line(
        `MCP ${mcpName}`,
        times.mcp.sort((a, b) => a - b),
      ),
    );
    log(
      line(
        `  REST ${restName}`,
        times.rest.sort((a, b) => a - b),
      ),
    );
  }
  return true;
});
