import { randomBase64Url } from "../shared/encoding";
import type { Deps } from "./deps";
import type { Linked } from "./linking";

/**
 * Showing a sign-in's key once, at a clean URL. /auth/callback arrives with tokens in its query
 * string, so it only seals the new key into a short-lived cookie and redirects; the page that
 * shows the key reads the cookie once (single use, enforced in D1) and never again.
 */
export const REVEAL_TTL_MS = 5 * 60 * 1000;
// The vault binds a ciphertext to an owner; this purpose can never be a user id (those are usr_…).
const OWNER = "one-time-key-display";

export interface KeyToShow {
  api_key: string;
  key_id: string;
  user_id: string;
  scopes: string[];
}
interface Sealed extends KeyToShow {
  nonce: string;
  expires_at: number;
}

export type Reveal = { state: "show"; key: KeyToShow } | { state: "already_shown" };

/** The cookie value that lets the next page show `linked.key` once, within REVEAL_TTL_MS. */
export async function sealKeyToShow(d: Deps, { user, key }: Linked, now = Date.now()): Promise<string> {
  const payload: Sealed = { api_key: key.api_key, key_id: key.id, user_id: user.id, scopes: key.scopes, nonce: randomBase64Url(16), expires_at: now + REVEAL_TTL_MS };
  const sealed = await (await d.vault()).seal(OWNER, JSON.stringify(payload));
  return `${sealed.keyId}.${sealed.ciphertext}`;
}

/** Opens the cookie: the key the first time; "already_shown" after that, when expired, tampered or absent. */
export async function revealKey(d: Deps, cookie: string | undefined, now = Date.now()): Promise<Reveal> {
  const dot = cookie?.indexOf(".") ?? -1;
  if (!cookie || dot < 1) return { state: "already_shown" };
  let payload: Sealed;
  try {
    payload = JSON.parse(await (await d.vault()).open(OWNER, { keyId: cookie.slice(0, dot), ciphertext: cookie.slice(dot + 1) })) as Sealed;
  } catch {
    return { state: "already_shown" };
  }
  if (payload.expires_at <= now) return { state: "already_shown" };
  // One statement decides it, also when two tabs open the page at once.
  if (!(await d.counters.take(`key-shown:${payload.nonce}`, 1, payload.expires_at))) return { state: "already_shown" };
  const { nonce: _nonce, expires_at: _expires, ...key } = payload;
  return { state: "show", key };
}
