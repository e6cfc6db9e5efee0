import { OpenAPIHono } from "@hono/zod-openapi";
import { requestId } from "hono/request-id";
import { errorHandler, errorResponse } from "./errors";
import { allowedMethods, routeNotFound } from "./http/method-not-allowed";
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
import { me } from "./routes/me";
import { webhooks } from "./routes/webhooks";
import { sandbox, sandboxEnabled } from "./sandbox/app";
import { consoleApp } from "./console/app";
import { docs } from "./console/pages/docs";
import { landing } from "./console/pages/landing";

export function createApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use(requestId());

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

  // Pages for people: the landing page, the console and the API reference.
  app.route("/", landing);
  app.route("/", docs);
  app.route("/console", consoleApp);

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
