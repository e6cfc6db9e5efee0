import { createApp } from "../app";
import { registerEventWebhooks } from "../routes/events";
import { registerOAuthDocs } from "../routes/oauth-docs";
import { CallInputSchema } from "../shared/call-input";
import { finishDocument, keyAuth, registerSharedComponents, TAGS } from "./openapi";
import { ORIGIN_PLACEHOLDER } from "./openapi-served";

/**
 * The bridge's OpenAPI 3.1 document, built in Node by scripts/openapi.mjs (never in the worker,
 * which serves the result: src/http/openapi-served.ts). Its server is a placeholder the worker
 * replaces with the origin each request came to.
 */
export function buildOpenApiDocument(origin = ORIGIN_PLACEHOLDER) {
  const app = createApp();
  app.openAPIRegistry.register("CallInput", CallInputSchema);
  registerSharedComponents(app.openAPIRegistry);
  registerEventWebhooks(app.openAPIRegistry);
  registerOAuthDocs(app.openAPIRegistry);
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
