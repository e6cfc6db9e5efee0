import { ApiError } from "../errors";
import { UpstreamUnauthorized } from "../kallyai/errors";
import type { TokenSet } from "../kallyai/schemas";
import type { RefreshGrant, SealedTokens, UserRow, VaultRow } from "../storage/accounts";
import { type Caller, type Prefetched, prefetchedOf, userIdOf } from "./caller";
import type { Deps } from "./deps";

/** Refresh this long before expiry, so a token never expires in the middle of a request. */
const REFRESH_MARGIN_MS = 2 * 60 * 1000;
const LEASE_MS = 15_000;
const WAIT_FOR_OTHER_REFRESH_MS = 12_000;

export const relinkRequired = () =>
  new ApiError(
    409,
    "relink_required",
    "KallyAI no longer accepts this bridge's sign-in for your account. Link it again: open /auth/login on the bridge, or run `kallyai --login --bridge <bridge URL>`.",
  );

const notLinked = () =>
  new ApiError(
    409,
    "relink_required",
    "No KallyAI account is linked. Link one: open /auth/login on the bridge, or POST /v1/link with a refresh token.",
  );

/**
 * Seals a token answer for the vault. A refresh answer may carry no refresh token (KallyAI's CLI
 * then keeps the one it has): `presented`, the refresh token that was used, is kept instead.
 */
export async function sealTokens(
  d: Deps,
  userId: string,
  tokens: TokenSet,
  grant: RefreshGrant | null,
  presented?: string,
): Promise<SealedTokens> {
  const refreshToken = tokens.refresh_token ?? presented;
  if (!refreshToken)
    throw new ApiError(
      502,
      "upstream_invalid_response",
      "KallyAI's sign-in answer carried no refresh token. Sign in again; if it persists, report it.",
    );
  const vault = await d.vault();
  const refresh = await vault.seal(userId, refreshToken);
  const access = await vault.seal(userId, tokens.access_token);
  return {
    keyId: vault.currentKeyId,
    refreshToken: refresh.ciphertext,
    accessToken: access.ciphertext,
    accessExpiresAt: Date.now() + tokens.expires_in * 1000,
    grant,
  };
}

/** Refuses at once when the account cannot reach KallyAI (unlinked, or it must link again): no call is accepted. */
export async function assertLinked(d: Deps, caller: Caller): Promise<void> {
  const known = prefetchedOf(caller);
  if (known) linked(known.user, known.vault);
  else await linkedVault(d, userIdOf(caller));
}

/**
 * Runs `fn` with a valid KallyAI access token of the user. A token close to expiry is refreshed
 * first; a token the upstream refuses (401) is refreshed and `fn` retried once.
 */
export function withUpstream<T>(d: Deps, caller: Caller, fn: (accessToken: string) => Promise<T>): Promise<T> {
  return new UpstreamSession(d, caller).run(fn);
}

/**
 * One user's access token, kept for the length of a request that talks to KallyAI many times
 * (e.g. `?wait=`), so the vault is read once rather than on every upstream request. An API-key
 * request brings the account rows its key check read, so the vault is not read again at all.
 */
export class UpstreamSession {
  private access?: Promise<{ token: string; version: number }>;
  private readonly userId: string;
  private prefetched?: Prefetched;

  constructor(
    private readonly d: Deps,
    caller: Caller,
  ) {
    this.userId = userIdOf(caller);
    this.prefetched = prefetchedOf(caller);
  }

  async run<T>(fn: (accessToken: string) => Promise<T>): Promise<T> {
    if (!this.access) {
      // The rows read with the key serve once; after a failure the vault is read afresh.
      this.access = currentAccess(this.d, this.userId, this.prefetched);
      this.prefetched = undefined;
    }
    let current: { token: string; version: number };
    try {
      current = await this.access;
    } catch (err) {
      this.access = undefined;
      throw err;
    }
    try {
      return await fn(current.token);
    } catch (err) {
      if (!(err instanceof UpstreamUnauthorized)) throw err;
      this.access = refreshed(this.d, this.userId, current.version);
      this.access.catch(() => (this.access = undefined));
      return fn((await this.access).token);
    }
  }
}

