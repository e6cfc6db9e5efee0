import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

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
  /** Its local D1 and other state (`--persist-to`). */
  stateDir: string;
  output: () => string;
  stop: () => Promise<number | null>;
  /** SIGKILLs the dev runner, wrangler and workerd at once, as a crash would (no clean-up runs). */
  crash: () => Promise<void>;
}

export interface DevServerOptions {
  stateDir?: string;
  /** Seconds between cron ticks (DEV_CRON_SECONDS); 60 by default, like production. */
  cronSeconds?: number;
  /** More environment for the dev server (e.g. SSL_CERT_FILE for a test CA). */
  env?: Record<string, string>;
}

/**
 * Starts `npm run dev` exactly as a person would (scripts/dev.mjs), on its own port and database.
 * A free port asked of the OS can be taken by a parallel test file before wrangler binds it, so a
 * start that fails with "Address already in use" is tried again on another port.
 */
export async function startDevServer(extraArgs: string[] = [], opts: DevServerOptions = {}): Promise<DevServer> {
  const state = opts.stateDir ?? mkdtempSync(join(tmpdir(), "kallyai-dev-"));
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(await freePort(), state, extraArgs, opts);
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt === 3) throw error;
    }
  }
}

class PortTaken extends Error {}

async function launch(port: number, state: string, extraArgs: string[], opts: DevServerOptions): Promise<DevServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["scripts/dev.mjs", "--port", String(port), "--persist-to", state, ...extraArgs],
    {
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so that `crash` reaches wrangler and workerd too.
      detached: true,
      env: {
        ...process.env,
        DEV_CRON_SECONDS: String(opts.cronSeconds ?? process.env.DEV_CRON_SECONDS ?? "60"),
        ...opts.env,
      },
    },
  );
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const origin = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + 120_000; // generous: wrangler takes 30–60 s to start on a busy machine
  for (;;) {
    if (child.exitCode !== null) {
      if (log.includes("Address already in use")) throw new PortTaken(`port ${port} was taken`);
      throw new Error(`dev server exited early:\n${log}`);
    }
    try {
      if ((await fetch(`${origin}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      // The whole group: wrangler and workerd too, or they would outlive the test.
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
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
    crash: async () => {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      await exited;
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

const wranglerBin = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);

/** Rows of a read on a dev server's local D1 (`wrangler d1 execute --local`), while it runs or after. */
export async function d1Rows<T>(stateDir: string, sql: string): Promise<T[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [wranglerBin, "d1", "execute", "DB", "--local", "--persist-to", stateDir, "--json", "--command", sql],
    { env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" } },
  );
  return (JSON.parse(stdout) as Array<{ results: T[] }>)[0]?.results ?? [];
}
