#!/usr/bin/env node
// Copies Swagger UI's files from the swagger-ui-dist package into public/docs/assets/, where
// Workers static assets serve them for /docs (no CDN, no network; not bundled into the worker).
// Runs on `npm install` (prepare), before `npm run dev`, and before `npm run deploy`.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const from = dirname(require.resolve("swagger-ui-dist/package.json"));
const to = join(dirname(fileURLToPath(import.meta.url)), "..", "public", "docs", "assets");
mkdirSync(to, { recursive: true });
for (const file of ["swagger-ui-bundle.js", "swagger-ui.css"]) copyFileSync(join(from, file), join(to, file));
