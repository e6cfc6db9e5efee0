import { expect } from "vitest";
import { type ConsoleUser, consoleSignIn, LOCAL, local } from "./console";

/** OAuth tests run on a loopback origin, where the bridge is its own issuer over plain http (as under `npm run dev`). */
export const ISSUER = LOCAL;
export const MCP_RESOURCE = `${LOCAL}/mcp`;
export const API_RESOURCE = `${LOCAL}/v1`;
export const APP_REDIRECT = "https://app.example/callback";

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

export async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  return { verifier, challenge: b64url(digest) };
}

export const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields),
});

/** Registers a public client by RFC 7591, as an MCP client does. */
export async function registerClient(
  metadata: Record<string, unknown> = {},
): Promise<{ client_id: string; client_secret?: string }> {
  const res = await local("/oauth/register", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: "Test App",
      redirect_uris: [APP_REDIRECT],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      ...metadata,
    }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { client_id: string; client_secret?: string };
}

export interface AuthorizeParams {
  clientId: string;
  challenge: string;
  resource?: string;
  scope?: string;
  redirectUri?: string;
  state?: string;
}

export function authorizePath(p: AuthorizeParams): string {
  const q = new URLSearchParams({
    response_type: "code",
    client_id: p.clientId,
    redirect_uri: p.redirectUri ?? APP_REDIRECT,
    code_challenge: p.challenge,
    code_challenge_method: "S256",
    state: p.state ?? "st-1",
  });
  if (p.scope !== undefined) q.set("scope", p.scope);
  if (p.resource !== undefined) q.set("resource", p.resource);
  return `/authorize?${q}`;
}

/** The consent page, as the signed-in browser sees it: its HTML, its handle and CSRF token, and the binding cookie. */
export async function openConsent(user: ConsoleUser, path: string) {
  const res = await local(path, { headers: { cookie: user.cookie } });
  expect(res.status, await res.clone().text()).toBe(200);
  const html = await res.text();
  const binding = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .find((c) => c.startsWith("__Host-oauth-consent"));
  expect(binding).toBeTruthy();
  return {
    res,
    html,
    handle: html.match(/name="handle" value="([^"]+)"/)![1]!,
    csrf: html.match(/name="_csrf" value="([^"]+)"/)![1]!,
    cookie: `${user.cookie}; ${binding}`,
  };
}

/** Answers a consent page: Allow (with the ticked scopes and calls per hour) or Deny. */
export function answerConsent(
  consent: { handle: string; csrf: string; cookie: string },
  answer: { decision: "approve" | "deny"; scopes?: string[]; callsPerHour?: string; origin?: string | null },
) {
  const body = new URLSearchParams({ handle: consent.handle, _csrf: consent.csrf, decision: answer.decision });
  for (const s of answer.scopes ?? []) body.append("scope", s);
  body.set("calls_per_hour", answer.callsPerHour ?? "20");
  const headers: Record<string, string> = {
    cookie: consent.cookie,
    "content-type": "application/x-www-form-urlencoded",
  };
  if (answer.origin !== null) headers.origin = answer.origin ?? LOCAL;
  return local("/authorize", { method: "POST", body, headers });
}

export interface Connected {
  user: ConsoleUser;
  clientId: string;
  verifier: string;
  code: string;
  redirect: URL;
}

/** A person signs in, an app registers and asks, the person allows: the app's redirect with its code. */
export async function connectApp(
  opts: { resource?: string; scopes?: string[]; callsPerHour?: string; user?: ConsoleUser; scope?: string } = {},
): Promise<Connected> {
  const user = opts.user ?? (await consoleSignIn());
  const { client_id } = await registerClient();
  const { verifier, challenge } = await pkce();
  const consent = await openConsent(
    user,
    authorizePath({ clientId: client_id, challenge, resource: opts.resource ?? API_RESOURCE, scope: opts.scope }),
  );
  const res = await answerConsent(consent, {
    decision: "approve",
    scopes: opts.scopes ?? ["calls:write", "calls:read", "account:read", "webhooks"],
    callsPerHour: opts.callsPerHour,
  });
  expect(res.status, await res.clone().text()).toBe(302);
  const redirect = new URL(res.headers.get("location")!);
  const code = redirect.searchParams.get("code");
  expect(code).toBeTruthy();
  return { user, clientId: client_id, verifier, code: code!, redirect };
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  scope: string;
  resource: string;
  expires_in: number;
}

export async function exchangeCode(c: Connected, extra: Record<string, string> = {}) {
  return local(
    "/oauth/token",
    form({
      grant_type: "authorization_code",
      code: c.code,
      redirect_uri: APP_REDIRECT,
      client_id: c.clientId,
      code_verifier: c.verifier,
      ...extra,
    }),
  );
}

export async function tokensFor(c: Connected, extra: Record<string, string> = {}): Promise<Tokens> {
  const res = await exchangeCode(c, extra);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Tokens;
}

export const bearer = (token: string, headers: Record<string, string> = {}) => ({
  headers: { authorization: `Bearer ${token}`, ...headers },
});

/** An OAuth error body (RFC 6749 §5.2): `error` and, usually, `error_description`. */
export async function oauthErrorOf(res: Response): Promise<{ error: string; error_description?: string }> {
  const body = (await res.json()) as { error: string; error_description?: string };
  expect(typeof body.error).toBe("string");
  return body;
}
