import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { consoleSignIn, local } from "../support/console";
import {
  API_RESOURCE,
  APP_REDIRECT,
  answerConsent,
  authorizePath,
  bearer,
  connectApp,
  exchangeCode,
  form,
  ISSUER,
  MCP_RESOURCE,
  oauthErrorOf,
  openConsent,
  pkce,
  registerClient,
  tokensFor,
} from "../support/oauth";

/** No grant exists for the person: nothing was granted by a refused attempt. */
async function grantsOf(userId: string): Promise<number> {
  const listed = await env.OAUTH_KV!.list({ prefix: `grant:${userId}:` });
  return listed.keys.length;
}
const userIdOf = async (apiKey: string) =>
  ((await (await local("/v1/me", bearer(apiKey))).json()) as { user_id: string }).user_id;

describe("refused at the token endpoint, each with an OAuth error and no token", () => {
  it("a wrong PKCE verifier", async () => {
    const c = await connectApp();
    const res = await exchangeCode({ ...c, verifier: (await pkce()).verifier });
    expect(res.status).toBe(400);
    expect(await oauthErrorOf(res)).toMatchObject({ error: "invalid_grant" });
  });

  it("a code used twice: refused, and the grant is revoked with the tokens it gave", async () => {
    const c = await connectApp();
    const tokens = await tokensFor(c);
    expect((await local("/v1/me", bearer(tokens.access_token))).status).toBe(200);
    const replay = await exchangeCode(c);
    expect(replay.status).toBe(400);
    expect(await oauthErrorOf(replay)).toMatchObject({ error: "invalid_grant" });
    expect((await local("/v1/me", bearer(tokens.access_token))).status).toBe(401);
    expect(await grantsOf(await userIdOf(c.user.apiKey))).toBe(0);
  });

  it("an expired code (its record gone, as KV's 10-minute TTL leaves it)", async () => {
    const c = await connectApp();
    const [userId, grantId] = c.code.split(":");
    await env.OAUTH_KV!.delete(`grant:${userId}:${grantId}`);
    const res = await exchangeCode(c);
    expect(res.status).toBe(400);
    expect(await oauthErrorOf(res)).toMatchObject({ error: "invalid_grant" });
  });

  it("a resource of another server, or the other resource than the grant's", async () => {
    for (const resource of ["https://evil.example/mcp", MCP_RESOURCE]) {
      const res = await exchangeCode(await connectApp({ resource: API_RESOURCE }), { resource });
      expect(res.status, resource).toBe(400);
      expect(await oauthErrorOf(res), resource).toMatchObject({ error: "invalid_target" });
    }
  });

  it("scopes widened at the token step, and at the refresh step", async () => {
    const c = await connectApp({ scopes: ["calls:read"] });
    const widened = await exchangeCode(c, { scope: "calls:read calls:write" });
    expect(widened.status).toBe(400);
    expect(await oauthErrorOf(widened)).toMatchObject({ error: "invalid_scope" });

    const d = await connectApp({ scopes: ["calls:read"] });
    const tokens = await tokensFor(d);
    const refresh = await local(
      "/oauth/token",
      form({
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token,
        client_id: d.clientId,
        scope: "calls:read webhooks",
      }),
    );
    expect(refresh.status).toBe(400);
    expect(await oauthErrorOf(refresh)).toMatchObject({ error: "invalid_scope" });
  });

  it("a refresh token rotated out", async () => {
    const c = await connectApp();
    const t1 = await tokensFor(c);
    const refresh = (token: string) =>
      local("/oauth/token", form({ grant_type: "refresh_token", refresh_token: token, client_id: c.clientId }));
    const t2 = (await (await refresh(t1.refresh_token)).json()) as { refresh_token: string };
    expect((await refresh(t2.refresh_token)).status).toBe(200);
    const res = await refresh(t1.refresh_token);
    expect(res.status).toBe(400);
    expect(await oauthErrorOf(res)).toMatchObject({ error: "invalid_grant" });
  });
});

