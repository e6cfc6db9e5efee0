import { Hono } from "hono";
import { SignJWT } from "jose";
import { z } from "zod";
import { config } from "../env";
import { ApiError, kallyaiCode } from "../errors";
import { signInPage } from "./pages";
import { SandboxStore } from "./store";
import type { SandboxEnv } from "./types";

/** The OAuth2 client registered with the sandbox, for the bridge's deployed sign-in path. */
export const SANDBOX_OAUTH_CLIENT = { id: "sandbox-client", secret: "sandbox-secret" };
const CODE_TTL_MS = 10 * 60 * 1000;
const REFRESH_TTL_MS = 90 * 24 * 3600 * 1000;

const randomToken = (prefix: string) => {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return prefix + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
};

/** A refusal in KallyAI's own codes (invalid_client, invalid_redirect_uri, …), as the real API answers. */
const refuse = (code: string, message: string) => new ApiError(400, kallyaiCode(code), message);

/**
 * The CLI flow only ever redirects to this machine, as KallyAI's does, and (the reference's
 * `http://localhost:PORT` or `http://127.0.0.1:PORT`, read pessimistically) to a bare origin: no path.
 */
function loopbackRedirect(value: string | undefined): URL {
  const url = value ? URL.parse(value) : null;
  if (url?.protocol !== "http:")
    throw refuse("invalid_redirect_uri", "redirect_uri must be http://localhost:PORT or http://127.0.0.1:PORT.");
  if (url.hostname !== "localhost" && url.hostname !== "127.0.0.1") {
    throw refuse(
      "invalid_redirect_uri",
      "redirect_uri must point to localhost or 127.0.0.1: KallyAI's CLI sign-in only redirects to this machine.",
    );
  }
  if (url.pathname !== "/" || url.search || url.hash || url.username || url.password)
    throw refuse(
      "invalid_redirect_uri",
      "redirect_uri must be a bare http://127.0.0.1:PORT (or http://localhost:PORT), with no path or query.",
    );
  return url;
}

/** The reference's OAuth scopes. */
export const SANDBOX_SCOPES = [
  "calls:read",
  "calls:write",
  "sessions:read",
  "sessions:write",
  "subscription:read",
  "billing:manage",
  "transcripts:read",
  "recordings:read",
] as const;
const DEFAULT_SCOPE = "calls:read calls:write";

/** A space-separated list of the reference's scopes; anything else (e.g. `calls.write`) is refused. */
function scopeOf(value: string | undefined): string {
  const scopes = (value ?? DEFAULT_SCOPE).split(" ").filter(Boolean);
  const unknown = scopes.find((s) => !(SANDBOX_SCOPES as readonly string[]).includes(s));
  if (unknown !== undefined || scopes.length === 0)
    throw refuse(
      "invalid_scope",
      `Unknown scope ${JSON.stringify(unknown ?? "")}. Scopes are space-separated, from: ${SANDBOX_SCOPES.join(" ")}.`,
    );
  return scopes.join(" ");
}

/** The registered test client may redirect to any https URL, or to this machine. */
function clientRedirect(clientId: string | undefined, value: string | undefined): URL {
  if (clientId !== SANDBOX_OAUTH_CLIENT.id)
    throw refuse(
      "invalid_client",
      `Unknown client_id. The sandbox's registered client is "${SANDBOX_OAUTH_CLIENT.id}".`,
    );
  const url = value ? URL.parse(value) : null;
  const local = url && (url.hostname === "localhost" || url.hostname === "127.0.0.1");
  if (!url || !(url.protocol === "https:" || (local && url.protocol === "http:")))
    throw refuse("invalid_redirect_uri", "redirect_uri must be an https URL (or http on localhost).");
  return url;
}

function redirectWith(target: URL, params: Record<string, string | undefined>): Response {
  const url = new URL(target);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") url.searchParams.set(k, v);
  return new Response(null, { status: 302, headers: { location: url.toString(), "cache-control": "no-store" } });
}

/**
 * The sandbox's default plan: enough to try every recipe for an hour (a sandbox call of
 * SANDBOX_CALL_SECONDS=20 uses one minute); POST /sandbox/top-up adds as much again.
 */
export const SANDBOX_PLAN = { calls: 300, minutes: 300 };

/**
 * Refresh tokens rotate, except for accounts whose email has `+norotate` (e.g.
 * `you+norotate@example.com`): their refresh answers carry no refresh token and the one presented
 * stays valid, which KallyAI's reference allows (its CLI then keeps the old one).
 */
const keepsRefreshToken = (email: string) => /\+norotate[^@]*@/i.test(email);

function allocationFor(email: string) {
  const calls = /\+calls(\d+)@/i.exec(email)?.[1];
  return calls !== undefined ? { calls: Number(calls), minutes: Number(calls) * 5 } : SANDBOX_PLAN;
}

