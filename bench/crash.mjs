#!/usr/bin/env node
// `npm run bench:crash`: a crash soak. Not a test; run it by hand. Loopback only, bounded in count
// and time.
//
// It starts `npm run dev` (scripts/dev.mjs, in a process group of its own: node, wrangler, workerd)
// on one port and one local state directory, links a sandbox user and subscribes a receiver on
// http://127.0.0.1 that fails 30 % of first attempts. Clients place N calls, each with its own
// Idempotency-Key, retrying each until it is answered (connection refused, 5xx and 409 are retried
// with the same key). Meanwhile the whole `npm run dev` is SIGKILLed K times, at random moments
// while it is up, and started again on the same state. Then it waits until every call has ended and
// its call.completed delivery was acknowledged (bounded), and reports, from the public HTTP API
// only (the bridge's /v1/calls and /v1/events, the sandbox's KallyAI API for what was placed
// upstream, the receiver's log):
//   - placed vs upstream: idempotency keys, distinct call ids the bridge answered, calls it lists,
//     calls KallyAI (the sandbox) has;
//   - events per call (call.completed must be exactly 1 per call);
//   - deliveries lost (calls whose call.completed was never acknowledged) and duplicate
//     acknowledgements (the same webhook-id answered 2xx more than once);
//   - 5xx answered while the server was up (a refused or cut connection is not a 5xx).
//
//   npm run bench:crash                                   # 300 calls, 5 kills
//   BENCH_CALLS=60 BENCH_KILLS=2 npm run bench:crash      # a quick run
//   knobs: BENCH_CALLS, BENCH_KILLS, BENCH_RATE (calls started a second, 2), BENCH_CLIENTS (8),
//          BENCH_CALL_SECONDS (each sandbox call's length, 10), BENCH_FAIL_RATE (0.3),
//          BENCH_UP_SECONDS (a kill comes 10…this many seconds after a start, 40),
//          BENCH_DRAIN_SECONDS (how long to wait for the last outcomes after the last kill, 600)
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, log, sandboxSignIn, sleep } from "./support.mjs";

const N = Math.min(1000, Number(process.env.BENCH_CALLS ?? 300));
const KILLS = Math.min(20, Number(process.env.BENCH_KILLS ?? 5));
const RATE = Number(process.env.BENCH_RATE ?? 2);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const CALL_SECONDS = Number(process.env.BENCH_CALL_SECONDS ?? 10);
const FAIL_RATE = Number(process.env.BENCH_FAIL_RATE ?? 0.3);
const UP_SECONDS = Math.max(11, Number(process.env.BENCH_UP_SECONDS ?? 40));
const DRAIN_MS = Number(process.env.BENCH_DRAIN_SECONDS ?? 600) * 1000;
const RUN = Date.now().toString(36);

// ── The bridge: `npm run dev` in its own process group, killed whole ──────────────────────────

const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const state = mkdtempSync(join(tmpdir(), "kallyai-crash-"));
let dev = null;
let up = false;
const tail = [];

function startDev() {
  const child = spawn(
    process.execPath,
    ["scripts/dev.mjs", "--port", String(port), "--persist-to", state, "--var", `SANDBOX_CALL_SECONDS:${CALL_SECONDS}`],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env }, detached: true },
  );
  const take = (chunk) => {
    for (const line of String(chunk).split("\n")) {
      tail.push(line);
      if (tail.length > 200) tail.shift();
    }
  };
  child.stdout.on("data", take);
  child.stderr.on("data", take);
  dev = child;
  return child;
}

/** The pids still in a process group (ps), so that nothing outlives a kill. */
const groupMembers = (pgid) =>
  spawnSync("ps", ["-o", "pid=", "-g", String(pgid)], { encoding: "utf8" })
    .stdout.split("\n")
    .map((s) => s.trim())
    .filter(Boolean);

async function killGroup(signal) {
  if (!dev) return;
  const pgid = dev.pid;
  up = false;
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
  for (let i = 0; i < 100 && groupMembers(pgid).length > 0; i++) await sleep(100);
  if (groupMembers(pgid).length > 0) {
    process.kill(-pgid, "SIGKILL");
    await sleep(500);
  }
  const left = groupMembers(pgid);
  if (left.length > 0) throw new Error(`processes of the dev server outlived its kill: ${left.join(", ")}`);
  dev = null;
}

