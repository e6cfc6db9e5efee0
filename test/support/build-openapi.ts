import { execFileSync } from "node:child_process";

/**
 * Vitest global setup (Node, before the workers pool starts): the worker serves /openapi.json from
 * public/openapi.json, which scripts/openapi.mjs builds from the routes as they are now.
 */
export default function buildOpenApiDocument() {
  execFileSync(process.execPath, ["scripts/openapi.mjs"], { stdio: "inherit" });
}