/** Like KallyAI's, access tokens are JWTs whose `sub` is the account id (the sandbox signs with its own key). */
const SANDBOX_JWT_KEY = new TextEncoder().encode("kallyai-sandbox-access-token-signing-key");
function accessJwt(userId: string, ttlSeconds: number, scope: string): Promise<string> {
  return new SignJWT({ scope })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuer("kallyai-sandbox")
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + Math.max(1, Math.ceil(ttlSeconds)))
    .sign(SANDBOX_JWT_KEY);
}

/**
 * A token answer; `keepRefresh` (a refresh that does not rotate) issues only an access token.
 * Tokens an OAuth client obtained carry its `client_id` and `scope`, and refresh only through it.
 */
export async function issueTokenSet(
  store: SandboxStore,
  userId: string,
  ttlSeconds: number,
  grant: { clientId?: string | null; scope?: string; keepRefresh?: boolean } = {},
) {
  const clientId = grant.clientId ?? null;
  const scope = grant.scope ?? DEFAULT_SCOPE;
  const access = await accessJwt(userId, ttlSeconds, scope);
  const now = Date.now();
  await store.issueToken(access, {
    kind: "access",
    user_id: userId,
    expires_at: now + ttlSeconds * 1000,
    client_id: clientId,
    redirect_uri: null,
  });
  const answer = { access_token: access, expires_in: ttlSeconds, token_type: "Bearer", ...(clientId ? { scope } : {}) };
  if (grant.keepRefresh) return answer;
  const refresh = randomToken("sbx_rt_");
  await store.issueToken(refresh, {
    kind: "refresh",
    user_id: userId,
    expires_at: now + REFRESH_TTL_MS,
    client_id: clientId,
    redirect_uri: null,
    scope: clientId ? scope : null,
  });
  return { ...answer, refresh_token: refresh };
}

const Email = z.email();
async function signIn(store: SandboxStore, email: string | undefined) {
  const parsed = Email.safeParse(email?.trim().toLowerCase());
  if (!parsed.success) throw refuse("invalid_email", "Enter a valid email address to sign in.");
  return store.upsertUser(parsed.data, allocationFor(parsed.data));
}

