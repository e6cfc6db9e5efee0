import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Helpers for test/e2e/cli*.test.ts: the built CLI as a subprocess, and the sandbox's sign-in form. */

export const CLI = "dist/kallyai.mjs";

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json: () => any;
}

/** The environment of a person with no browser, no KallyAI settings and the given credential dir. */
export function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("KALLYAI_") || ["DISPLAY", "WAYLAND_DISPLAY", "BROWSER"].includes(k)) continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

/** Runs `node dist/kallyai.mjs ARGS`; `onStdout` sees the output as it arrives (for --login). */
export function runCli(args: string[], env: NodeJS.ProcessEnv, onStdout?: (soFar: string) => void): Promise<Run> {
  return run(process.execPath, [CLI, ...args], env, onStdout);
}

const shellQuote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** The same inside a pseudo-terminal (util-linux or BSD `script`), as when a person types the command. */
export function runCliInTerminal(
  args: string[],
  env: NodeJS.ProcessEnv,
  onStdout?: (soFar: string) => void,
): Promise<Run> {
  const argv = [process.execPath, CLI, ...args];
  const scriptArgs =
    process.platform === "linux"
      ? ["-qfec", argv.map(shellQuote).join(" "), "/dev/null"]
      : ["-q", "/dev/null", ...argv];
  return run("script", scriptArgs, env, onStdout);
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onStdout?: (soFar: string) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      onStdout?.(stdout);
    });
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) }));
  });
}

export function buildCli(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "build:cli", "--silent"], { stdio: ["ignore", "inherit", "inherit"] });
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`npm run build:cli exited ${code}`))));
  });
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/&amp;/g, "&")
    .replace(/&quot;/g, '"');

/**
 * What a person does in the browser: open the sign-in URL, fill in the sandbox's form with an
 * email, submit it, and follow the redirect to the CLI's 127.0.0.1 callback. Answers that page.
 */
export async function completeSignIn(
  signInUrl: string,
  email: string,
): Promise<{ callbackUrl: URL; status: number; page: string }> {
  const html = await (await fetch(signInUrl)).text();
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no form on the sign-in page:\n${html}`);
  const hidden = Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
      unescapeHtml(m[1]!),
      unescapeHtml(m[2]!),
    ]),
  );
  const submitted = await fetch(new URL(unescapeHtml(action), signInUrl), {
    method: "POST",
    body: new URLSearchParams({ ...hidden, email }),
    redirect: "manual",
  });
  if (submitted.status !== 302)
    throw new Error(`the sign-in form answered ${submitted.status}: ${await submitted.text()}`);
  const callbackUrl = new URL(submitted.headers.get("location")!);
  const callback = await fetch(callbackUrl);
  return { callbackUrl, status: callback.status, page: await callback.text() };
}

/** The sign-in URL the CLI printed, once it has printed it. */
export const printedSignInUrl = (stdout: string) =>
  /(http:\/\/127\.0\.0\.1:\d+\/\S*\/v1\/auth\/cli\?\S+)/.exec(stdout)?.[1];

/**
 * `kallyai --login --no-browser` completed the way a person would. `beforeSignIn` may poke the
 * CLI's callback first (e.g. with a forged state) while it waits.
 */
export async function loginThroughBrowser(
  args: string[],
  env: NodeJS.ProcessEnv,
  email: string,
  beforeSignIn?: (url: URL) => Promise<void>,
) {
  let started: Promise<Awaited<ReturnType<typeof completeSignIn>>> | undefined;
  let signInError: unknown;
  const run = await runCli(["--login", "--no-browser", ...args], env, (out) => {
    const url = printedSignInUrl(out);
    if (!url || started) return;
    started = (async () => {
      await beforeSignIn?.(new URL(url));
      return completeSignIn(url, email);
    })();
    started.catch((err) => (signInError = err));
  });
  if (signInError) throw signInError;
  if (!started) throw new Error(`the CLI printed no sign-in URL:\n${run.stdout}\n${run.stderr}`);
  return { run, browser: await started };
}

/** A loopback HTTP server that counts requests: proof that the CLI sent nothing. */
export async function recordingServer() {
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    requests.push(`${req.method} ${req.url}`);
    res
      .writeHead(500, { "content-type": "application/json" })
      .end('{"error":{"code":"unexpected","message":"no request was expected"}}');
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Every flag of a call, short and long forms mixed, as both CLI modes' tests place it. */
export const EVERY_CALL_FLAG = [
  "-p",
  "(415) 555-1234",
  "-t",
  "Reserve a table for 4 at 8pm",
  "-c",
  "restaurant",
  "-l",
  "es",
  "--name",
  "John Smith",
  "--business",
  "Italian Bistro",
  "--party-size",
  "4",
  "--date",
  "2026-01-28",
  "--time",
  "20:00",
  "--timezone",
  "Europe/Madrid",
  "--time-preference",
  "evening, by the window",
  "--country",
  "US",
];
