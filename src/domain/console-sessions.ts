import { randomBase64Url, sha256Hex } from "../shared/encoding";
import type { ConsoleSessionRow } from "../storage/console-sessions";
import { type Authenticated, actingAs } from "./api-keys";
import type { Deps } from "./deps";

/** A console session lasts this long from sign-in; signing in again is one click. */
export const SESSION_TTL_MS = 12 * 3600_000;

/**
 * What the next page shows once: a notice ("Key revoked") and/or a secret that exists only now
 * (a new API key, a webhook's signing secret, a trigger URL). Kept sealed with the vault.
 */
export interface Flash {
  notice?: string;
  error?: string;
  reveal?: { label: string; value: string; note?: string; examples?: Array<{ label: string; value: string }> };
}

export interface ConsoleSession {
  tokenHash: string;
  row: ConsoleSessionRow;
  /** The session acts as its sign-in key: the same scopes and call guard as the API. */
  auth: Authenticated;
  csrf: string;
}

/** The CSRF token of a session: derived from the cookie's secret, so only pages of this session know it. */
const csrfTokenOf = async (token: string) => (await sha256Hex(`console-csrf\n${token}`)).slice(0, 43);

export async function startSession(
  d: Deps,
  userId: string,
  keyId: string,
  flash?: Flash,
): Promise<{ token: string; expiresAt: number }> {
  const token = randomBase64Url(32);
  const now = Date.now();
  const tokenHash = await sha256Hex(token);
  await d.consoleSessions.insert({
    token_hash: tokenHash,
    user_id: userId,
    key_id: keyId,
    created_at: now,
    expires_at: now + SESSION_TTL_MS,
  });
  if (flash) await setFlash(d, { tokenHash, userId }, flash);
  return { token, expiresAt: now + SESSION_TTL_MS };
}

/** The live session behind a cookie's token, or null (unknown, expired, or its key revoked). */
export async function resolveSession(d: Deps, token: string | undefined): Promise<ConsoleSession | null> {
  if (!token || !/^[A-Za-z0-9_-]{40,64}$/.test(token)) return null;
  const tokenHash = await sha256Hex(token);
  const live = await d.consoleSessions.live(tokenHash, Date.now());
  if (!live) return null;
  const { session: row, key } = live;
  return {
    tokenHash,
    row,
    auth: actingAs(key),
    csrf: await csrfTokenOf(token),
  };
}

export async function endSession(d: Deps, token: string | undefined): Promise<void> {
  if (token) await d.consoleSessions.delete(await sha256Hex(token));
}

export async function setFlash(d: Deps, s: { tokenHash: string; userId: string }, flash: Flash): Promise<void> {
  const sealed = await (await d.vault()).seal(s.userId, JSON.stringify(flash));
  await d.consoleSessions.setFlash(s.tokenHash, sealed);
}

export async function takeFlash(d: Deps, s: ConsoleSession): Promise<Flash | null> {
  if (s.row.flash === null) return null;
  const sealed = await d.consoleSessions.takeFlash(s.tokenHash);
  if (!sealed) return null;
  try {
    return JSON.parse(await (await d.vault()).open(s.row.user_id, sealed)) as Flash;
  } catch {
    return null;
  }
}
