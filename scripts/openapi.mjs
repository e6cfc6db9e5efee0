#!/usr/bin/env node
// Builds the OpenAPI document in Node, with the real @asteasolutions/zod-to-openapi, into
// public/openapi.json; the worker serves that file at /openapi.json with its own origin filled in
// (src/http/openapi-served.ts) and carries none of the generator (bundle/zod-to-openapi-stub).
// Runs before every wrangler build (wrangler.toml [build]: deploy, dev and its reloads), before
// the test pool (vitest.config.ts) and by hand: `npm run openapi`.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

/**
 * Packages stay external (Node loads them), except the OAuth library, which imports the Workers
 * runtime (`cloudflare:workers`): it is bundled, over a stand-in for that module, since building
 * the document only loads the routes.
 */
const workersRuntime = {
  name: "workers-runtime-stand-in",
  setup(b) {
    b.onResolve({ filter: /^@cloudflare\/workers-oauth-provider$/ }, (args) => ({ path: require.resolve(args.path) }));
    b.onResolve({ filter: /^cloudflare:workers$/ }, () => ({ path: "cloudflare:workers", namespace: "stand-in" }));
    b.onLoad({ filter: /.*/, namespace: "stand-in" }, () => ({ contents: "export class WorkerEntrypoint {}" }));
  },
};
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
  plugins: [workersRuntime],
  legalComments: "none",
  logLevel: "warning",
});
try {
  // The OAuth library warns at load when this global lacks the flag CIMD needs; this is no worker.
  globalThis.Cloudflare ??= { compatibilityFlags: { global_fetch_strictly_public: true } };
  const { buildOpenApiDocument } = await import(pathToFileURL(bundled).href);
  const out = join(root, "public", "openapi.json");
  writeFileSync(out, JSON.stringify(buildOpenApiDocument()));
} finally {
  rmSync(bundled, { force: true });
}