async function waitUp() {
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (dev?.exitCode !== null) throw new Error(`dev server exited:\n${tail.join("\n")}`);
    try {
      if ((await fetch(`${origin}/health`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`dev server did not start:\n${tail.join("\n")}`);
    await sleep(250);
  }
  up = true;
}

// ── The receiver: fails 30 % of first attempts; counts acknowledgements per webhook-id ─────────

const attempts = new Map(); // webhook-id → { call, type, tries, acks }
const receiver = createServer((req, res) => {
  let body = "";
  req.on("data", (d) => (body += d));
  req.on("end", () => {
    const id = String(req.headers["webhook-id"] ?? "");
    let event = {};
    try {
      event = JSON.parse(body);
    } catch {}
    const seen = attempts.get(id) ?? { call: event.data?.id, type: event.type, tries: 0, acks: 0 };
    attempts.set(id, seen);
    seen.tries++;
    if (seen.tries === 1 && Math.random() < FAIL_RATE) return res.writeHead(503).end("not now");
    seen.acks++;
    res.writeHead(200).end("ok");
  });
});
const receiverPort = await freePort();
await new Promise((r) => receiver.listen(receiverPort, "127.0.0.1", r));

// ── Clients: every call has its own key and is retried until answered ─────────────────────────

const stats = { fiveXX: 0, fiveXXWhileUp: 0, refusedConnections: 0, retried409: 0, refused4xx: [] };
const answered = new Map(); // idempotency key → Set of call ids answered

async function api(path, init = {}, auth) {
  return fetch(`${origin}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${auth}`, "content-type": "application/json", ...init.headers },
  });
}

/** Sends a request until the bridge answers it with something other than a 5xx or a 409. */
async function untilAnswered(send, what) {
  for (let pause = 250; ; pause = Math.min(pause * 2, 3000)) {
    let res;
    const wasUp = up;
    try {
      res = await send();
    } catch {
      stats.refusedConnections++;
      await sleep(pause);
      continue;
    }
    if (res.status >= 500) {
      stats.fiveXX++;
      if (wasUp && up) {
        stats.fiveXXWhileUp++;
        log(`${what}: ${res.status} ${(await res.text()).slice(0, 200)}`);
      }
      await sleep(pause);
      continue;
    }
    if (res.status === 409) {
      stats.retried409++;
      await sleep(Number(res.headers.get("retry-after") ?? 1) * 1000);
      continue;
    }
    return res;
  }
}

async function placeOne(auth, i) {
  const key = `crash-${RUN}-${i}`;
  const body = JSON.stringify({ phone: "+14155551234", task: `Crash soak call ${i + 1}: ask about opening hours` });
  const res = await untilAnswered(
    () => api("/v1/calls", { method: "POST", body, headers: { "idempotency-key": key } }, auth),
    `placing ${key}`,
  );
  if (res.status !== 202 && res.status !== 200) {
    stats.refused4xx.push(`${res.status} ${(await res.text()).slice(0, 200)}`);
    return;
  }
  const { id } = await res.json();
  const ids = answered.get(key) ?? new Set();
  ids.add(id);
  answered.set(key, ids);
  // A client that is unsure (its answer came just as the server died, say) asks again with the
  // same key: it must get the same call back. One call in five does.
  if (i % 5 === 0) {
    const again = await untilAnswered(
      () => api("/v1/calls", { method: "POST", body, headers: { "idempotency-key": key } }, auth),
      `replaying ${key}`,
    );
    if (again.status === 202 || again.status === 200) ids.add((await again.json()).id);
  }
}

async function placeAll(auth) {
  let next = 0;
  const started = Date.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= N) return;
      const due = started + (i / RATE) * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
      await placeOne(auth, i);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, worker));
}

