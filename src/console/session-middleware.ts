import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { RequestIdVariables } from "hono/request-id";
import { type ConsoleSession, resolveSession, SESSION_TTL_MS } from "../domain/console-sessions";
import { deps } from "../domain/deps";
import type { Bindings } from "../env";
import { ApiError } from "../errors";

export type ConsoleEnv = { Bindings: Bindings; Variables: RequestIdVariables & { session: ConsoleSession } };

const isHttps = (c: Context) => new URL(c.req.url).protocol === "https:";
/** On https the cookie is `__Host-` prefixed: Secure, host-only, path / (browsers enforce it). */
const sessionCookieName = (c: Context) => (isHttps(c) ? "__Host-kallyai_console" : "kallyai_console");

export const readSessionCookie = (c: Context) => getCookie(c, sessionCookieName(c));

export function setSessionCookie(c: Context, token: string) {
  setCookie(c, sessionCookieName(c), token, {
    httpOnly: true,
    sameSite: "Lax",
    secure: isHttps(c),
    path: "/",
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
}

export function clearSessionCookie(c: Context) {
  deleteCookie(c, sessionCookieName(c), { path: "/", secure: isHttps(c) });
}

/**
 * Where a person goes back to after signing in: a console page of this bridge, or an OAuth
 * authorization it interrupted (`/authorize?` and its parameters, percent-encoded), never another
 * site (no scheme, no `//host`, no backslashes).
 */
export function safeReturnPath(value: string | undefined | null): string | null {
  if (value && value.length <= 3000 && /^\/authorize\?[A-Za-z0-9_\-.=&%+*~]*$/.test(value)) return value;
  if (!value || value.length > 500) return null;
  if (
    !/^\/console(\/[A-Za-z0-9_\-./]*)?(\?[A-Za-z0-9_\-.=&%]*)?$/.test(value) ||
    value.includes("//") ||
    value.includes("/..")
  )
    return null;
  return value;
}

export const signInUrl = (returnTo: string) => `/auth/login?return_to=${encodeURIComponent(returnTo)}`;

/**
 * Requires a live console session. Without one, a page goes to sign-in and comes back here
 * afterwards; a form post goes back to the page it was sent from.
 */
export const requireSession: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  const session = await resolveSession(deps(c.env), readSessionCookie(c));
  if (!session) {
    if (readSessionCookie(c)) clearSessionCookie(c);
    const url = new URL(c.req.url);
    if (url.pathname === "/console/sign-out") return c.redirect("/?signed_out=1", 303);
    const from = c.req.method === "GET" ? url.pathname + url.search : refererPath(c);
    if (c.req.header("accept")?.includes("application/json") && !c.req.header("accept")?.includes("text/html")) {
      throw new ApiError(401, "signed_out", "Your console session ended. Sign in again at /auth/login.");
    }
    return c.redirect(signInUrl(safeReturnPath(from) ?? "/console"), 303);
  }
  c.set("session", session);
  await next();
  c.header("cache-control", "no-store");
};

function refererPath(c: Context): string | null {
  const referer = URL.parse(c.req.header("referer") ?? "");
  return referer && referer.origin === new URL(c.req.url).origin ? referer.pathname + referer.search : null;
}

/**
 * Cross-site request protection for every form that changes something: the request must come
 * from this origin (Origin, else Referer) and carry the session's CSRF token.
 */
export const checkCsrf: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  if (c.req.method !== "POST") return next();
  const own = new URL(c.req.url).origin;
  const origin = c.req.header("origin") ?? URL.parse(c.req.header("referer") ?? "")?.origin;
  if (origin !== own)
    throw new ApiError(
      403,
      "cross_site_request",
      "This form was sent from another site, so it was refused. Open the console and try again.",
    );
  const form = await c.req.parseBody({ all: true }); // the same options as formOf: Hono caches the first parse
  if (typeof form._csrf !== "string" || form._csrf !== c.get("session").csrf) {
    throw new ApiError(
      403,
      "invalid_csrf_token",
      "This form is out of date (it belongs to an earlier sign-in). Reload the page and try again.",
    );
  }
  await next();
};
