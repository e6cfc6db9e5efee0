import { decodeJwt } from "jose";
import { ApiError } from "../errors";
import type { TokenSet } from "../kallyai/schemas";
import { randomBase64Url } from "../shared/encoding";
import type { RefreshGrant, UserRow } from "../storage/accounts";
import { type IssuedKey, issueSignInKey } from "./api-keys";
import type { Deps } from "./deps";
import { type OAuthServer, revokeAllApps } from "./oauth";
import { sealTokens } from "./upstream-session";

/** Each address (an IPv6 /64) may try to link this many times per window: tokens are not guessable, but tries are cheap. */
const LINK_ATTEMPTS = 10;
const LINK_WINDOW_MS = 10 * 60 * 1000;

/**
 * Counts one token import (POST /v1/link or a sign-in's /auth/callback) for `bucket`, the
 * caller's address; past LINK_ATTEMPTS in the window it answers 429 with Retry-After.
 */
export async function takeLinkAttempt(d: Deps, bucket: string, now = Date.now()): Promise<void> {
  const window = Math.floor(now / LINK_WINDOW_MS);
  const resetAt = (window + 1) * LINK_WINDOW_MS;
  if (!(await d.counters.take(`link:${bucket}:${window}`, LINK_ATTEMPTS, resetAt))) {
    const wait = (resetAt - now) / 1000;
    throw new ApiError(
      429,
      "rate_limited",
      `Too many sign-in or link attempts from your address. Wait ${Math.ceil(wait / 60)} minutes.`,
      { retryAfter: wait },
    );
  }
}

export interface Linked {
  user: UserRow;
  key: IssuedKey;
}

/**
 * KallyAI's access tokens are JWTs whose `sub` names the account. Read without verification:
 * these tokens come straight from KallyAI's token endpoint, never from the caller.
 */
function accountOf(tokens: TokenSet): string | null {
  try {
    const sub = decodeJwt(tokens.access_token).sub;
    return typeof sub === "string" && sub ? sub : null;
  } catch {
    return null;
  }
}

/**
 * Stores a token pair for the account, creating the user or updating the one already linked to
 * the same KallyAI account (or, when KallyAI's tokens name no account, the caller's own user).
 */
export async function linkTokens(
  d: Deps,
  tokens: TokenSet,
  callerUserId: string | null,
  keyName: string,
  grant: RefreshGrant,
  presented?: string,
): Promise<Linked> {
  const account = accountOf(tokens);
  let userId = callerUserId;
  if (account) {
    const existing = await d.accounts.userByAccount(account);
    if (existing) userId = existing.id;
    else if (userId) await d.accounts.setAccount(userId, account);
  }
  userId ??= `usr_${randomBase64Url(12)}`;
  const user = await d.accounts.upsertUser(userId, account);
  await d.accounts.putTokens(user.id, await sealTokens(d, user.id, tokens, grant, presented));
  const key = await issueSignInKey(d, user.id, keyName);
  return { user, key };
}

/** The import path: a refresh token (e.g. from ~/.kallyai_token.json), proven by refreshing it. */
export async function linkRefreshToken(
  d: Deps,
  refreshToken: string,
  callerUserId: string | null,
  keyName: string,
): Promise<Linked> {
  let tokens: TokenSet;
  try {
    tokens = await d.upstream.refresh(refreshToken);
  } catch (err) {
    if (err instanceof ApiError && err.status < 500) {
      throw new ApiError(
        401,
        "invalid_refresh_token",
        "KallyAI did not accept this refresh token. Sign in again (`kallyai --login`) and send the new refresh_token from ~/.kallyai_token.json.",
      );
    }
    throw err;
  }
  return linkTokens(d, tokens, callerUserId, keyName, "cli", refreshToken);
}

/**
 * `--logout`: the tokens are deleted, every key of the user stops working, console sessions end,
 * and every app connected by OAuth loses its grant (its key is among the revoked ones).
 */
export async function unlink(d: Deps, userId: string, oauth: OAuthServer | null): Promise<{ revokedKeys: number }> {
  if (oauth) await revokeAllApps(oauth, userId);
  await d.accounts.deleteTokens(userId);
  await d.consoleSessions.deleteForUser(userId);
  await d.accounts.setLinkState(userId, "unlinked");
  // Webhooks stop too: subscriptions are disabled (the reason shows on GET /v1/webhooks/{id}).
  await d.webhooks.disableAll(userId, "The KallyAI account was unlinked from the bridge.", Date.now());
  return { revokedKeys: await d.keys.revokeAll(userId) };
}
