import { OpenAPIHono } from "@hono/zod-openapi";
import { consoleApp } from "./console/app";
import { docs } from "./console/pages/docs";
import { landing } from "./console/pages/landing";
import { configProblem } from "./domain/health";
import { errorHandler, errorResponse } from "./errors";
import { bodyLimits } from "./http/body-limit";
import { d1TallyHeaders } from "./http/d1-tally-headers";
import { routeNotFound, wrongMethods } from "./http/method-not-allowed";
import { registerSharedComponents } from "./http/openapi";
import { openApiDocument } from "./http/openapi-document";
import { requestIds } from "./http/request-id";
import { securityHeaders } from "./http/security-headers";
import type { AppEnv } from "./http/types";
import { validationHook } from "./http/validation";
import { account } from "./routes/account";
import { admin } from "./routes/admin";
import { auth } from "./routes/auth";
import { calls } from "./routes/calls";
import { events, registerEventWebhooks } from "./routes/events";
import { health } from "./routes/health";
import { keys } from "./routes/keys";
import { link } from "./routes/link";
import { mcp } from "./routes/mcp";
import { me } from "./routes/me";
import { triggers, triggerUrls } from "./routes/triggers";
import { webhooks } from "./routes/webhooks";
import { sandbox, sandboxEnabled } from "./sandbox/app";
import { CallInputSchema } from "./shared/call-input";

export function createApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  // Order matters: the request id and security headers wrap every answer, errors included;
  // bodies are measured before any route reads them.
  app.use(requestIds());
  app.use(securityHeaders());
  app.use(d1TallyHeaders);
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
  app.use(wrongMethods(app));

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

  // Pages for people: the landing page, the console and the API reference.
  app.route("/", landing);
  app.route("/", docs);
  app.route("/console", consoleApp);

  app.use("/sandbox/*", sandboxEnabled);
  app.route("/sandbox", sandbox);

  app.openAPIRegistry.register("CallInput", CallInputSchema);
  registerSharedComponents(app.openAPIRegistry);
  registerEventWebhooks(app.openAPIRegistry);
  app.get("/openapi.json", (c) => c.json(openApiDocument(app, new URL(c.req.url).origin)));

  app.notFound((c) => errorResponse(routeNotFound(c.req.path)));
  app.onError(errorHandler);
  return app;
}

export const app = createApp();
