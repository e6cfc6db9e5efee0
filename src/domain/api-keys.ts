import { ApiError } from "../errors";
import { randomBase64Url } from "../shared/encoding";
import { iso } from "../shared/time";
import type { ApiKeyRow } from "../storage/api-keys";
import type { Prefetched } from "./caller";
import type { Deps } from "./deps";
import { type LimitChain, limitChainOf } from "./guard";
import { invalidKey, MANAGE_SCOPE, SCOPES, type Scope } from "./key-signing";

/** A tool's key places at most this many calls per hour unless it asks for another limit. */
export const DEFAULT_CALLS_PER_HOUR = 20;
/** The highest hourly limit any key may have; the sign-in key has it, so it can hand out any lower one. */
export const MAX_CALLS_PER_HOUR = 1000;
/** Unrevoked, unexpired keys an account may hold; signing in always gives a key, so an owner can clean up. */
export const MAX_ACTIVE_KEYS = 50;
/** Keys an account may make per clock hour (POST /v1/keys and the console; sign-ins and links aside). */
export const KEYS_PER_HOUR = 20;
/** How many keys may stand above a key made with POST /v1/keys: a key made by a key made by … a sign-in key. */
export const MAX_KEY_DEPTH = 8;
const HOUR_MS = 3600_000;

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
  /** The hourly limits this caller's calls count against, its own first (domain/guard.ts). */
  limits: LimitChain;
  /** The account's rows, read with the key in one D1 round trip (requireKey); for this request only. */
  prefetched?: Prefetched;
}

export interface KeyRequest {
  name: string;
  scopes?: Scope[];
  expiresInSeconds?: number;
  callsPerHour?: number;
}

/** What a request authenticated with `key` acts as: its user, scopes and hourly limits. */
export const actingAs = (key: ApiKeyRow): Authenticated => ({
  userId: key.user_id,
  key,
  scopes: key.scopes.split(" ") as Scope[],
  limits: limitChainOf(key),
});

type NewKey = {
  name: string;
  scopes: Scope[];
  expiresAt: number | null;
  callsPerHour: number;
  parent: ApiKeyRow | null;
};

/** A key's row and the key itself (signed), not stored yet: `d.keys.insert(row)`, alone or in a batch. */
async function prepareKey(d: Deps, userId: string, key: NewKey, now = Date.now()) {
  const id = `key_${randomBase64Url(12)}`;
  const scopes = SCOPES.filter((s) => key.scopes.includes(s));
  const row = {
    id,
    user_id: userId,
    name: key.name,
    scopes: scopes.join(" "),
    calls_per_hour: key.callsPerHour,
    created_at: now,
    expires_at: key.expiresAt,
    parent_key_id: key.parent?.id ?? null,
    limit_chain: JSON.stringify(key.parent ? limitChainOf(key.parent) : []),
  };
  const apiKey = await (await d.signer()).sign({ userId, keyId: id, name: key.name, scopes, expiresAt: key.expiresAt });
  const issued: IssuedKey = {
    id,
    api_key: apiKey,
    name: key.name,
    scopes,
    calls_per_hour: key.callsPerHour,
    created_at: iso(now),
    expires_at: iso(key.expiresAt),
  };
  return { row, issued };
}

async function issueKey(d: Deps, userId: string, key: NewKey, now = Date.now()): Promise<IssuedKey> {
  const { row, issued } = await prepareKey(d, userId, key, now);
  await d.keys.insert(row).run();
  return issued;
}

/** The key a sign-in or a link gives (every scope, no expiry, the highest hourly limit), to store with the link. */
export const prepareSignInKey = (d: Deps, userId: string, name: string) =>
  prepareKey(d, userId, {
    name,
    scopes: [...SCOPES],
    expiresAt: null,
    callsPerHour: MAX_CALLS_PER_HOUR,
    parent: null,
  });

const beyondOwn = (what: string) =>
  new ApiError(403, "exceeds_own_key", `A key can only create keys within its own limits: ${what}`);

/**
 * POST /v1/keys: a key for one tool, never more than the key that asks for it. By default it
 * has the creator's scopes without `account:manage`, the creator's expiry, and at most
 * DEFAULT_CALLS_PER_HOUR calls per hour.
 */
