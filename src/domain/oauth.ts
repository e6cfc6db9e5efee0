import {
  type AuthRequest,
  type GrantSummary,
  OAuthAuthorizationServer,
  OAuthError,
  type OAuthHelpers,
  type TokenExchangeCallbackOptions,
} from "@cloudflare/workers-oauth-provider";
import { type Bindings, config } from "../env";
import { ApiError } from "../errors";
import { randomBase64Url, sha256Hex } from "../shared/encoding";
import type { ApiKeyRow } from "../storage/api-keys";
import type { Authenticated } from "./api-keys";
import type { Prefetched } from "./caller";
import { type Deps, deps } from "./deps";
import { limitChainOf } from "./guard";
import { MANAGE_SCOPE, SCOPES, type Scope } from "./key-signing";

/**
 * The bridge as an OAuth 2.1 authorization server (docs/oauth.md), on
 * @cloudflare/workers-oauth-provider: discovery, registration (DCR and CIMD), tokens, refresh and
 * revocation are the library's; the bridge adds who signs in, what a grant may do, and how its
 * tokens pass the same checks as an API key. Each grant acts through a key row of its own (its
 * scopes, its hourly call guard, its last use), marked with the client id.
 */

/** What a connected app may be granted: every scope but managing the account, which stays with its owner. */
export const OAUTH_SCOPES: readonly Scope[] = SCOPES.filter((s) => s !== MANAGE_SCOPE);

/** The two protected resources: each token is for one of them (RFC 8707), and refused at the other. */
export type Resource = "mcp" | "v1";
export const RESOURCES: Record<Resource, { path: string; name: string; scopes: readonly Scope[] }> = {
  // What the MCP tools use (test/mcp checks it), so an MCP client asks for these first.
  mcp: { path: "/mcp", name: "KallyAI Bridge (MCP)", scopes: ["calls:write", "calls:read", "account:read"] },
  v1: { path: "/v1", name: "KallyAI Bridge API", scopes: OAUTH_SCOPES },
};

/** The resource a request path belongs to, if any (path-boundary match, as RFC 9728 resources are). */
export function resourceOf(path: string): Resource | null {
  for (const [name, r] of Object.entries(RESOURCES) as [Resource, (typeof RESOURCES)[Resource]][])
    if (path === r.path || path.startsWith(`${r.path}/`)) return name;
  return null;
}

/** Access tokens live an hour; a grant lives while its app keeps refreshing, and ends after 90 idle days. */
export const ACCESS_TOKEN_SECONDS = 3600;
const GRANT_IDLE_SECONDS = 90 * 86_400;

export const isLoopbackHost = (host: string) =>
  host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/**
 * The issuer for a request's URL: https on every real host (Cloudflare serves Workers over https;
 * a plain-http request is answered as its https twin), the origin itself on a loopback host, where
 * `npm run dev` serves plain http.
 */
export function issuerFor(requestUrl: string): string {
  const url = new URL(requestUrl);
  return isLoopbackHost(url.hostname) ? url.origin : `https://${url.host}`;
}

/** The request as the library must see it: on the issuer's origin. */
export function onIssuer(request: Request, issuer: string): Request {
  const url = new URL(request.url);
  if (url.origin === issuer) return request;
  return new Request(issuer + url.pathname + url.search, request);
}

export interface OAuthServer {
  issuer: string;
  server: OAuthAuthorizationServer<Bindings>;
  api: OAuthHelpers;
  env: Bindings;
  resourceUrl(r: Resource): string;
  /** RFC 9728's path-aware location of a resource's metadata. */
  metadataUrl(r: Resource): string;
}

const servers = new Map<string, OAuthAuthorizationServer<Bindings>>();
/** Only a few hosts reach one deployment; the cap keeps made-up Host headers from growing the cache. */
const MAX_CACHED_ISSUERS = 8;

/** CIMD needs outbound fetch that never reaches this zone's own Workers (wrangler.toml's compatibility flag). */
const strictlyPublicFetch = () =>
  (globalThis as { Cloudflare?: { compatibilityFlags?: Record<string, boolean> } }).Cloudflare?.compatibilityFlags
    ?.global_fetch_strictly_public === true;

