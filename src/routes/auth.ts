import { Hono } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import { deps } from "../domain/deps";
import { REVEAL_TTL_MS, revealKey, sealKeyToShow } from "../domain/key-reveal";
import { takeLinkAttempt } from "../domain/linking";
import { finishSignIn, startSignIn } from "../domain/sign-in";
import { clientBucket } from "../http/client-ip";
import { htmlErrors } from "../http/html-errors";
import type { AppEnv } from "../http/types";
import { escapeHtml, page } from "../shared/html";

const STATE_COOKIE = "kallyai_bridge_state";
const KEY_COOKIE = "kallyai_bridge_new_key";
/** Where a sign-in's new key is shown, once. */
export const KEY_PAGE = "/auth/key";
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
