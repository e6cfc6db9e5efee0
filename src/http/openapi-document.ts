import type { OpenAPIHono } from "@hono/zod-openapi";
import { finishDocument, keyAuth, TAGS } from "./openapi";
import type { AppEnv } from "./types";

/** The bridge's OpenAPI 3.1 document, as served at /openapi.json. */
export function openApiDocument(app: OpenAPIHono<AppEnv>, origin: string) {
  return finishDocument(
    app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "KallyAI Bridge",
        version: "0.1.0",
        description:
          'KallyAI\'s AI phone calls as simple HTTP endpoints for Zapier, IFTTT, Make, n8n and iOS Shortcuts: place a call, read its outcome, and hear when it ends through webhooks (see `webhooks`), the events feed or trigger URLs. Every failure answers `{"error": {"code", "message"}}`.',
        contact: { name: "KallyAI", url: "https://kallyai.com" },
        license: { name: "Proprietary", url: "https://kallyai.com/terms" },
      },
      servers: [{ url: origin, description: "This bridge" }],
      security: keyAuth,
      tags: TAGS,
    }),
  );
}
