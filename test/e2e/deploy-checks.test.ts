import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";

// What `wrangler deploy` would refuse or regret, checked without a Cloudflare account.
const run = promisify(execFile);
// 230 KiB since the third wave (223.2 KiB then): docs/configuration.md gives the start-up times measured.
const GZIP_LIMIT_BYTES = 230 * 1024;
const outdir = mkdtempSync(join(tmpdir(), "kallyai-bundle-"));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** Runs an npm script's command through npm, so Node 24 and the local wrangler are used. */
async function npm(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run("npm", args, {
      env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

describe("deploy checks", () => {
  it("worker-configuration.d.ts matches wrangler.toml (npm run types -- --check)", async () => {
    const { code, output } = await npm(["run", "types", "--", "--check"]);
    expect(code, `${output}\nRegenerate it with \`npm run types\` after changing wrangler.toml, and commit it.`).toBe(
      0,
    );
    expect(output).toContain("up to date");
  });

  it("wrangler.toml minifies the bundle", () => {
    expect(readFileSync("wrangler.toml", "utf8")).toMatch(/^minify\s*=\s*true\s*$/m);
  });

  it(`the gzipped worker bundle stays under ${GZIP_LIMIT_BYTES / 1024} KiB (wrangler deploy --dry-run)`, async () => {
    const { code, output } = await npm(["exec", "--", "wrangler", "deploy", "--dry-run", "--outdir", outdir]);
    expect(code, output).toBe(0);
    const modules = readdirSync(outdir).filter((f) => /\.(m?js|wasm)$/.test(f));
    expect(modules.length).toBeGreaterThan(0);
    const sizes = modules.map((f) => {
      const bytes = readFileSync(join(outdir, f));
      return { file: f, raw: bytes.length, gzip: gzipSync(bytes).length };
    });
    const gzip = sizes.reduce((n, s) => n + s.gzip, 0);
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    const report = `worker bundle: ${sizes.map((s) => `${s.file} ${kib(s.raw)} (gzip ${kib(s.gzip)})`).join(", ")}; total gzip ${kib(gzip)} of ${kib(GZIP_LIMIT_BYTES)} allowed`;
    console.log(report);
    expect(gzip, `${report}. Trim dependencies or lazy-load large ones.`).toBeLessThanOrEqual(GZIP_LIMIT_BYTES);
  });
});