/** The authorization server of the origin a request came to; null when this deployment has no OAUTH_KV. */
export function oauthServer(env: Bindings, requestUrl: string): OAuthServer | null {
  if (!env.OAUTH_KV) return null;
  const issuer = issuerFor(requestUrl);
  let server = servers.get(issuer);
  if (!server) {
    server = buildServer(issuer);
    if (servers.size >= MAX_CACHED_ISSUERS) servers.clear();
    servers.set(issuer, server);
  }
  const resourceUrl = (r: Resource) => issuer + RESOURCES[r].path;
  return {
    issuer,
    server,
    api: server.getOAuthApi(env),
    env,
    resourceUrl,
    metadataUrl: (r) => `${issuer}/.well-known/oauth-protected-resource${RESOURCES[r].path}`,
  };
}

function buildServer(issuer: string): OAuthAuthorizationServer<Bindings> {
  return new OAuthAuthorizationServer<Bindings>({
    issuer,
    resources: [issuer + RESOURCES.mcp.path, issuer + RESOURCES.v1.path],
    // An app that names no resource (Zapier, IFTTT) connects to the REST API; MCP clients always name one.
    defaultResource: issuer + RESOURCES.v1.path,
    clientRegistrationEndpoint: "/oauth/register",
    scopesSupported: [...OAUTH_SCOPES],
    clientIdMetadataDocumentEnabled: strictlyPublicFetch(),
    accessTokenTTL: ACCESS_TOKEN_SECONDS,
    refreshTokenTTL: GRANT_IDLE_SECONDS,
    refreshTokenIdleTTL: GRANT_IDLE_SECONDS,
    tokenExchangeCallback: grantStillLive,
    // The library logs a warning per refused request; the bridge's own log line is enough.
    onError: () => undefined,
  });
}

/** What a grant's tokens carry (encrypted by the library): the key row the grant acts through. */
interface GrantProps {
  keyId: string;
}

/**
 * IFTTT's tokens never expire on a timer (IFTTT's rule for services): a 10-year access token and
 * no refresh token. They end when the person revokes IFTTT under "Connected apps" or unlinks.
 */
export const NON_EXPIRING_TOKEN_SECONDS = 10 * 365 * 86_400;
/** What IFTTT's grant carries, whatever its authorization request asked for. */
export const IFTTT_SCOPES: readonly Scope[] = ["calls:write", "calls:read"];

/** The scopes a pre-registered client from configuration always gets (IFTTT's), or null for any other client. */
export function fixedScopesFor(env: Bindings, clientId: string): readonly Scope[] | null {
  return config(env).ifttt?.client?.id === clientId ? IFTTT_SCOPES : null;
}

/**
 * At every refresh: a grant whose key was revoked (its app revoked in the console, the account
 * unlinked) is refused, and the library then revokes the grant itself. At a code exchange, IFTTT's
 * grant gets its non-expiring token.
 */
async function grantStillLive(options: TokenExchangeCallbackOptions<Bindings>) {
  if (options.grantType === "authorization_code" && fixedScopesFor(options.env, options.clientId))
    return { accessTokenTTL: NON_EXPIRING_TOKEN_SECONDS, refreshTokenTTL: 0 };
  if (options.grantType !== "refresh_token") return;
  const props = options.props as Partial<GrantProps> | undefined;
  const key = props?.keyId ? await deps(options.env).keys.get(props.keyId, options.userId) : null;
  if (!key || key.revoked_at !== null)
    throw new OAuthError("invalid_grant", { description: "This connection was revoked. Connect the app again." });
}

const registered = new WeakMap<KVNamespace, Promise<void>>();

/**
 * Pre-registered clients from configuration (IFTTT's id, secret and redirect URI) exist in the
 * library's client store with exactly those values: written once per isolate when missing or
 * changed (a rotated secret, a new redirect). The library keeps client secrets as SHA-256 hex.
 */
export function ensureConfiguredClients(oauth: OAuthServer): Promise<void> {
  const kv = oauth.env.OAUTH_KV;
  const client = config(oauth.env).ifttt?.client;
  if (!kv || !client) return Promise.resolve();
  let done = registered.get(kv);
  if (!done) {
    done = registerClient(oauth, kv, client).catch((err: unknown) => {
      registered.delete(kv);
      throw err;
    });
    registered.set(kv, done);
  }
  return done;
}

