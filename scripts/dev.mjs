#!/usr/bin/env node
// `npm run dev`: the bridge under `wrangler dev` with a local D1 (migrations applied first),
// the KallyAI sandbox as its upstream, and the cron fired on its production cadence, because
// `wrangler dev` never fires crons by itself. Ctrl-C stops both.
//
//   npm run dev -- --port 8790 --var SANDBOX_CALL_SECONDS:2 [--persist-to DIR] [other wrangler flags]
//   npm run dev -- --ip 0.0.0.0          # reachable from a phone on the same network
//   DEV_CRON_SECONDS=10 npm run dev      # fire the cron more often than once a minute
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { networkInterfaces } from "node:os";
import { dirname, join } from "node:path";
import { devPlan, migrationSummary } from "./dev-args.mjs";

const require = createRequire(import.meta.url);
const wranglerBin = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");

let plan;
try {
  plan = devPlan(process.argv.slice(2), process.env);
} catch (err) {
  console.error(`[dev] ${err.message}`);
  process.exit(2);
}
const { wranglerArgs, ip, port, origin, persistTo } = plan;
const cronSeconds = Number(process.env.DEV_CRON_SECONDS ?? 60);

const log = (message) => console.log(`[dev] ${message}`);

// Wrangler's local observability (on by default, whatever [observability] in wrangler.toml says)
// keeps a log line per request with its full URL, on disk under the state directory and served at
// /cdn-cgi/local/explorer. KallyAI's CLI sign-in puts the access and refresh tokens in the query of
// /auth/callback (the sandbox keeps that flow), so under `npm run dev` it is off unless asked for
// with X_LOCAL_OBSERVABILITY=true.
const observability = process.env.X_LOCAL_OBSERVABILITY ?? "false";

function run(argv, { inherit = true } = {}) {
  return spawn(process.execPath, [wranglerBin, ...argv], {
    stdio: inherit ? "inherit" : ["ignore", "pipe", "pipe"],
    // CLOUDFLARE_CF_FETCH_ENABLED=false: miniflare would otherwise download the `Request.cf` sample
    // from workers.cloudflare.com on every start and print a stack trace when offline.
    env: {
      ...process.env,
      CI: "true",
      WRANGLER_SEND_METRICS: "false",
      X_LOCAL_OBSERVABILITY: observability,
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
    },
  });
}

/** Runs wrangler with its output kept, for a one-line summary; the whole output only if it fails. */
async function runQuietly(argv) {
  const child = run(argv, { inherit: false });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  return { code: await exitCode(child), output };
}

function exitCode(child) {
  return new Promise((resolve) => child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

// 0. Swagger UI's files for /docs, as static assets (also done on npm install).
await import("./docs-assets.mjs");

// 1. The schema: D1 migrations, applied to the local database. Idempotent: applied ones are skipped.
// Wrangler prints a table per migration (~170 lines for a fresh database): one line says the same.
const migrate = await runQuietly([
  "d1",
  "migrations",
  "apply",
  "DB",
  "--local",
  ...(persistTo ? ["--persist-to", persistTo] : []),
]);
if (migrate.code !== 0) {
  console.error(migrate.output);
  console.error("[dev] Applying the D1 migrations failed; see above.");
  process.exit(1);
}
log(migrationSummary(migrate.output));

// 2. The bridge: dev defaults, then the user's flags, each flag once (scripts/dev-args.mjs).
const worker = run(wranglerArgs);
let stopping = false;

// 3. The cron, on its production cadence, aligned to the wall clock like Cloudflare's.
let timer;
async function fireCron() {
  try {
    const res = await fetch(`${origin}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
    if (!res.ok) log(`cron tick answered ${res.status}`);
  } catch {
    // The worker is still starting or reloading; the next tick tries again.
  }
}
function scheduleCron() {
  const ms = cronSeconds * 1000;
  const wait = ms - (Date.now() % ms);
  timer = setTimeout(async () => {
    await fireCron();
    if (!stopping) scheduleCron();
  }, wait);
}
scheduleCron();
log(
  `bridge on ${origin} (sandbox at ${origin}/sandbox); cron fires every ${cronSeconds}s; fire it now with: curl '${origin}/__scheduled?cron=*+*+*+*+*'`,
);
if (observability !== "false")
  log(
    "local observability is on (X_LOCAL_OBSERVABILITY): request URLs, sign-in tokens included, are kept in its trace store",
  );
if (ip === "0.0.0.0" || ip === "::") {
  const lan = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === "IPv4" && !a.internal)
    .map((a) => `http://${a.address}:${port}`);
  log(
    `listening on every interface: a phone on the same network can use ${lan.join(" or ") || `http://<this computer's address>:${port}`} (anyone on the network can reach it; the dev secrets are public)`,
  );
}

function stop(signal) {
  if (stopping) return;
  stopping = true;
  clearTimeout(timer);
  worker.kill(signal);
  const force = setTimeout(() => worker.kill("SIGKILL"), 5000);
  force.unref();
}
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));

const code = await exitCode(worker);
clearTimeout(timer);
process.exit(stopping ? 0 : code);
