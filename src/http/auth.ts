import type { Context, MiddlewareHandler } from "hono";
import { type Authenticated, authenticate } from "../domain/api-keys";
import { deps } from "../domain/deps";
import type { Scope } from "../domain/key-signing";
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
 * Requires a valid, unrevoked API key of this bridge, holding `scope` when one is named. The
 * key's row, the account's rows and the call `callId` names are read in one D1 round trip and
 * reach the route as `c.get("auth").prefetched`.
 */
export const requireKey =
  (scope?: Scope, opts: { callId?: string } = {}): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const token = presentedKey(c);
    if (!token)
      throw new ApiError(
        401,
        "missing_api_key",
        "Send your bridge API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Get one by linking your account at /auth/login.",
      );
    const d = deps(c.env);
    const auth = await authenticate(d, token, opts);
    if (scope) assertScope(auth, scope);
    c.set("auth", auth);
    await next();
    // last_used_at is kept to the minute, written after the answer: most requests need no write at all.
    const now = Date.now();
    if (auth.key.last_used_at === null || now - auth.key.last_used_at > TOUCH_INTERVAL_MS)
      background(c, () => d.keys.touch(auth.key.id, now, TOUCH_INTERVAL_MS));
  };

/** Refuses a key without `scope` (REST routes and MCP tools alike). */
export function assertScope(auth: Authenticated, scope: Scope): void {
  if (!auth.scopes.includes(scope))
    throw new ApiError(
      403,
      "insufficient_scope",
      `This API key lacks the "${scope}" scope. Create a key that has it with POST /v1/keys.`,
    );
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
