import { Hono } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import { deps } from "../domain/deps";
import { endSession, startSession } from "../domain/console-sessions";
import { finishSignIn, startSignIn } from "../domain/sign-in";
import { readSessionCookie, safeReturnPath, setSessionCookie } from "../console/session";
import { toApiError } from "../errors";
import type { AppEnv } from "../http/types";
import { escapeHtml, page } from "../shared/html";

const STATE_COOKIE = "kallyai_bridge_state";
const RETURN_COOKIE = "kallyai_bridge_return";
const noStore = { "cache-control": "no-store", "referrer-policy": "no-referrer" };

/** Browser sign-in: pages for people, the same JSON errors for programs. */
export const auth = new Hono<AppEnv>();

auth.use("/auth/*", async (c, next) => {
  await next();
  if (c.error && (c.req.header("accept") ?? "").includes("text/html")) {
    const err = toApiError(c.error);
    c.res = c.html(page("Sign-in problem — KallyAI Bridge", `<h1>Sign-in did not complete</h1><p>${escapeHtml(err.message)}</p><p><a href="/auth/login">Start again</a></p>`), err.status, noStore);
  }
});

auth.get("/auth/login", async (c) => {
  const url = new URL(c.req.url);
  const { state, location } = await startSignIn(deps(c.env), url);
  const cookie = { httpOnly: true, sameSite: "Lax", path: "/auth", maxAge: 600, secure: url.protocol === "https:" } as const;
  setCookie(c, STATE_COOKIE, state, cookie);
  // Where the console sends the person back to once signed in.
  const returnTo = safeReturnPath(c.req.query("return_to"));
  if (returnTo) setCookie(c, RETURN_COOKIE, returnTo, cookie);
  else deleteCookie(c, RETURN_COOKIE, { path: "/auth" });
  return c.redirect(location, 302);
});

/**
 * Signing in ends in the console: a new console session (any earlier one in this browser ends, so
 * relinking as another account never mixes the two), with the first key shown once on its first page.
 */
auth.get("/auth/callback", async (c) => {
  const d = deps(c.env);
  const { user, key } = await finishSignIn(d, c.req.query(), getCookie(c, STATE_COOKIE));
  deleteCookie(c, STATE_COOKIE, { path: "/auth" });
  const returnTo = safeReturnPath(getCookie(c, RETURN_COOKIE)) ?? "/console";
  deleteCookie(c, RETURN_COOKIE, { path: "/auth" });
  await endSession(d, readSessionCookie(c));
  const session = await startSession(d, user.id, key.id, {
    notice: "Your KallyAI account is linked to this bridge.",
    reveal: {
      label: `Your API key “${key.name}”`,
      value: key.api_key,
      note: `Scopes: ${key.scopes.join(", ")}. Send it as Authorization: Bearer <key> or X-API-Key: <key>. This console signed in with it; give each tool its own key from the Keys page.`,
    },
  });
  setSessionCookie(c, session.token);
  return c.redirect(returnTo, 303);
});
