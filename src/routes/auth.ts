import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { readSessionCookie, safeReturnPath, setSessionCookie } from "../console/session-middleware";
import { endSession, startSession } from "../domain/console-sessions";
import { deps } from "../domain/deps";
import { takeLinkAttempt } from "../domain/linking";
import { finishSignIn, startSignIn } from "../domain/sign-in";
import { clientBucket } from "../http/client-ip";
import { htmlErrors } from "../http/html-errors";
import { errorResponses, noAuth, router } from "../http/openapi";
import type { AppEnv } from "../http/types";

const STATE_COOKIE = "kallyai_bridge_state";
const RETURN_COOKIE = "kallyai_bridge_return";

/** Browser sign-in: pages for people, the same JSON errors for programs. */
export const auth = router();

// Browsers see errors of these pages as a page; programs get the JSON error. Only /auth/*: every
// API path answers JSON whatever Accept says.
const signInErrors = htmlErrors({
  heading: "Sign-in did not complete",
  next: { href: "/auth/login", label: "Start again" },
});
auth.use("/auth/*", signInErrors);

// The sign-in cookies go to "/" too: KallyAI's CLI flow returns to the bare origin (sign-in.ts).
const COOKIE_PATH = "/";

auth.get("/auth/login", async (c) => {
  const url = new URL(c.req.url);
  const { state, location } = await startSignIn(deps(c.env), url);
  const cookie = {
    httpOnly: true,
    sameSite: "Lax",
    path: COOKIE_PATH,
    maxAge: 600,
    secure: url.protocol === "https:",
  } as const;
  setCookie(c, STATE_COOKIE, state, cookie);
  // Where the console sends the person back to once signed in.
  const returnTo = safeReturnPath(c.req.query("return_to"));
  if (returnTo) setCookie(c, RETURN_COOKIE, returnTo, cookie);
  else deleteCookie(c, RETURN_COOKIE, { path: COOKIE_PATH });
  return c.redirect(location, 302);
});

/**
 * Signing in ends in the console: a new console session (any earlier one in this browser ends, so
 * relinking as another account never mixes the two), with the first key shown once on its first page.
 */
const finishInBrowser = async (c: Context<AppEnv>) => {
  const d = deps(c.env);
  // Every callback may import tokens: it counts against the same per-address limit as POST /v1/link.
  await takeLinkAttempt(d, clientBucket(c));
  const { user, key } = await finishSignIn(d, c.req.query(), getCookie(c, STATE_COOKIE));
  deleteCookie(c, STATE_COOKIE, { path: COOKIE_PATH });
  const returnTo = safeReturnPath(getCookie(c, RETURN_COOKIE)) ?? "/console";
  deleteCookie(c, RETURN_COOKIE, { path: COOKIE_PATH });
  await endSession(d, readSessionCookie(c));
  // Signing in to connect an app (OAuth's /authorize) goes back to its consent page; the key this
  // sign-in made stays the console's own, and is not shown.
  const connecting = returnTo.startsWith("/authorize?");
  const session = await startSession(d, user.id, key.id, {
    notice: "Your KallyAI account is linked to this bridge.",
    reveal: connecting
      ? undefined
      : {
          label: `Your API key “${key.name}”`,
          value: key.api_key,
          note: `Scopes: ${key.scopes.join(", ")}. Send it as Authorization: Bearer <key> or X-API-Key: <key>. This console signed in with it; give each tool its own key from the Keys page.`,
        },
  });
  setSessionCookie(c, session.token);
  // A clean URL: KallyAI's CLI flow put its tokens in this one's query string.
  c.header("cache-control", "no-store");
  c.header("referrer-policy", "no-referrer");
  return c.redirect(returnTo, 303);
};
auth.get("/auth/callback", finishInBrowser);

// KallyAI's CLI flow returns to the bare origin: `/` with the sign-in's state and tokens (or error)
// is its callback; any other `/` is the landing page.
const isSignInAnswer = (q: Record<string, string>) =>
  Boolean(q.state && (q.access_token || q.refresh_token || q.error));
auth.use("/", (c, next) => (isSignInAnswer(c.req.query()) ? signInErrors(c, next) : next()));
auth.get("/", (c, next) => (isSignInAnswer(c.req.query()) ? finishInBrowser(c) : next()));

// Pages for people, documented so importers and API references show the sign-in.
const HtmlPage = { "text/html": { schema: z.string().openapi({ example: "<!doctype html>…" }) } };
/** A page answers a browser's failure with a page; anything else gets the JSON error. */
const errorPage = {
  description: "Any error: an HTML page for browsers (Accept: text/html), the JSON error otherwise.",
  content: { ...HtmlPage, "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
};
auth.openAPIRegistry.registerPath({
  method: "get",
  path: "/auth/login",
  operationId: "startSignIn",
  tags: ["sign-in"],
  summary: "Sign in with KallyAI (a page for browsers)",
  request: {
    query: z.object({
      return_to: z
        .string()
        .optional()
        .openapi({ description: "A /console page to open after signing in", example: "/console/calls" }),
    }),
  },
  description:
    "Sends the browser to KallyAI's sign-in, which returns to /auth/callback. Open it in a browser; a program links with POST /v1/link instead. Errors are HTML pages for browsers (Accept: text/html) and JSON otherwise.",
  security: noAuth,
  responses: {
    302: {
      description: "To KallyAI's sign-in",
      headers: {
        Location: { $ref: "#/components/headers/Location" },
        "Set-Cookie": { description: "A single-use sign-in state, for /auth/callback.", schema: { type: "string" } },
      },
    },
    ...errorResponses(400),
    default: errorPage,
  },
});
auth.openAPIRegistry.registerPath({
  method: "get",
  path: "/auth/callback",
  operationId: "finishSignIn",
  tags: ["sign-in"],
  summary:
    "Where KallyAI's sign-in returns: links the account and opens the console, which shows the first API key once",
  description:
    "KallyAI redirects the browser here; it starts a console session (cookie) and sends the browser on to /console (or where /auth/login's return_to said), whose first page shows the new API key once. Not for programs.",
  security: noAuth,
  request: {
    query: z.object({
      state: z.string().openapi({ description: "The state /auth/login started", example: "c2lnbi1pbi1zdGF0ZQ" }),
      code: z.string().optional().openapi({ description: "OAuth flow: the authorization code" }),
      refresh_token: z.string().optional().openapi({ description: "KallyAI CLI flow: the refresh token" }),
      error: z.string().optional().openapi({ description: "Set by KallyAI when the sign-in failed" }),
    }),
  },
  responses: {
    303: {
      description: "Linked: on to the console, whose first page shows the API key once",
      headers: {
        Location: { $ref: "#/components/headers/Location" },
        "Set-Cookie": { description: "The console session (HttpOnly, SameSite=Lax).", schema: { type: "string" } },
      },
    },
    ...errorResponses(400, 401, 429, 502, 504),
    default: errorPage,
  },
});
