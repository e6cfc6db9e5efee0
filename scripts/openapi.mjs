#!/usr/bin/env node
// Builds the OpenAPI document in Node, with the real @asteasolutions/zod-to-openapi, into
// public/openapi.json; the worker serves that file at /openapi.json with its own origin filled in
// (src/http/openapi-served.ts) and carries none of the generator (bundle/zod-to-openapi-stub).
// Runs before every wrangler build (wrangler.toml [build]: deploy, dev and its reloads), before
// the test pool (vitest.config.ts) and by hand: `npm run openapi`.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const work = join(root, "node_modules", ".cache", "kallyai-openapi");
const bundled = join(work, `document-${process.pid}.mjs`);
mkdirSync(work, { recursive: true });
await build({
  entryPoints: [join(root, "src", "http", "openapi-document.ts")],
  outfile: bundled,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  legalComments: "none",
  logLevel: "warning",
});
try {
  const { buildOpenApiDocument } = await import(pathToFileURL(bundled).href);
  const out = join(root, "public", "openapi.json");
  writeFileSync(out, JSON.stringify(buildOpenApiDocument()));
} finally {
  rmSync(bundled, { force: true });
}
