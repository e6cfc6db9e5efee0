import type { Context, MiddlewareHandler } from "hono";
import { type Authenticated, authenticate } from "../domain/api-keys";
import { deps } from "../domain/deps";
import type { Scope } from "../domain/key-signing";
import { authenticateOAuthToken, isOAuthToken, oauthServer, resourceOf, tooLongForOAuth } from "../domain/oauth";
import { ApiError } from "../errors";
import { untallied } from "../storage/d1-tally";
import type { AppEnv } from "./types";

const TOUCH_INTERVAL_MS = 60_000;

/** The key from `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedKey(c: Context): string | undefined {
  const bearer = c.req.header("authorization")?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  return bearer ?? c.req.header("x-api-key")?.trim() ?? undefined;
}

/**
 * The caller of a request: a bridge API key (any route), or an OAuth access token issued for the
 * resource the path belongs to (/mcp or /v1). Either way the same checks follow: scopes, the
 * hourly call guard of its key, revocation on the next request.
 */
export async function authenticateRequest(c: Context<AppEnv>, opts: { callId?: string } = {}): Promise<Authenticated> {
  const token = presentedKey(c);
  if (!token)
    throw new ApiError(
      401,
      "missing_api_key",
      "Send your bridge API key as `Authorization: Bearer <key>` or `X-API-Key: <key>` (get one by linking your account at /auth/login), or an OAuth access token: apps connect by OAuth from the WWW-Authenticate header of this answer.",
    );
  const d = deps(c.env);
  if (!isOAuthToken(token)) return authenticate(d, token, opts);
  const resource = resourceOf(c.req.path);
  const oauth = oauthServer(c.env, c.req.url);
  if (!resource || !oauth)
    throw new ApiError(401, "invalid_token", "OAuth access tokens work at /mcp and /v1 only; send an API key here.");
  if (tooLongForOAuth(token))
    throw new ApiError(401, "invalid_token", "This OAuth access token is not one of this bridge's.");
  return authenticateOAuthToken(d, oauth, resource, token, opts);
}

/**
 * Requires a valid, unrevoked API key of this bridge or OAuth access token for this resource,
 * holding `scope` when one is named. The key's row, the account's rows and the call `callId`
 * names are read in one D1 round trip and reach the route as `c.get("auth").prefetched`.
 */
export const requireKey =
  (scope?: Scope, opts: { callId?: string } = {}): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const auth = await authenticateRequest(c, opts);
    if (scope) assertScope(auth, scope);
    c.set("auth", auth);
    await next();
    // last_used_at is kept to the minute, written after the answer: most requests need no write at all.
    const now = Date.now();
    if (auth.key.last_used_at === null || now - auth.key.last_used_at > TOUCH_INTERVAL_MS)
      background(c, () => deps(c.env).keys.touch(auth.key.id, now, TOUCH_INTERVAL_MS));
  };

/** Refuses a key or token without `scope` (REST routes and MCP tools alike), naming it for a step-up (RFC 6750). */
export function assertScope(auth: Authenticated, scope: Scope): void {
  if (auth.scopes.includes(scope)) return;
  const message = auth.key.oauth_client_id
    ? `This app was not granted the "${scope}" scope. Connect it again and allow "${scope}" on the consent page.`
    : `This API key lacks the "${scope}" scope. Create a key that has it with POST /v1/keys.`;
  throw new ApiError(403, "insufficient_scope", message, {
    headers: { "www-authenticate": `Bearer error="insufficient_scope", scope="${scope}"` },
  });
}

/**
 * Work that may finish after the answer is sent. Pass a function to keep its D1 queries out of
 * the request's dev tally (they are not on the answer's path).
 */
export function background(c: Context, work: Promise<unknown> | (() => Promise<unknown>)): void {
  let ctx: { waitUntil(p: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    ctx = undefined;
  }
  const started = typeof work === "function" ? untallied(work) : work;
  const quiet = started.catch(() => undefined);
  if (ctx) ctx.waitUntil(quiet);
}
