import type { Context } from "hono";
import { Hono } from "hono";
import { toApiError } from "../errors";
import { logError } from "../shared/log";
import { CONSOLE_CSS, CONSOLE_JS } from "./assets";
import { render } from "./layout";
import { accountPages } from "./pages/account";
import { appPages } from "./pages/apps";
import { callPages } from "./pages/calls";
import { ErrorPage } from "./pages/error";
import { keyPages } from "./pages/keys";
import { overviewPage } from "./pages/overview";
import { recipePages } from "./pages/recipes";
import { triggerPages } from "./pages/triggers";
import { webhookPages } from "./pages/webhooks";
import { securePages } from "./security";
import { type ConsoleEnv, checkCsrf, requireSession } from "./session-middleware";

/** Failures on a page answer a page that says what happened and what to do. */
async function htmlError(err: unknown, c: Context) {
  const apiError = toApiError(err);
  if (apiError.status >= 500) logError({ request_id: c.get("requestId"), code: apiError.code }, err);
  return c.html(await render(<ErrorPage status={apiError.status} message={apiError.message} />), apiError.status, {
    "cache-control": "no-store",
  });
}

const assets = new Hono();
const immutable = { "cache-control": "public, max-age=300" };
assets.get("/app.css", (c) => c.body(CONSOLE_CSS, 200, { ...immutable, "content-type": "text/css; charset=utf-8" }));
assets.get("/app.js", (c) =>
  c.body(CONSOLE_JS, 200, { ...immutable, "content-type": "text/javascript; charset=utf-8" }),
);

/** The web console: one page per resource, all through the same domain modules as the API. */
export const consoleApp = new Hono<ConsoleEnv>();
consoleApp.use(securePages());
consoleApp.route("/assets", assets);
consoleApp.route("/", recipePages); // public: it works signed in or not
consoleApp.use(requireSession);
consoleApp.use(checkCsrf);
consoleApp.route("/", overviewPage);
consoleApp.route("/", keyPages);
consoleApp.route("/", appPages);
consoleApp.route("/", callPages);
consoleApp.route("/", webhookPages);
consoleApp.route("/", triggerPages);
consoleApp.route("/", accountPages);
// Mounted apps share the main app's notFound, so the console answers its own unknown pages here.
consoleApp.all("*", async (c) =>
  c.html(await render(<ErrorPage status={404} message="There is no such page in the console." />), 404),
);
consoleApp.onError(htmlError);
