import { Hono } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import { deps } from "../domain/deps";
import { finishSignIn, startSignIn } from "../domain/sign-in";
import { htmlErrors } from "../http/html-errors";
import type { AppEnv } from "../http/types";
import { escapeHtml, page } from "../shared/html";

const STATE_COOKIE = "kallyai_bridge_state";
const noStore = { "cache-control": "no-store", "referrer-policy": "no-referrer" };

/** Browser sign-in: pages for people, the same JSON errors for programs. */
export const auth = new Hono<AppEnv>();

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
  const { user, key } = await finishSignIn(deps(c.env), c.req.query(), getCookie(c, STATE_COOKIE));
  deleteCookie(c, STATE_COOKIE, { path: "/auth" });
  const origin = new URL(c.req.url).origin;
  return c.html(
    page(
      "Linked — KallyAI Bridge",
      `<h1>Your KallyAI account is linked</h1>
<p>This is your API key. <strong>It is shown only once</strong>: copy it into your tool now.</p>
<pre id="api-key">${escapeHtml(key.api_key)}</pre>
<p class="note">Key id <code>${escapeHtml(key.id)}</code> · user <code>${escapeHtml(user.id)}</code> · scopes ${escapeHtml(key.scopes.join(", "))}</p>
<h2>Next</h2>
<ol>
<li>Check it: <code>curl -H "Authorization: Bearer $KEY" ${escapeHtml(origin)}/v1/me</code></li>
<li>Give each tool (Zapier, IFTTT, a Shortcut, the CLI) its own key: <code>POST /v1/keys</code>, so you can revoke one alone.</li>
<li>The endpoints and recipes are in the README; the API is described at <a href="/openapi.json">/openapi.json</a>.</li>
</ol>`,
    ),
    200,
    noStore,
  );
});