/** `Authorization: Basic base64(id:secret)`, each part form-urlencoded (RFC 6749 §2.3.1); undefined when absent or garbled. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const encoded = header?.match(/^Basic\s+(.+)$/i)?.[1];
  if (!encoded) return undefined;
  try {
    const decoded = atob(encoded.trim());
    const colon = decoded.indexOf(":");
    if (colon < 0) return undefined;
    const part = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));
    return { id: part(decoded.slice(0, colon)), secret: part(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

async function formOrJson(req: Request): Promise<Record<string, string>> {
  const type = req.headers.get("content-type") ?? "";
  if (type.includes("application/json")) {
    const body = await req.json().catch(() => null);
    if (!body || typeof body !== "object") throw refuse("invalid_request", "The body must be a JSON object.");
    // Like a form: only text (and numbers) count; an object such as {"toString": null} is no value.
    return Object.fromEntries(
      Object.entries(body).flatMap(([k, v]) =>
        typeof v === "string" || typeof v === "number" ? [[k, String(v)]] : [],
      ),
    );
  }
  const form = await req.formData().catch(() => null);
  if (!form) throw refuse("invalid_request", "Send form fields (application/x-www-form-urlencoded) or JSON.");
  return Object.fromEntries([...form.entries()].map(([k, v]) => [k, typeof v === "string" ? v : ""]));
}

export const sandboxAuth = new Hono<SandboxEnv>()
  .get("/cli", (c) => {
    const redirectUri = loopbackRedirect(c.req.query("redirect_uri")).toString();
    const state = c.req.query("state") ?? "";
    return c.html(
      signInPage(
        c.req.path,
        { redirect_uri: redirectUri, state },
        "A program on this computer asks to use your KallyAI account.",
      ),
    );
  })
  .post("/cli", async (c) => {
    const form = await formOrJson(c.req.raw);
    const target = loopbackRedirect(form.redirect_uri);
    const user = await signIn(new SandboxStore(c.env.DB), form.email);
    const tokens = await issueTokenSet(new SandboxStore(c.env.DB), user.id, config(c.env).sandbox.tokenTtlSeconds);
    // Sign-in always hands out both tokens.
    if (!("refresh_token" in tokens)) throw new ApiError(500, "internal_error", "No refresh token was issued.");
    return redirectWith(target, {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      expires_in: String(tokens.expires_in),
      state: form.state,
    });
  })
  .get("/authorize", (c) => {
    const q = c.req.query();
    if (q.response_type !== "code") throw refuse("unsupported_response_type", "response_type must be code.");
    const target = clientRedirect(q.client_id, q.redirect_uri);
    const hidden = {
      client_id: SANDBOX_OAUTH_CLIENT.id, // what clientRedirect checked q.client_id is
      redirect_uri: target.toString(),
      state: q.state ?? "",
      scope: scopeOf(q.scope),
    };
    return c.html(signInPage(c.req.path, hidden, "An app asks to place calls with your KallyAI account."));
  })
  .post("/authorize", async (c) => {
    const form = await formOrJson(c.req.raw);
    const target = clientRedirect(form.client_id, form.redirect_uri);
    const scope = scopeOf(form.scope);
    const store = new SandboxStore(c.env.DB);
    const user = await signIn(store, form.email);
    const code = randomToken("sbx_code_");
    await store.issueToken(code, {
      kind: "code",
      user_id: user.id,
      expires_at: Date.now() + CODE_TTL_MS,
      client_id: SANDBOX_OAUTH_CLIENT.id, // what clientRedirect checked form.client_id is
      redirect_uri: target.toString(),
      scope,
    });
    return redirectWith(target, { code, state: form.state });
  })
  .post("/gpt/token", async (c) => {
    const form = await formOrJson(c.req.raw);
    const basic = basicCredentials(c.req.header("authorization"));
    const clientId = form.client_id ?? basic?.id;
    const clientSecret = form.client_secret ?? basic?.secret;
    // An unknown client is a bad request (400); a known one with the wrong secret failed to authenticate (401).
    if (clientId !== SANDBOX_OAUTH_CLIENT.id) {
      throw refuse(
        "invalid_client",
        `Unknown client_id. The sandbox's registered client is "${SANDBOX_OAUTH_CLIENT.id}".`,
      );
    }
    if (clientSecret !== SANDBOX_OAUTH_CLIENT.secret)
      throw new ApiError(401, kallyaiCode("invalid_client"), "Wrong client_secret.");
    const store = new SandboxStore(c.env.DB);
    const ttl = config(c.env).sandbox.tokenTtlSeconds;
    if (form.grant_type === "refresh_token") return c.json(await refreshed(store, form.refresh_token, ttl, clientId));
    if (form.grant_type !== "authorization_code")
      throw refuse("unsupported_grant_type", "grant_type must be authorization_code or refresh_token.");
    const presented = form.code;
    const code = presented ? await store.findToken(presented, "code") : null;
    // The code was stored with the normalized redirect_uri ("https://a.example" became "https://a.example/").
    const redirectUri = form.redirect_uri ? URL.parse(form.redirect_uri)?.toString() : undefined;
    if (
      !presented ||
      !code ||
      code.client_id !== clientId ||
      code.redirect_uri !== redirectUri ||
      !(await store.consumeToken(presented, "code"))
    ) {
      throw refuse(
        "invalid_grant",
        "The code is unknown, expired, already used, or was issued for another redirect_uri.",
      );
    }
    return c.json(await issueTokenSet(store, code.user_id, ttl, { clientId, scope: code.scope ?? DEFAULT_SCOPE }));
  })
  .post("/refresh", async (c) => {
    const body = await c.req.json<{ refresh_token?: unknown }>().catch(() => null);
    const token = typeof body?.refresh_token === "string" ? body.refresh_token : undefined;
    return c.json(await refreshed(new SandboxStore(c.env.DB), token, config(c.env).sandbox.tokenTtlSeconds, null));
  });

const invalidRefreshToken = () =>
  new ApiError(401, "invalid_refresh_token", "The refresh token is unknown, expired or already used. Sign in again.");

/**
 * A refresh. Tokens an OAuth client obtained refresh only at /v1/auth/gpt/token with that client's
 * credentials (`clientId`); CLI tokens only at /v1/auth/refresh (`clientId` null). The token
 * rotates (the one presented stops working, a new one comes back), unless the account keeps it.
 */
async function refreshed(
  store: SandboxStore,
  refreshToken: string | undefined,
  ttlSeconds: number,
  clientId: string | null,
) {
  if (!refreshToken) throw invalidRefreshToken();
  const stored = await store.findToken(refreshToken, "refresh");
  if (!stored || stored.used_at !== null || stored.expires_at <= Date.now()) throw invalidRefreshToken();
  if (stored.client_id !== clientId)
    throw new ApiError(
      401,
      kallyaiCode("invalid_grant"),
      stored.client_id
        ? "This refresh token belongs to an OAuth client: refresh it at POST /v1/auth/gpt/token with grant_type=refresh_token and the client's credentials."
        : "This refresh token comes from the CLI sign-in: refresh it at POST /v1/auth/refresh.",
    );
  const user = await store.user(stored.user_id);
  const keep = user !== null && keepsRefreshToken(user.email);
  if (!keep && !(await store.consumeToken(refreshToken, "refresh"))) throw invalidRefreshToken();
  return issueTokenSet(store, stored.user_id, ttlSeconds, {
    clientId: stored.client_id,
    scope: stored.scope ?? DEFAULT_SCOPE,
    keepRefresh: keep,
  });
}
