import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveOpenApiDocument } from "../../src/http/openapi-served";

const run = promisify(execFile);
const bin = (name: string) => join("node_modules", ".bin", name);

/** Runs a linter; its exit code is not the verdict (the counts are), so a failing run is read like a passing one. */
async function lint(file: string, args: string[]): Promise<string> {
  try {
    return (await run(file, args, { maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (err) {
    return (err as { stdout?: string }).stdout ?? "";
  }
}

let dir: string;
let docPath: string;
beforeAll(async () => {
  // The document as a deployed bridge serves it (its server is the origin it was fetched from):
  // the file scripts/openapi.mjs built (vitest's global setup), through the worker's own handler
  // and a stand-in for the ASSETS binding.
  const built = readFileSync("public/openapi.json");
  const served = new Hono().get("/openapi.json", serveOpenApiDocument as never);
  const res = await served.request(
    "https://bridge.kallyai.com/openapi.json",
    {},
    {
      ASSETS: { fetch: async () => new Response(built) },
    },
  );
  expect(res.status).toBe(200);
  dir = mkdtempSync(join(tmpdir(), "kallyai-openapi-"));
  docPath = join(dir, "openapi.json");
  writeFileSync(docPath, JSON.stringify(await res.json(), null, 2));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the OpenAPI document, checked by linters nobody here wrote", () => {
  it("Spectral (spectral:oas): 0 errors, 0 warnings", async () => {
    const report = join(dir, "spectral.json");
    await lint(bin("spectral"), [
      "lint",
      "--ruleset",
      ".spectral.json",
      "--format",
      "json",
      "--output",
      report,
      docPath,
    ]);
    const problems = JSON.parse(readFileSync(report, "utf8")) as Array<{
      code: string;
      message: string;
      path: string[];
      severity: number;
    }>;
    // Severity 0 is an error, 1 a warning; infos and hints do not count.
    expect(
      problems.filter((p) => p.severity <= 1).map((p) => `${p.code} at ${p.path.join(".")}: ${p.message}`),
    ).toEqual([]);
  });

  it("Redocly (recommended): 0 errors, 0 warnings", async () => {
    const out = await lint(bin("redocly"), ["lint", "--extends", "recommended", "--format", "json", docPath]);
    const report = JSON.parse(out.slice(out.indexOf("{"))) as {
      totals: { errors: number; warnings: number };
      problems: Array<{ ruleId: string; message: string; location: Array<{ pointer: string }> }>;
    };
    expect(report.problems.map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });
});
