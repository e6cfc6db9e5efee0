import type { Context } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "./types";

/** The document's server URL as built (src/http/openapi-document.ts); each answer has its own origin instead. */
export const ORIGIN_PLACEHOLDER = "https://bridge-origin.invalid";

/**
 * GET /openapi.json: the document scripts/openapi.mjs built into the static assets, read through the
 * ASSETS binding (wrangler.toml sends /openapi.json to the worker first, so the file itself is never
 * served as it is), with this request's origin as the server.
 */
export async function serveOpenApiDocument(c: Context<AppEnv>) {
  const origin = new URL(c.req.url).origin;
  const file = await c.env.ASSETS.fetch(new Request(`${origin}/openapi.json`));
  if (!file.ok)
    throw new ApiError(
      503,
      "misconfigured",
      "This deployment has no OpenAPI document: build it with `npm run openapi` (wrangler deploy runs it).",
    );
  const text = await file.text();
  return c.body(text.replaceAll(ORIGIN_PLACEHOLDER, origin), 200, { "content-type": "application/json" });
}
