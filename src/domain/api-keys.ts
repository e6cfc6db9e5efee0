import { ApiError } from "../errors";
import type { ApiKeyRow } from "../storage/keys";
import { randomBase64Url } from "../shared/encoding";
import type { Deps } from "./deps";
import { invalidKey, SCOPES, type Scope } from "./keys";

export const DEFAULT_CALLS_PER_HOUR = 20;

export interface IssuedKey {
  id: string;
  api_key: string;
  name: string;
  scopes: Scope[];
  calls_per_hour: number;
  created_at: string;
  expires_at: string | null;
}

export interface Authenticated {
  userId: string;
  key: ApiKeyRow;
  scopes: Scope[];
}

export async function issueKey(
  d: Deps,
  userId: string,
  opts: { name: string; scopes?: Scope[]; expiresInSeconds?: number; callsPerHour?: number },
): Promise<IssuedKey> {
  const id = `key_${randomBase64Url(12)}`;
  const scopes = opts.scopes?.length ? [...new Set(opts.scopes)] : [...SCOPES];
  const now = Date.now();
  const expiresAt = opts.expiresInSeconds ? now + opts.expiresInSeconds * 1000 : null;
  const callsPerHour = opts.callsPerHour ?? DEFAULT_CALLS_PER_HOUR;
  await d.keys.insert({ id, user_id: userId, name: opts.name, scopes: scopes.join(" "), calls_per_hour: callsPerHour, created_at: now, expires_at: expiresAt });
  const apiKey = await (await d.signer()).sign({ userId, keyId: id, name: opts.name, scopes, expiresAt });
  return { id, api_key: apiKey, name: opts.name, scopes, calls_per_hour: callsPerHour, created_at: new Date(now).toISOString(), expires_at: expiresAt ? new Date(expiresAt).toISOString() : null };
}

/** A key made by another key (POST /v1/keys, the console): never beyond the scopes of the one making it. */
export async function createKey(
  d: Deps,
  auth: Authenticated,
  input: { name: string; scopes?: Scope[]; expiresInSeconds?: number; callsPerHour?: number },
): Promise<IssuedKey> {
  const beyond = input.scopes?.filter((s) => !auth.scopes.includes(s)) ?? [];
  if (beyond.length) throw new ApiError(403, "insufficient_scope", `A key cannot grant scopes it does not have: ${beyond.join(", ")}.`);
  return issueKey(d, auth.userId, { ...input, scopes: input.scopes ?? auth.scopes });
}

/** Verifies the key's signature and claims, then its row: revocation takes effect on the next request. */
export async function authenticate(d: Deps, token: string): Promise<Authenticated> {
  const claims = await (await d.signer()).verify(token);
  const row = await d.keys.get(claims.keyId, claims.userId);
  if (!row) throw invalidKey();
  if (row.revoked_at !== null) throw new ApiError(401, "api_key_revoked", "This API key was revoked. Create a new one with POST /v1/keys, or sign in again at /auth/login.");
  return { userId: row.user_id, key: row, scopes: row.scopes.split(" ") as Scope[] };
}

export function keyJson(row: ApiKeyRow) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes.split(" ") as Scope[],
    calls_per_hour: row.calls_per_hour,
    created_at: iso(row.created_at)!,
    expires_at: iso(row.expires_at),
    last_used_at: iso(row.last_used_at),
  };
}
