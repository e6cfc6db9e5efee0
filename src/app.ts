import { OpenAPIHono } from "@hono/zod-openapi";
import { configProblem } from "./domain/health";
import { errorHandler, errorResponse } from "./errors";
import { bodyLimits } from "./http/body-limit";
import { allowedMethods, routeNotFound } from "./http/method-not-allowed";
import { requestIds } from "./http/request-id";
import { securityHeaders } from "./http/security-headers";
import type { AppEnv } from "./http/types";
import { validationHook } from "./http/validation";
import { CallInputSchema } from "./shared/call-input";
import { account } from "./routes/account";
import { admin } from "./routes/admin";
import { calls } from "./routes/calls";
import { events } from "./routes/events";
import { triggers, triggerUrls } from "./routes/triggers";
import { auth } from "./routes/auth";
import { health } from "./routes/health";
import { keys } from "./routes/keys";
import { link } from "./routes/link";
import { mcp } from "./routes/mcp";
import { me } from "./routes/me";
import { webhooks } from "./routes/webhooks";
import { sandbox, sandboxEnabled } from "./sandbox/app";

export function createApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  // Order matters: the request id and security headers wrap every answer, errors included;
  // bodies are measured before any route reads them.
  app.use(requestIds());
  app.use(securityHeaders());
  app.use(bodyLimits());
  // A deployment on missing or public dev secrets serves nothing: every request but GET /health
  // (which says why) answers 503 misconfigured.
  app.use(async (c, next) => {
    if (c.req.path !== "/health") {
      const problem = await configProblem(c.env);
      if (problem) throw problem;
    }
    await next();
  });

  app.route("/", health);
  app.route("/", auth);
  app.route("/", link);
  app.route("/", me);
  app.route("/", keys);
  app.route("/", calls);
  app.route("/", account);
  app.route("/", triggers);
  app.route("/", triggerUrls);
  app.route("/", admin);
  app.route("/", webhooks);
  app.route("/", events);
  app.route("/", mcp);

  app.use("/sandbox/*", sandboxEnabled);
  app.route("/sandbox", sandbox);

  app.openAPIRegistry.register("CallInput", CallInputSchema);
  app.openAPIRegistry.registerComponent("securitySchemes", "ApiKey", { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "A bridge API key (from /auth/login, POST /v1/link or POST /v1/keys)." });
  app.openAPIRegistry.registerComponent("securitySchemes", "ApiKeyHeader", { type: "apiKey", in: "header", name: "X-API-Key" });
  app.doc31("/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: {
      title: "KallyAI Bridge",
      version: "0.1.0",
      description: "KallyAI's AI phone calls as simple HTTP endpoints for Zapier, IFTTT, Make, n8n and iOS Shortcuts.",
    },
    servers: [{ url: new URL(c.req.url).origin }],
  }));

  const allowed = allowedMethods(app);
  app.notFound((c) => errorResponse(routeNotFound(allowed(c.req.method, c.req.path), c.req.method, c.req.path)));
  app.onError(errorHandler);
  return app;
}

export const app = createApp();
