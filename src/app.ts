import { OpenAPIHono } from "@hono/zod-openapi";
import { requestId } from "hono/request-id";
import { errorHandler, errorResponse } from "./errors";
import { allowedMethods, routeNotFound } from "./http/method-not-allowed";
import type { AppEnv } from "./http/types";
import { validationHook } from "./http/validation";
import { health } from "./routes/health";
import { sandbox, sandboxEnabled } from "./sandbox/app";

export function createApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use(requestId());

  app.route("/", health);

  app.use("/sandbox/*", sandboxEnabled);
  app.route("/sandbox", sandbox);

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