describe("refused at /authorize, shown on the bridge's page and never sent to an unverified address", () => {
  async function authorizeWith(overrides: Record<string, string>) {
    const user = await consoleSignIn();
    const { client_id } = await registerClient();
    const { challenge } = await pkce();
    const path = new URL(authorizePath({ clientId: client_id, challenge, resource: API_RESOURCE }), ISSUER);
    for (const [k, v] of Object.entries(overrides)) path.searchParams.set(k, v);
    const res = await local(path.pathname + path.search, { headers: { cookie: user.cookie } });
    return { res, user };
  }

  it.each([
    ["an unregistered redirect URI", "https://app.example/other"],
    ["a prefix of the registered one", "https://app.example/callback.evil.example"],
    ["a path escape", "https://app.example/callback/../../evil"],
    ["userinfo naming another host", "https://app.example@evil.example/callback"],
    ["another host", "https://evil.example/callback"],
    ["a scheme-relative URL", "//evil.example/callback"],
    ["plain http off loopback", "http://app.example/callback"],
    ["a javascript: URL", "javascript:alert(1)"],
  ])("%s", async (_what, redirectUri) => {
    const { res, user } = await authorizeWith({ redirect_uri: redirectUri });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await grantsOf(await userIdOf(user.apiKey))).toBe(0);
  });

  it("a resource of another server goes back to the app as invalid_target, with iss", async () => {
    const { res } = await authorizeWith({ resource: "https://evil.example/mcp" });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get("location")!);
    expect(back.origin + back.pathname).toBe(APP_REDIRECT);
    expect(back.searchParams.get("error")).toBe("invalid_target");
    expect(back.searchParams.get("iss")).toBe(ISSUER);
  });

  it("PKCE other than S256, and none at all", async () => {
    const cases: Record<string, string>[] = [
      { code_challenge_method: "plain" },
      { code_challenge: "", code_challenge_method: "" },
    ];
    for (const overrides of cases) {
      const { res } = await authorizeWith(overrides);
      expect(res.status, JSON.stringify(overrides)).toBe(302);
      expect(new URL(res.headers.get("location")!).searchParams.get("error")).toBe("invalid_request");
    }
  });

  it("registration of a redirect URI that is neither https nor loopback", async () => {
    const res = await local("/oauth/register", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        client_name: "x",
        redirect_uris: ["http://app.example/cb"],
        token_endpoint_auth_method: "none",
      }),
    });
    expect(res.status).toBe(400);
    expect(await oauthErrorOf(res)).toMatchObject({
      error: expect.stringMatching(/^invalid_(redirect_uri|client_metadata)$/),
    });
  });
});

describe("the consent page", () => {
  it("escapes a client name carrying markup", async () => {
    const user = await consoleSignIn();
    const name = `<script>alert("x")</script><img src=x onerror=alert(1)>`;
    const { client_id } = await registerClient({ client_name: name });
    const { challenge } = await pkce();
    const { html } = await openConsent(user, authorizePath({ clientId: client_id, challenge }));
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;script&gt;alert(");
  });

  it("refuses a consent posted cross-site: no code, and nothing granted", async () => {
    const user = await consoleSignIn();
    const { client_id } = await registerClient();
    const { challenge } = await pkce();
    const consent = await openConsent(user, authorizePath({ clientId: client_id, challenge }));
    for (const origin of ["https://evil.example", null]) {
      const res = await answerConsent(origin === null ? { ...consent, cookie: user.cookie } : consent, {
        decision: "approve",
        scopes: ["calls:read"],
        origin: origin ?? "https://evil.example",
      });
      expect(res.status).toBe(403);
      expect(res.headers.get("location")).toBeNull();
    }
    // Same origin, but without the browser's binding cookie (another browser): refused too.
    const unbound = await answerConsent(
      { ...consent, cookie: user.cookie },
      { decision: "approve", scopes: ["calls:read"] },
    );
    expect(unbound.status).toBe(400);
    expect(unbound.headers.get("location")).toBeNull();
    expect(await grantsOf(await userIdOf(user.apiKey))).toBe(0);
  });

  it("refuses a consent whose CSRF token is another session's", async () => {
    const user = await consoleSignIn();
    const other = await consoleSignIn();
    const { client_id } = await registerClient();
    const { challenge } = await pkce();
    const consent = await openConsent(user, authorizePath({ clientId: client_id, challenge }));
    const theirs = await openConsent(other, authorizePath({ clientId: client_id, challenge }));
    const res = await answerConsent({ ...consent, csrf: theirs.csrf }, { decision: "approve", scopes: ["calls:read"] });
    expect(res.status).toBe(403);
    expect(await grantsOf(await userIdOf(user.apiKey))).toBe(0);
  });
});

describe("values longer than any the bridge issues (its KV keys embed them)", () => {
  it("are refused, never a 500: a bearer token, a token endpoint's client id, an /authorize client id", async () => {
    const long = "x".repeat(600);
    const me = await local("/v1/me", bearer(`usr_a:${long}:secret`));
    expect(me.status).toBe(401);
    const token = await local("/oauth/token", form({ token: "a:b:c", client_id: long }));
    expect(token.status).toBe(400);
    expect(await oauthErrorOf(token)).toMatchObject({ error: "invalid_request" });
    const user = await consoleSignIn();
    const page = await local(authorizePath({ clientId: long, challenge: (await pkce()).challenge }), {
      headers: { cookie: user.cookie },
    });
    expect(page.status).toBe(400);
  });
});