async function registerClient(
  oauth: OAuthServer,
  kv: KVNamespace,
  client: { id: string; secret: string; redirectUri: string },
): Promise<void> {
  const stored = await kv.get<{ clientSecret?: string; redirectUris?: string[] }>(`client:${client.id}`, "json");
  const secretHash = await sha256Hex(client.secret);
  if (stored?.clientSecret === secretHash && stored.redirectUris?.join(" ") === client.redirectUri) return;
  if (!stored)
    await kv.put(
      `client:${client.id}`,
      JSON.stringify({
        clientId: client.id,
        clientName: "IFTTT",
        redirectUris: [client.redirectUri],
        grantTypes: ["authorization_code"],
        responseTypes: ["code"],
        registrationDate: Math.floor(Date.now() / 1000),
        tokenEndpointAuthMethod: "client_secret_post",
      }),
    );
  // The library hashes the secret and checks the redirect URI as it does for any client.
  // Its auth method stays implicit, so IFTTT may send the secret in the body or as Basic.
  await oauth.api.updateClient(client.id, { clientSecret: client.secret, redirectUris: [client.redirectUri] });
}

/** An OAuth access token, not an API key (those are JWTs): `userId:grantId:secret`. */
export const isOAuthToken = (token: string) => /^[^:.\s]+:[^:.\s]+:[^:.\s]+$/.test(token);

/**
 * The longest client id, code or token the library is handed. Its KV keys embed them, and KV
 * refuses keys over 512 bytes with an exception: longer ones are refused before they get there.
 */
export const MAX_OAUTH_PARAMETER = 256;
export const tooLongForOAuth = (value: string | null | undefined) => (value?.length ?? 0) > MAX_OAUTH_PARAMETER;

const invalidToken = (why: string) =>
  new ApiError(
    401,
    "invalid_token",
    `This OAuth access token ${why}. Refresh it with your refresh token, or connect the app again.`,
  );

/**
 * The checks an API key gets, for an OAuth access token: valid for this resource (a /mcp token is
 * refused at /v1 and the reverse), its grant's key not revoked. The key row, the account's rows
 * and the call `callId` names are read in one D1 round trip, as for a key.
 */
export async function authenticateOAuthToken(
  d: Deps,
  oauth: OAuthServer,
  resource: Resource,
  token: string,
  opts: { callId?: string } = {},
): Promise<Authenticated> {
  const valid = await oauth.server.validateToken<Partial<GrantProps>>(oauth.resourceUrl(resource), token, oauth.env);
  if (!valid?.props?.keyId)
    throw invalidToken(
      `is not valid at ${RESOURCES[resource].path}: it expired, was revoked, or is for another resource`,
    );
  const rows = await d.callers.read(valid.props.keyId, valid.userId, opts.callId);
  const key = rows.key;
  if (!key || key.revoked_at !== null) throw invalidToken("belongs to a connection that was revoked");
  const prefetched: Prefetched = { user: rows.user, vault: rows.vault };
  if (opts.callId !== undefined) prefetched.call = { id: opts.callId, row: rows.call ?? null };
  const granted = key.scopes.split(" ");
  const scopes = SCOPES.filter((s) => granted.includes(s) && valid.scope.includes(s));
  return { userId: key.user_id, key, scopes, limits: limitChainOf(key), prefetched };
}

/** The hourly call guard a consent page offers, and the most a person may allow an app. */
export const APP_CALLS_PER_HOUR = { default: 20, max: 1000 } as const;

export interface Approval {
  userId: string;
  clientName: string;
  scopes: Scope[];
  callsPerHour: number;
  /**
   * Who approved: the grant's calls count against its own limit and every limit of the approver's
   * chain (domain/guard.ts), so connecting apps never adds calls beyond the approving key's.
   */
  approvedBy: Authenticated;
}

/**
 * Approves a consent: a key row for the grant, then the grant itself (the library revokes the
 * user's earlier grant for the same app and resource, so that grant's key is revoked here too).
 */
export async function grantAccess(
  d: Deps,
  oauth: OAuthServer,
  request: AuthRequest,
  approval: Approval,
): Promise<{ redirectTo: string }> {
  const replaced = await grantsOf(oauth, approval.userId, (g) => g.clientId === request.clientId);
  const keyId = `key_${randomBase64Url(12)}`;
  await d.keys
    .insert({
      id: keyId,
      user_id: approval.userId,
      name: approval.clientName.slice(0, 100),
      scopes: approval.scopes.join(" "),
      calls_per_hour: approval.callsPerHour,
      created_at: Date.now(),
      expires_at: null,
      oauth_client_id: request.clientId,
      parent_key_id: approval.approvedBy.key.id,
      limit_chain: JSON.stringify(approval.approvedBy.limits),
    })
    .run();
  const { redirectTo } = await oauth.api.completeAuthorization({
    request,
    userId: approval.userId,
    metadata: { keyId, clientName: approval.clientName },
    scope: approval.scopes,
    props: { keyId } satisfies GrantProps,
  });
  const live = new Set((await grantsOf(oauth, approval.userId)).map((g) => g.id));
  const gone = replaced.filter((g) => !live.has(g.id)).map(keyIdOf);
  await d.keys.revokeGrantKeys(
    approval.userId,
    gone.filter((id): id is string => id !== null),
  );
  return { redirectTo };
}