/** Every item of a cursor-paged list of the bridge's API. */
async function allPages(path, auth) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const res = await untilAnswered(
      () => api(`${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, {}, auth),
      `reading ${path}`,
    );
    if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    const page = await res.json();
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

// ── The run ───────────────────────────────────────────────────────────────────────────────────

const acknowledgedCalls = () => {
  const calls = new Set();
  for (const a of attempts.values()) if (a.type === "call.completed" && a.acks > 0) calls.add(a.call);
  return calls;
};

let ok = false;
const stopAll = async () => {
  await killGroup("SIGINT").catch((err) => console.error(String(err)));
  receiver.close();
  rmSync(state, { recursive: true, force: true });
};
process.on("SIGINT", async () => {
  await stopAll();
  process.exit(130);
});

try {
  log(
    `${N} calls (${CALL_SECONDS} s each, ${RATE}/s, ${CLIENTS} clients), ${KILLS} kills, receiver failing ${FAIL_RATE * 100} % of first attempts`,
  );
  startDev();
  await waitUp();
  log(`bridge on ${origin} (state ${state}), receiver on http://127.0.0.1:${receiverPort}`);
  const email = `crash-${RUN}+calls${N * 2}@example.com`;
  const { refreshToken } = await sandboxSignIn(origin, N * 2, email);
  const linked = await (
    await fetch(`${origin}/v1/link`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: refreshToken }),
    })
  ).json();
  const auth = linked.api_key;
  const sub = await api(
    "/v1/webhooks",
    {
      method: "POST",
      body: JSON.stringify({ url: `http://127.0.0.1:${receiverPort}/hook`, events: ["call.completed"] }),
    },
    auth,
  );
  if (sub.status !== 201) throw new Error(`subscribing answered ${sub.status}: ${await sub.text()}`);

  const runStarted = Date.now();
  const placing = placeAll(auth).then(() =>
    log(`all ${N} calls answered, ${Math.round((Date.now() - runStarted) / 1000)} s in`),
  );
  const downtimes = [];
  for (let k = 1; k <= KILLS; k++) {
    await sleep((10 + Math.random() * (UP_SECONDS - 10)) * 1000);
    const answeredSoFar = answered.size;
    await killGroup("SIGKILL");
    const downAt = Date.now();
    log(
      `kill ${k}/${KILLS}: SIGKILL to the dev server's process group (${answeredSoFar}/${N} calls answered, ${acknowledgedCalls().size} outcomes acknowledged)`,
    );
    startDev();
    await waitUp();
    downtimes.push((Date.now() - downAt) / 1000);
    log(`up again after ${downtimes.at(-1).toFixed(1)} s`);
  }
  await placing;

  // Every call ends and its call.completed is acknowledged (bounded).
  const drainUntil = Date.now() + DRAIN_MS;
  const placedIds = () => new Set([...answered.values()].flatMap((s) => [...s]));
  while (Date.now() < drainUntil) {
    const missing = [...placedIds()].filter((id) => !acknowledgedCalls().has(id)).length;
    if (missing === 0) break;
    log(`waiting for ${missing} outcomes to be acknowledged`);
    await sleep(10_000);
  }
  const drainSeconds = Math.round((Date.now() - runStarted) / 1000);

  // Figures, from the public API.
  const calls = await allPages("/v1/calls", auth);
  const events = await allPages("/v1/events", auth);
  const again = await sandboxSignIn(origin, N * 2, email); // the same sandbox user: its KallyAI token
  let upstream = null;
  const upstreamRes = await fetch(`${origin}/sandbox/v1/calls?limit=1`, {
    headers: { authorization: `Bearer ${again.accessToken}` },
  });
  if (upstreamRes.ok) upstream = (await upstreamRes.json()).total;

  const ids = placedIds();
  const keysWithTwoIds = [...answered.values()].filter((s) => s.size > 1).length;
  const perCall = new Map();
  for (const e of events) {
    const m = perCall.get(e.data.id) ?? {};
    m[e.type] = (m[e.type] ?? 0) + 1;
    perCall.set(e.data.id, m);
  }
  const completedCounts = [...ids].map((id) => perCall.get(id)?.["call.completed"] ?? 0);
  const eventsPerCall = [...ids].map((id) => Object.values(perCall.get(id) ?? {}).reduce((a, b) => a + b, 0));
  const finished = calls.filter((c) => ids.has(c.id) && c.finished).length;
  const acked = acknowledgedCalls();
  const lost = [...ids].filter((id) => !acked.has(id)).length;
  let duplicateAcks = 0;
  let firstFailures = 0;
  let tries = 0;
  for (const a of attempts.values()) {
    duplicateAcks += Math.max(0, a.acks - 1);
    tries += a.tries;
    if (a.tries > 1 || a.acks === 0) firstFailures++;
  }
  const statuses = {};
  for (const c of calls) if (ids.has(c.id)) statuses[c.status] = (statuses[c.status] ?? 0) + 1;
  const range = (xs) => (xs.length ? `${Math.min(...xs)}–${Math.max(...xs)}` : "none");

  console.log("");
  console.log(
    `calls: ${N} idempotency keys, ${KILLS} SIGKILLs of the whole npm run dev (down ${downtimes.map((d) => d.toFixed(0)).join(", ")} s), ${drainSeconds} s in all`,
  );
  console.log(
    `placed vs upstream:      ${answered.size} keys answered, ${ids.size} distinct call ids, ${calls.length} calls listed by the bridge, ${upstream ?? "?"} calls at KallyAI (sandbox)`,
  );
  console.log(
    `placed twice:            ${keysWithTwoIds} keys answered with two call ids; ${Math.max(0, (upstream ?? 0) - ids.size)} upstream calls beyond the ids`,
  );
  console.log(
    `refused (4xx):           ${stats.refused4xx.length}${stats.refused4xx.length ? ` e.g. ${stats.refused4xx[0]}` : ""}`,
  );
  console.log(
    `finished:                ${finished}/${ids.size} (${Object.entries(statuses)
      .map(([s, n]) => `${s} ${n}`)
      .join(", ")})`,
  );
  console.log(
    `call.completed per call: ${range(completedCounts)} (events of all types per call: ${range(eventsPerCall)})`,
  );
  console.log(`deliveries lost:         ${lost} (calls whose call.completed was never acknowledged)`);
  console.log(
    `duplicate acks:          ${duplicateAcks} (the same webhook-id answered 2xx again); ${tries} attempts for ${attempts.size} events, ${firstFailures} first attempts failed`,
  );
  console.log(
    `5xx while up:            ${stats.fiveXXWhileUp} (5xx in all: ${stats.fiveXX}; requests refused or cut while down: ${stats.refusedConnections}; 409 retried: ${stats.retried409})`,
  );
  ok =
    lost === 0 &&
    keysWithTwoIds === 0 &&
    ids.size === N &&
    upstream === ids.size &&
    completedCounts.every((n) => n === 1) &&
    stats.refused4xx.length === 0;
} catch (err) {
  console.error(String(err?.stack ?? err));
  console.error(tail.join("\n"));
} finally {
  await stopAll();
  process.exit(ok ? 0 : 1);
}
