// Shared by the benches: a bridge under `npm run dev` on a free loopback port with its own
// temporary D1, and a sandbox user linked to it. Loopback only.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as netServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const freePort = () =>
  new Promise((resolve, reject) => {
    const s = netServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });

/**
 * Starts scripts/dev.mjs with `vars` (`--var NAME:VALUE` each) and waits for /health.
 * Returns { origin, state, stop(), log() }; `stop` ends the server and deletes its database.
 */
export async function startDevBridge({ vars = {}, env = {}, startTimeoutMs = 90_000 } = {}) {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), "kallyai-bench-"));
  const origin = `http://127.0.0.1:${port}`;
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const dev = spawn(process.execPath, ["scripts/dev.mjs", "--port", String(port), "--persist-to", state, ...varArgs], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let devLog = "";
  dev.stdout.on("data", (d) => (devLog += d));
  dev.stderr.on("data", (d) => (devLog += d));
  const exited = new Promise((r) => dev.on("exit", r));
  const stop = async () => {
    dev.kill("SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    rmSync(state, { recursive: true, force: true });
  };

  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (dev.exitCode !== null) throw new Error(`dev server exited:\n${devLog}`);
    try {
      if ((await fetch(`${origin}/health`)).ok) break;
    } catch {}
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`dev server did not start:\n${devLog}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return { origin, state, stop, log: () => devLog, exited };
}

/**
 * Signs a new user in to the sandbox as the CLI does and links it with POST /v1/link.
 * Returns the bridge's sign-in key and the sandbox's own access token (valid for
 * SANDBOX_TOKEN_TTL_SECONDS), so a bench can also talk to the sandbox directly.
 */
export async function linkSandboxUser(origin, email = `bench-${Date.now()}+calls1000@example.com`) {
  const signIn = await fetch(`${origin}/sandbox/v1/auth/cli`, {
    method: "POST",
    body: new URLSearchParams({ redirect_uri: "http://127.0.0.1:8740/callback", state: "bench", email }),
    redirect: "manual",
  });
  const params = new URL(signIn.headers.get("location")).searchParams;
  const res = await fetch(`${origin}/v1/link`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ refresh_token: params.get("refresh_token") }) });
  if (res.status !== 201) throw new Error(`linking answered ${res.status}: ${await res.text()}`);
  const linked = await res.json();
  return { apiKey: linked.api_key, upstreamAccessToken: params.get("access_token") };
}

/** The p-th percentile (nearest rank) of sorted numbers. */
export const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