export async function createKey(d: Deps, creator: Authenticated, req: KeyRequest): Promise<IssuedKey> {
  const own = creator.key;
  const beyond = req.scopes?.filter((s) => !creator.scopes.includes(s)) ?? [];
  if (beyond.length)
    throw new ApiError(403, "insufficient_scope", `A key cannot grant scopes it does not have: ${beyond.join(", ")}.`);
  const scopes = req.scopes ?? creator.scopes.filter((s) => s !== MANAGE_SCOPE);
  if (scopes.length === 0)
    throw new ApiError(
      422,
      "validation_error",
      "This key has no scope to give but account:manage; name the scopes you want in `scopes`.",
      { field: "scopes" },
    );

  const now = Date.now();
  const expiresAt = req.expiresInSeconds === undefined ? own.expires_at : now + req.expiresInSeconds * 1000;
  if (own.expires_at !== null && (expiresAt === null || expiresAt > own.expires_at)) {
    const left = Math.floor((own.expires_at - now) / 1000);
    throw beyondOwn(
      `this key expires at ${new Date(own.expires_at).toISOString()}, so expires_in may be at most ${Math.max(0, left)} seconds.`,
    );
  }

  const callsPerHour = req.callsPerHour ?? Math.min(DEFAULT_CALLS_PER_HOUR, own.calls_per_hour);
  if (callsPerHour > own.calls_per_hour)
    throw beyondOwn(
      `this key may place ${own.calls_per_hour} calls per hour, so calls_per_hour may be at most ${own.calls_per_hour}.`,
    );

  if (limitChainOf(own).length > MAX_KEY_DEPTH)
    throw beyondOwn(
      `keys nest at most ${MAX_KEY_DEPTH} deep below a sign-in key, and this one is that deep. Create the key with a key made earlier in the chain, or with the sign-in key.`,
    );
  if ((await d.keys.countActive(creator.userId, now)) >= MAX_ACTIVE_KEYS) {
    throw new ApiError(
      422,
      "too_many_keys",
      `An account may have ${MAX_ACTIVE_KEYS} active API keys. Revoke unused ones with DELETE /v1/keys/{id} (GET /v1/keys lists them).`,
    );
  }
  const minted = await takeMintSlot(d, creator.userId, now);
  try {
    return await issueKey(d, creator.userId, { name: req.name, scopes, expiresAt, callsPerHour, parent: own }, now);
  } catch (err) {
    await minted.giveBack();
    throw err;
  }
}

/**
 * Minting is rate-limited per account: revoking keys frees room under MAX_ACTIVE_KEYS at once,
 * so without it an account could churn through keys without end.
 */
async function takeMintSlot(d: Deps, userId: string, now: number) {
  const hour = Math.floor(now / HOUR_MS);
  const bucket = { bucket: `mint:${userId}:${hour}`, limit: KEYS_PER_HOUR };
  if (!(await d.counters.takeAll([bucket], (hour + 2) * HOUR_MS))) {
    const wait = Math.ceil(((hour + 1) * HOUR_MS - now) / 1000);
    throw new ApiError(
      429,
      "rate_limited",
      `An account may create ${KEYS_PER_HOUR} API keys per hour, and this one has. Wait ${Math.ceil(wait / 60)} minutes.`,
      { retryAfter: wait },
    );
  }
  return { giveBack: () => d.counters.give(bucket.bucket) };
}

/**
 * Verifies the key's signature and claims, then its row: revocation takes effect on the next
 * request. The same D1 round trip reads the account, its vault and the call `callId` names, so
 * a proxied request needs no other read before it goes upstream.
 */
export async function authenticate(d: Deps, token: string, opts: { callId?: string } = {}): Promise<Authenticated> {
  const claims = await (await d.signer()).verify(token);
  const rows = await d.callers.read(claims.keyId, claims.userId, opts.callId);
  const row = rows.key;
  if (!row) throw invalidKey();
  if (row.revoked_at !== null)
    throw new ApiError(
      401,
      "api_key_revoked",
      "This API key was revoked. Create a new one with POST /v1/keys, or sign in again at /auth/login.",
    );
  const prefetched: Prefetched = { user: rows.user, vault: rows.vault };
  if (opts.callId !== undefined) prefetched.call = { id: opts.callId, row: rows.call ?? null };
  return { ...actingAs(row), prefetched };
}

export function keyJson(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes.split(" ") as Scope[],
    calls_per_hour: row.calls_per_hour,
    created_at: iso(row.created_at),
    expires_at: iso(row.expires_at),
    last_used_at: iso(row.last_used_at),
  };
}
