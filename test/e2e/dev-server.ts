import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A free loopback port, asked of the OS. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

export interface DevServer {
  origin: string;
  /** The --persist-to directory: everything the local runtime keeps on disk. */
  stateDir: string;
  output: () => string;
  stop: () => Promise<number | null>;
}

/** Starts `npm run dev` exactly as a person would (scripts/dev.mjs), on its own port and database. */
export async function startDevServer(extraArgs: string[] = [], opts: { stateDir?: string } = {}): Promise<DevServer> {
  const port = await freePort();
  const state = opts.stateDir ?? mkdtempSync(join(tmpdir(), "kallyai-dev-"));
  const child: ChildProcess = spawn(
    process.execPath,
    ["scripts/dev.mjs", "--port", String(port), "--persist-to", state, ...extraArgs],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DEV_CRON_SECONDS: process.env.DEV_CRON_SECONDS ?? "60" },
    },
  );
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const origin = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + 120_000; // generous: wrangler takes 30–60 s to start on a busy machine
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dev server exited early:\n${log}`);
    try {
      if ((await fetch(`${origin}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`dev server did not answer /health within 120 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    origin,
    stateDir: state,
    output: () => log,
    stop: async () => {
      child.kill("SIGINT");
      const code = await exited;
      if (!opts.stateDir) rmSync(state, { recursive: true, force: true });
      return code;
    },
  };
}

/** Probes until it answers something, or fails after `seconds`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, seconds = 60): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
