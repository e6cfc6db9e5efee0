import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";

// The integrations under integrations/ are packages of their own (Zapier's CLI, n8n's node CLI),
// installed from their committed lockfiles into their own node_modules — outside the root install,
// which stays fast — as their READMEs tell a developer to.

/** A command's exit code and its output, without terminal colours and spinners. */
export function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun, reject) => {
    // Without vitest's NODE_ENV=test: n8n's lint rules read it as "linting the plugin's own fixtures".
    const { NODE_ENV: _testEnv, ...inherited } = process.env;
    const child = spawn(command, args, { cwd, env: { ...inherited, CI: "true", ...env } });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("exit", (code) => resolveRun({ code, output: stripVTControlCharacters(output) }));
  });
}

/** `npm ci` in the package, only when its lockfile changed since the last install there. */
export async function ensureInstalled(dir: string): Promise<{ installed: boolean; seconds: number }> {
  const lockHash = createHash("sha256")
    .update(readFileSync(join(dir, "package-lock.json")))
    .digest("hex");
  const stamp = join(dir, "node_modules", ".installed-from-lock");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === lockHash) return { installed: false, seconds: 0 };
  const started = Date.now();
  const install = await run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefer-offline"], dir);
  if (install.code !== 0) throw new Error(`npm ci in ${dir} failed:\n${install.output}`);
  writeFileSync(stamp, lockHash);
  return { installed: true, seconds: (Date.now() - started) / 1000 };
}
