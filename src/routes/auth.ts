import { z } from "@hono/zod-openapi";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import { deps } from "../domain/deps";
import { REVEAL_TTL_MS, revealKey, sealKeyToShow } from "../domain/key-reveal";
import { takeLinkAttempt } from "../domain/linking";
import { finishSignIn, startSignIn } from "../domain/sign-in";
import { clientBucket } from "../http/client-ip";
import { htmlErrors } from "../http/html-errors";
import { errorResponses, noAuth, router } from "../http/openapi";
import { escapeHtml, page } from "../shared/html";

const STATE_COOKIE = "kallyai_bridge_state";
const KEY_COOKIE = "kallyai_bridge_new_key";
/** Where a sign-in's new key is shown, once. */
export const KEY_PAGE = "/auth/key";
const noStore = { "cache-control": "no-store", "referrer-policy": "no-referrer" };

/** Browser sign-in: pages for people, the same JSON errors for programs. */
export const auth = router();

// Browsers see errors of these pages as a page; programs get the JSON error. Only /auth/*: every
// API path answers JSON whatever Accept says.
auth.use("/auth/*", htmlErrors({ heading: "Sign-in did not complete", next: { href: "/auth/login", label: "Start again" } }));

auth.get("/auth/login", async (c) => {
  const url = new URL(c.req.url);
  const { state, location } = await startSignIn(deps(c.env), url);
  setCookie(c, STATE_COOKIE, state, { httpOnly: true, sameSite: "Lax", path: "/auth", maxAge: 600, secure: url.protocol === "https:" });
  return c.redirect(location, 302);
});

auth.get("/auth/callback", async (c) => {
  const d = deps(c.env);
  // Every callback may import tokens: it counts against the same per-address limit as POST /v1/link.
  await takeLinkAttempt(d, clientBucket(c));
  const linked = await finishSignIn(d, c.req.query(), getCookie(c, STATE_COOKIE));
  deleteCookie(c, STATE_COOKIE, { path: "/auth" });
  // The address bar still holds KallyAI's tokens: show the key at a clean URL instead.
  const secure = new URL(c.req.url).protocol === "https:";
  setCookie(c, KEY_COOKIE, await sealKeyToShow(d, linked), { httpOnly: true, sameSite: "Lax", path: KEY_PAGE, maxAge: REVEAL_TTL_MS / 1000, secure });
  c.header("cache-control", "no-store");
  c.header("referrer-policy", "no-referrer");
  return c.redirect(KEY_PAGE, 303);
});

/** The new key, shown once; reloading (or any later visit) says so calmly and offers a way on. */
auth.get(KEY_PAGE, async (c) => {
  const reveal = await revealKey(deps(c.env), getCookie(c, KEY_COOKIE));
  deleteCookie(c, KEY_COOKIE, { path: KEY_PAGE });
  if (reveal.state === "already_shown") {
    return c.html(
      page(
        "Key already shown — KallyAI Bridge",
        `<h1>This key was already shown</h1>
<p>For your safety a new API key appears only once, right after you sign in, and this page has no key to show any more. Your account stays linked.</p>
<h2>Did not copy it?</h2>
<ul>
<li><a href="/auth/login">Sign in again</a>: you get a new key with every scope. Then revoke the one you lost with <code>DELETE /v1/keys/{id}</code> (<code>GET /v1/keys</code> lists them).</li>
<li>Already have a key? Make one per tool with <code>POST /v1/keys</code>; see the README's "Keys" section and the API at <a href="/openapi.json">/openapi.json</a>.</li>
</ul>`,
      ),
      200,
      noStore,
    );
  }
  const { key } = reveal;
  const origin = new URL(c.req.url).origin;
  return c.html(
    page(
      "Linked — KallyAI Bridge",
      `<h1>Your KallyAI account is linked</h1>
<p>This is your API key. <strong>It is shown only once</strong>: copy it into your tool now.</p>
<pre id="api-key">${escapeHtml(key.api_key)}</pre>
<p class="note">Key id <code>${escapeHtml(key.key_id)}</code> · user <code>${escapeHtml(key.user_id)}</code> · scopes ${escapeHtml(key.scopes.join(", "))}</p>
<h2>Next</h2>
<ol>
<li>Check it: <code>curl -H "Authorization: Bearer $KEY" ${escapeHtml(origin)}/v1/me</code></li>
<li>This key can manage your account (<code>account:manage</code>). Give each tool (Zapier, IFTTT, a Shortcut) its own key instead: <code>POST /v1/keys</code> makes one without that scope, so you can revoke one alone.</li>
<li>The endpoints and recipes are in the README; the API is described at <a href="/openapi.json">/openapi.json</a>.</li>
</ol>`,
    ),
    200,
    noStore,
  );
});

// Pages for people, documented so importers and API references show the sign-in.
const HtmlPage = { "text/html": { schema: z.string().openapi({ example: "<!doctype html>…" }) } };
/** A page answers a browser's failure with a page; anything else gets the JSON error. */
const errorPage = { description: "Any error: an HTML page for browsers (Accept: text/html), the JSON error otherwise.", content: { ...HtmlPage, "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
auth.openAPIRegistry.registerPath({
  method: "get",
  path: "/auth/login",
  operationId: "startSignIn",
  tags: ["sign-in"],
  summary: "Sign in with KallyAI (a page for browsers)",
  description: "Sends the browser to KallyAI's sign-in, which returns to /auth/callback. Open it in a browser; a program links with POST /v1/link instead. Errors are HTML pages for browsers (Accept: text/html) and JSON otherwise.",
  security: noAuth,
  responses: {
    302: { description: "To KallyAI's sign-in", headers: { Location: { $ref: "#/components/headers/Location" }, "Set-Cookie": { description: "A single-use sign-in state, for /auth/callback.", schema: { type: "string" } } } },
    ...errorResponses(400),
    default: errorPage,
  },
});
auth.openAPIRegistry.registerPath({
  method: "get",
  path: "/auth/callback",
  operationId: "finishSignIn",
  tags: ["sign-in"],
  summary: "Where KallyAI's sign-in returns: links the account and shows the first API key once",
  description: "KallyAI redirects the browser here; the page shows the new API key once. Not for programs.",
  security: noAuth,
  request: {
    query: z.object({
      state: z.string().openapi({ description: "The state /auth/login started", example: "c2lnbi1pbi1zdGF0ZQ" }),
      code: z.string().optional().openapi({ description: "OAuth flow: the authorization code" }),
      refresh_token: z.string().optional().openapi({ description: "KallyAI CLI flow: the refresh token" }),
      error: z.string().optional().openapi({ description: "Set by KallyAI when the sign-in failed" }),
    }),
  },
  responses: { 200: { description: "The account is linked; the page shows the API key once", content: HtmlPage }, ...errorResponses(400, 401, 429, 502, 504), default: errorPage },
});
