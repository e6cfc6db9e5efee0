import { OpenAPIHono } from "@hono/zod-openapi";
import { consoleApp } from "./console/app";
import { authorizePages } from "./console/pages/authorize";
import { docs } from "./console/pages/docs";
import { landing } from "./console/pages/landing";
import { configProblem } from "./domain/health";
import { errorHandler, errorResponse } from "./errors";
import { bodyLimits } from "./http/body-limit";
import { bearerChallenge } from "./http/challenge";
import { d1TallyHeaders } from "./http/d1-tally-headers";
import { iftttErrorShape } from "./http/ifttt-errors";
import { routeNotFound, wrongMethods } from "./http/method-not-allowed";
import { oauthErrorShape } from "./http/oauth-errors";
import { serveOpenApiDocument } from "./http/openapi-served";
import { requestIds } from "./http/request-id";
import { securityHeaders } from "./http/security-headers";
import type { AppEnv } from "./http/types";
import { validationHook } from "./http/validation";
import { account } from "./routes/account";
import { admin } from "./routes/admin";
import { auth } from "./routes/auth";
import { calls } from "./routes/calls";
import { events } from "./routes/events";
import { health } from "./routes/health";
import { ifttt } from "./routes/ifttt";
import { keys } from "./routes/keys";
import { link } from "./routes/link";
import { mcp } from "./routes/mcp";
import { me } from "./routes/me";
import { oauth } from "./routes/oauth";
import { triggers, triggerUrls } from "./routes/triggers";
import { webhooks } from "./routes/webhooks";
import { sandbox, sandboxEnabled } from "./sandbox/app";

export function createApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  // Order matters: the request id and security headers wrap every answer, errors included;
  // bodies are measured before any route reads them.
  app.use(requestIds());
  app.use(securityHeaders());
  app.use(d1TallyHeaders);
  // The OAuth endpoints answer every error in OAuth's shape, the body limit's and 405s included.
  app.use("/oauth/*", oauthErrorShape);
  app.use("/.well-known/*", oauthErrorShape);
  // IFTTT's Service API answers every error in IFTTT's shape, with the statuses IFTTT knows.
  app.use("/ifttt/*", iftttErrorShape);
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

  // Every 401 of the protected resources says where to get a token (RFC 6750, RFC 9728).
  app.use("/v1/*", bearerChallenge);
  app.use("/mcp", bearerChallenge);

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
  app.route("/", oauth);
  app.route("/ifttt/v1", ifttt);

  // Pages for people: the landing page, the console and the API reference.
  app.route("/", landing);
  app.route("/", docs);
  app.route("/", authorizePages);
  app.route("/console", consoleApp);

  app.use("/sandbox/*", sandboxEnabled);
  app.route("/sandbox", sandbox);

  // Built in Node from these routes' definitions (scripts/openapi.mjs), not in the worker.
  app.get("/openapi.json", serveOpenApiDocument);

  app.notFound((c) => errorResponse(routeNotFound(c.req.path)));
  app.onError(errorHandler);
  return app;
}

export const app = createApp();