/** The user's access token, from `known` rows read earlier in this request when given. */
export async function currentAccess(
  d: Deps,
  userId: string,
  known?: Pick<Prefetched, "user" | "vault">,
): Promise<{ token: string; version: number }> {
  const row = known ? linked(known.user, known.vault) : await linkedVault(d, userId);
  if (isFresh(row)) return { token: await openAccess(d, row), version: row.version };
  return refreshed(d, userId, row.version);
}

async function linkedVault(d: Deps, userId: string): Promise<VaultRow> {
  const [user, row] = await Promise.all([d.accounts.user(userId), d.accounts.vault(userId)]);
  return linked(user, row);
}

function linked(user: UserRow | null, row: VaultRow | null): VaultRow {
  if (user?.link_state === "relink_required") throw relinkRequired();
  if (!user || !row) throw notLinked();
  return row;
}

type FreshRow = VaultRow & { access_token: string };

const isFresh = (row: VaultRow): row is FreshRow =>
  row.access_token !== null && (row.access_expires_at ?? 0) - Date.now() > REFRESH_MARGIN_MS;

async function openAccess(d: Deps, row: FreshRow): Promise<string> {
  return (await d.vault()).open(row.user_id, { keyId: row.key_id, ciphertext: row.access_token });
}

/**
 * Single-flight refresh across requests, isolates and cron runs: KallyAI rotates refresh tokens,
 * so two refreshes at once would leave one of them holding a dead token. One request takes a
 * lease in D1 and refreshes; the others wait for the version to move and read the new token.
 */
async function refreshed(d: Deps, userId: string, staleVersion: number): Promise<{ token: string; version: number }> {
  const deadline = Date.now() + WAIT_FOR_OTHER_REFRESH_MS;
  for (let pause = 25; ; pause = Math.min(pause * 2, 250)) {
    const row = await linkedVault(d, userId);
    if (row.version !== staleVersion && isFresh(row)) return { token: await openAccess(d, row), version: row.version };
    if (await d.accounts.claimRefresh(userId, row.version, LEASE_MS)) return refreshNow(d, row);
    if (Date.now() > deadline) {
      throw new ApiError(
        503,
        "upstream_unavailable",
        "The bridge is renewing its KallyAI sign-in for your account. Try again in a few seconds.",
        { retryAfter: 5 },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

async function refreshNow(d: Deps, row: VaultRow): Promise<{ token: string; version: number }> {
  const vault = await d.vault();
  const refreshToken = await vault.open(row.user_id, { keyId: row.key_id, ciphertext: row.refresh_token });
  let refreshed: { tokens: TokenSet; grant: RefreshGrant };
  try {
    refreshed = await refreshAt(d, refreshToken, row.refresh_grant);
  } catch (err) {
    await d.accounts.releaseRefresh(row.user_id, row.version);
    if (err instanceof ApiError && err.status < 500) {
      // KallyAI refused the refresh token itself: only a new sign-in can fix that.
      await d.accounts.setLinkState(row.user_id, "relink_required");
      throw relinkRequired();
    }
    throw err;
  }
  const { tokens, grant } = refreshed;
  await d.accounts.commitRefresh(
    row.user_id,
    row.version,
    await sealTokens(d, row.user_id, tokens, grant, refreshToken),
  );
  return { token: tokens.access_token, version: row.version + 1 };
}

/**
 * Refreshes where KallyAI's reference says: tokens from the CLI sign-in (or a linked refresh token)
 * at /v1/auth/refresh; tokens the bridge's OAuth client obtained at /v1/auth/gpt/token with the
 * client's credentials. Tokens stored before the bridge recorded which (`grant` null) try the CLI
 * endpoint, then the client's, and the one that worked is recorded.
 */
async function refreshAt(
  d: Deps,
  refreshToken: string,
  grant: RefreshGrant | null,
): Promise<{ tokens: TokenSet; grant: RefreshGrant }> {
  const oauth = d.cfg.oauth;
  const viaClient = async () => {
    if (!oauth) throw relinkRequired();
    const client = { client_id: oauth.clientId, client_secret: oauth.clientSecret };
    return { tokens: await d.upstream.refreshClient(refreshToken, client), grant: "oauth" as const };
  };
  if (grant === "oauth") return viaClient();
  try {
    return { tokens: await d.upstream.refresh(refreshToken), grant: "cli" };
  } catch (err) {
    if (grant === null && oauth && err instanceof ApiError && err.status < 500) return viaClient();
    throw err;
  }
}