const keyIdOf = (g: GrantSummary): string | null =>
  typeof g.metadata?.keyId === "string" ? (g.metadata.keyId as string) : null;

async function grantsOf(oauth: OAuthServer, userId: string, keep: (g: GrantSummary) => boolean = () => true) {
  const out: GrantSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await oauth.api.listUserGrants(userId, cursor ? { cursor } : {});
    out.push(...page.items.filter(keep));
    cursor = page.cursor;
  } while (cursor);
  return out;
}

export interface ConnectedApp {
  grantId: string;
  clientId: string;
  name: string;
  resource: Resource | null;
  scopes: Scope[];
  callsPerHour: number | null;
  createdAt: number;
  lastUsedAt: number | null;
}

/** The apps a person connected, newest first, each with its key's limits and last use. */
export async function connectedApps(d: Deps, oauth: OAuthServer, userId: string): Promise<ConnectedApp[]> {
  const grants = await grantsOf(oauth, userId);
  const ids = grants.map(keyIdOf).filter((id): id is string => id !== null);
  const keys = new Map<string, ApiKeyRow>((await d.keys.getMany(ids, userId)).map((k) => [k.id, k]));
  return grants
    .map((g) => {
      const key = keys.get(keyIdOf(g) ?? "");
      const resource = typeof g.resource === "string" ? resourceOf(new URL(g.resource).pathname) : null;
      return {
        grantId: g.id,
        clientId: g.clientId,
        name: typeof g.metadata?.clientName === "string" ? (g.metadata.clientName as string) : g.clientId,
        resource,
        scopes: SCOPES.filter((s) => g.scope.includes(s)),
        callsPerHour: key?.calls_per_hour ?? null,
        createdAt: g.createdAt * 1000,
        lastUsedAt: key?.last_used_at ?? null,
      };
    })
    .sort((a, b) => b.createdAt - a.createdAt);
}

/** Ends a connected app's access at once: its grant with every token, and the key it acted through. */
export async function revokeApp(d: Deps, oauth: OAuthServer, userId: string, grantId: string): Promise<boolean> {
  const grant = (await grantsOf(oauth, userId, (g) => g.id === grantId))[0];
  if (!grant) return false;
  await oauth.api.revokeGrant(grant.id, userId);
  const keyId = keyIdOf(grant);
  if (keyId) await d.keys.revokeGrantKeys(userId, [keyId]);
  return true;
}

/** Unlinking ends every grant of the account (their keys are revoked with the account's other keys). */
export async function revokeAllApps(oauth: OAuthServer, userId: string): Promise<number> {
  const grants = await grantsOf(oauth, userId);
  for (const g of grants) await oauth.api.revokeGrant(g.id, userId);
  return grants.length;
}

/**
 * RFC 6749 §6: a token request may narrow its grant's scopes, never widen them. The library would
 * grant the overlap and ignore the rest; the bridge refuses such a request instead (invalid_scope).
 * Reads the grant the code or refresh token names, in the library's documented KV layout.
 */
export async function widensScope(env: Bindings, body: URLSearchParams): Promise<boolean> {
  const grantType = body.get("grant_type");
  const credential =
    grantType === "authorization_code"
      ? body.get("code")
      : grantType === "refresh_token"
        ? body.get("refresh_token")
        : null;
  const requested = body.get("scope")?.split(" ").filter(Boolean) ?? [];
  if (!credential || requested.length === 0 || !env.OAUTH_KV) return false;
  const [userId, grantId, secret, extra] = credential.split(":");
  if (!userId || !grantId || !secret || extra !== undefined) return false;
  const grant = await env.OAUTH_KV.get<{ scope?: unknown }>(`grant:${userId}:${grantId}`, "json");
  const granted = Array.isArray(grant?.scope) ? (grant.scope as unknown[]) : null;
  return granted !== null && requested.some((s) => !granted.includes(s));
}
