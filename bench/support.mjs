// What the benches share: a bridge under `npm run dev` on its own port and database, a webhook
// receiver on loopback, a linked sandbox user, percentiles. Loopback only.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { createServer as netServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const log = (m) => console.log(`[bench] ${m}`);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const freePort = () =>
  new Promise((resolve, reject) => {
    const s = netServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });

/** A webhook receiver on http://127.0.0.1: records each request's arrival, webhook-id and body; answers 200. */
export async function startReceiver() {
  const received = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      received.push({ at: Date.now(), id: req.headers["webhook-id"], body });
      res.writeHead(200).end("ok");
    });
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return { received, url: `http://127.0.0.1:${port}/hook`, close: () => server.close() };
}

/**
 * `npm run dev` (scripts/dev.mjs) on a free port and a temporary database, the cron fired every
 * 60 s like production. `onLine` sees every line the worker logs (JSON lines are parsed).
 */
export async function startBridge({ vars = {}, onLine = () => undefined } = {}) {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), "kallyai-bench-"));
  const origin = `http://127.0.0.1:${port}`;
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const dev = spawn(process.execPath, ["scripts/dev.mjs", "--port", String(port), "--persist-to", state, ...varArgs], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, DEV_CRON_SECONDS: "60" },
  });
  const tail = [];
  let partial = "";
  const take = (chunk) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop();
    for (const line of lines) {
      tail.push(line);
      if (tail.length > 200) tail.shift();
      const start = line.indexOf("{");
      if (start === -1) continue;
      try {
        onLine(JSON.parse(line.slice(start)));
      } catch {
        // not a JSON log line
      }
    }
  };
  dev.stdout.on("data", take);
  dev.stderr.on("data", take);
  const stopped = new Promise((r) => dev.on("exit", r));
  const output = () => tail.join("\n");

  const deadline = Date.now() + 90_000;
  for (;;) {
    if (dev.exitCode !== null) throw new Error(`dev server exited:\n${output()}`);
    try {
      if ((await fetch(`${origin}/health`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`dev server did not start:\n${output()}`);
    await sleep(300);
  }

  const wrangler = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");
  return {
    origin,
    output,
    /** Stops the dev server (its database stays readable with `query` until `cleanUp`). */
    stop: async () => {
      dev.kill("SIGINT");
      await Promise.race([stopped, sleep(10_000)]);
    },
    /** One row of a read on the local D1, after `stop`. */
    query: (sql) => {
      const out = spawnSync(
        process.execPath,
        [wrangler, "d1", "execute", "DB", "--local", "--persist-to", state, "--json", "--command", sql],
        {
          encoding: "utf8",
          env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
        },
      );
      try {
        return JSON.parse(out.stdout)[0].results[0];
      } catch {
        return null;
      }
    },
    cleanUp: () => rmSync(state, { recursive: true, force: true }),
  };
}

/**
 * A bench's frame: a webhook receiver (unless `receiver: false`) and a bridge (startBridge's
 * options), then `body({ bridge, receiver })`, which returns whether the run succeeded. A throw
 * prints the error and the dev server's last lines. Everything is stopped either way, and the
 * process exits 0 or 1.
 */
export async function runBench({ receiver: wantsReceiver = true, ...options }, body) {
  const receiver = wantsReceiver ? await startReceiver() : null;
  const bridge = await startBridge(options);
  let ok = false;
  try {
    ok = await body({ bridge, receiver });
  } catch (err) {
    console.error(String(err?.stack ?? err));
    console.error(bridge.output());
  } finally {
    await bridge.stop();
    bridge.cleanUp();
    receiver?.close();
    process.exit(ok ? 0 : 1);
  }
}

/** Signs a new sandbox user in as the CLI does, with a plan of `calls` calls: its KallyAI tokens. */
export async function sandboxSignIn(origin, calls) {
  const signIn = await fetch(`${origin}/sandbox/v1/auth/cli`, {
    method: "POST",
    body: new URLSearchParams({
      redirect_uri: "http://127.0.0.1:8740",
      state: "bench",
      email: `bench-${Date.now()}+calls${calls}@example.com`,
    }),
    redirect: "manual",
  });
  const params = new URL(signIn.headers.get("location")).searchParams;
  return { refreshToken: params.get("refresh_token"), accessToken: params.get("access_token") };
}

/**
 * Links a sandbox user as the CLI does (sandbox sign-in form, POST /v1/link), with a sandbox plan
 * of `calls` calls, and makes `keys` API keys of up to 1,000 calls an hour each (the guard's maximum).
 */
export async function linkUser(origin, { calls, keys = 1, callsPerHour = 20 }) {
  const { refreshToken } = await sandboxSignIn(origin, calls);
  const linked = await (
    await fetch(`${origin}/v1/link`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: refreshToken }),
    })
  ).json();
  const headers = [];
  for (let i = 0; i < keys; i++) {
    const res = await fetch(`${origin}/v1/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${linked.api_key}`, "content-type": "application/json" },
      body: JSON.stringify({ name: `bench-${i + 1}`, calls_per_hour: callsPerHour }),
    });
    if (res.status !== 201) throw new Error(`creating a key answered ${res.status}: ${await res.text()}`);
    headers.push({ authorization: `Bearer ${(await res.json()).api_key}`, "content-type": "application/json" });
  }
  return headers;
}

export async function subscribe(origin, auth, url) {
  const res = await fetch(`${origin}/v1/webhooks`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ url, events: ["call.completed"] }),
  });
  if (res.status !== 201) throw new Error(`subscribing answered ${res.status}: ${await res.text()}`);
}

export async function placeCall(origin, auth, i) {
  const res = await fetch(`${origin}/v1/calls`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ phone: "+14155551234", task: `Benchmark call number ${i + 1}, ask about hours` }),
  });
  if (res.status !== 202) throw new Error(`placing answered ${res.status}: ${await res.text()}`);
  return (await res.json()).id;
}

/** The p-th percentile (nearest rank) of sorted numbers. */
export const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

/** Delivery − call end, in seconds, sorted, for the deliveries of `placed` calls. */
export function latencies(received, placed) {
  const ids = new Set(placed);
  return received
    .map((r) => ({ r, data: JSON.parse(r.body).data }))
    .filter(({ data }) => ids.has(data.id))
    .map(({ r, data }) => (r.at - Date.parse(data.ended_at)) / 1000)
    .sort((a, b) => a - b);
}
