import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256 } from "../../src/sandbox/store";
import { bridge, errorOf, json } from "../support/bridge";
import { auth, expireSandboxAccessTokens, sandboxSignIn } from "../support/sandbox";
import {
  authorizationCode,
  freshEmail,
  SANDBOX_OAUTH_CLIENT,
  sandboxGet,
  sandboxWithVars,
  tokenRequest,
} from "../support/sandbox-extra";

/** Access tokens are opaque to clients (the sandbox may issue random strings or JWTs). */
const OPAQUE_TOKEN = /^[A-Za-z0-9._~-]{20,}$/;

/** The reference's CLI redirect: a bare loopback origin, no path (URLs normalise it with a trailing "/"). */
const CALLBACK = "http://127.0.0.1:8740";

const cliPost = (fields: Record<string, string>) =>
  bridge("/sandbox/v1/auth/cli", { method: "POST", body: new URLSearchParams(fields), redirect: "manual" });

describe("GET /sandbox/v1/auth/cli", () => {
  it("serves a sign-in page with a form carrying redirect_uri and state, and an email field", async () => {
    const res = await bridge(
      `/sandbox/v1/auth/cli?${new URLSearchParams({ redirect_uri: CALLBACK, state: "csrf-123" })}`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toMatch(/<form[^>]*method="post"/);
    expect(html).toContain(`<input type="hidden" name="redirect_uri" value="${CALLBACK}/">`);
    expect(html).toContain('<input type="hidden" name="state" value="csrf-123">');
    expect(html).toMatch(/<input[^>]*type="email"[^>]*name="email"/);
  });

  it("accepts localhost as well as 127.0.0.1", async () => {
    const res = await bridge(
      `/sandbox/v1/auth/cli?redirect_uri=${encodeURIComponent("http://localhost:8976")}&state=x`,
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('value="http://localhost:8976/"');
  });

  it("escapes the state it echoes into the page", async () => {
    const res = await bridge(
      `/sandbox/v1/auth/cli?redirect_uri=${encodeURIComponent(CALLBACK)}&state=${encodeURIComponent('"><script>x</script>')}`,
    );
    const html = await res.text();
    expect(html).not.toContain("<script>x</script>");
    expect(html).toContain("&#34;&#62;&#60;script&#62;");
  });

  it.each([
    ["another host", "https://evil.example/callback"],
    ["a look-alike host", "http://127.0.0.1.evil.example/callback"],
    ["credentials in front of another host", "http://localhost@evil.example/callback"],
    ["a non-http scheme", "javascript:alert(1)"],
    ["https (the reference names http)", "https://127.0.0.1:8740"],
    ["a path (the reference's redirect is a bare origin)", "http://127.0.0.1:8740/callback"],
    ["a query", "http://127.0.0.1:8740/?next=/x"],
    ["not a URL", "callback"],
  ])("refuses a redirect_uri with %s with 400", async (_, uri) => {
    const res = await bridge(`/sandbox/v1/auth/cli?redirect_uri=${encodeURIComponent(uri)}&state=s`);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_redirect_uri" });
  });

  it("refuses a missing redirect_uri with 400", async () => {
    const res = await bridge("/sandbox/v1/auth/cli?state=s");
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toMatch(/localhost/);
  });
});

describe("POST /sandbox/v1/auth/cli", () => {
  it("redirects (302) to redirect_uri with access_token, refresh_token, expires_in and state", async () => {
    const res = await cliPost({ redirect_uri: CALLBACK, state: "csrf-9", email: freshEmail() });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!);
    expect(`${location.origin}${location.pathname}`).toBe(`${CALLBACK}/`);
    expect(location.searchParams.get("access_token")).toMatch(OPAQUE_TOKEN);
    expect(location.searchParams.get("refresh_token")).toMatch(/^sbx_rt_[0-9a-f]{48}$/);
    expect(location.searchParams.get("expires_in")).toBe("3600");
    expect(location.searchParams.get("state")).toBe("csrf-9");
  });

  it("issues a token that works on the API", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await sandboxGet("/v1/users/me/statistics", accessToken);
    expect(res.status).toBe(200);
  });

  it("accepts the same fields as JSON", async () => {
    const res = await json(
      "/sandbox/v1/auth/cli",
      { redirect_uri: CALLBACK, state: "j", email: freshEmail() },
      { redirect: "manual" },
    );
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get("location")!).searchParams.get("state")).toBe("j");
  });

  it("signs the same email in as the same user every time", async () => {
    const email = freshEmail();
    await sandboxSignIn(email);
    await sandboxSignIn(email.toUpperCase());
    const row = await env.DB.prepare("SELECT count(*) AS n FROM sandbox_users WHERE email = ?")
      .bind(email)
      .first<{ n: number }>();
    expect(row!.n).toBe(1);
  });

  it.each([
    ["another host", "https://evil.example/callback"],
    ["a look-alike host", "http://localhost.evil.example/"],
  ])("refuses a redirect_uri with %s with 400 and issues no token", async (_, uri) => {
    const email = freshEmail();
    const res = await cliPost({ redirect_uri: uri, state: "s", email });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_redirect_uri" });
    expect(await env.DB.prepare("SELECT 1 FROM sandbox_users WHERE email = ?").bind(email).first()).toBeNull();
  });

  it("refuses a missing redirect_uri with 400", async () => {
    const res = await cliPost({ state: "s", email: freshEmail() });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_redirect_uri" });
  });

  it.each([["not-an-email"], [""], ["a@b"]])("refuses the email %j with 400", async (email) => {
    const res = await cliPost({ redirect_uri: CALLBACK, state: "s", email });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_email" });
  });

  it("refuses a missing email with 400", async () => {
    const res = await cliPost({ redirect_uri: CALLBACK, state: "s" });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_email" });
  });
});

describe("OAuth2 code flow for the registered client", () => {
  const REDIRECT = "https://app.example/oauth/callback";
  const exchange = (code: string, overrides: Record<string, string> = {}) =>
    tokenRequest({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      client_id: SANDBOX_OAUTH_CLIENT.id,
      client_secret: SANDBOX_OAUTH_CLIENT.secret,
      ...overrides,
    });

  describe("GET /sandbox/v1/auth/authorize", () => {
    it("serves a sign-in page carrying client_id, redirect_uri and state", async () => {
      const q = new URLSearchParams({
        response_type: "code",
        client_id: SANDBOX_OAUTH_CLIENT.id,
        redirect_uri: REDIRECT,
        scope: "calls:read calls:write",
        state: "st",
      });
      const res = await bridge(`/sandbox/v1/auth/authorize?${q}`);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toMatch(/<form[^>]*method="post"/);
      expect(html).toContain(`name="client_id" value="${SANDBOX_OAUTH_CLIENT.id}"`);
      expect(html).toContain(`name="redirect_uri" value="${REDIRECT}"`);
      expect(html).toContain('name="state" value="st"');
      expect(html).toContain('name="scope" value="calls:read calls:write"');
      expect(html).toMatch(/name="email"/);
    });

    it("refuses a scope the reference does not name (e.g. calls.write) with 400 invalid_scope", async () => {
      const q = new URLSearchParams({
        response_type: "code",
        client_id: SANDBOX_OAUTH_CLIENT.id,
        redirect_uri: REDIRECT,
        scope: "calls.write",
        state: "st",
      });
      const res = await bridge(`/sandbox/v1/auth/authorize?${q}`);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: "invalid_scope" });
    });

    it("refuses an unknown client with 400", async () => {
      const q = new URLSearchParams({
        response_type: "code",
        client_id: "someone-else",
        redirect_uri: REDIRECT,
        state: "st",
      });
      const res = await bridge(`/sandbox/v1/auth/authorize?${q}`);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: "invalid_client" });
    });

    it("refuses a response_type other than code with 400", async () => {
      const q = new URLSearchParams({
        response_type: "token",
        client_id: SANDBOX_OAUTH_CLIENT.id,
        redirect_uri: REDIRECT,
      });
      const res = await bridge(`/sandbox/v1/auth/authorize?${q}`);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: "unsupported_response_type" });
    });

    it("refuses a plain-http redirect_uri to another host with 400", async () => {
      const q = new URLSearchParams({
        response_type: "code",
        client_id: SANDBOX_OAUTH_CLIENT.id,
        redirect_uri: "http://app.example/cb",
      });
      const res = await bridge(`/sandbox/v1/auth/authorize?${q}`);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: "invalid_redirect_uri" });
    });
  });

  describe("POST /sandbox/v1/auth/authorize", () => {
    it("redirects (302) to redirect_uri with a code and the state", async () => {
      const { location, code, state } = await authorizationCode(freshEmail(), REDIRECT, "xyz");
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
      expect(code).toMatch(/^sbx_code_/);
      expect(state).toBe("xyz");
      expect(location.searchParams.has("access_token")).toBe(false);
    });

    it("refuses an unknown client with 400", async () => {
      const res = await bridge("/sandbox/v1/auth/authorize", {
        method: "POST",
        body: new URLSearchParams({ client_id: "nope", redirect_uri: REDIRECT, email: freshEmail() }),
        redirect: "manual",
      });
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: "invalid_client" });
    });

    it("refuses a bad email with 400", async () => {
      const res = await bridge("/sandbox/v1/auth/authorize", {
        method: "POST",
        body: new URLSearchParams({ client_id: SANDBOX_OAUTH_CLIENT.id, redirect_uri: REDIRECT, email: "nobody" }),
        redirect: "manual",
      });
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: "invalid_email" });
    });
  });

  describe("POST /sandbox/v1/auth/gpt/token", () => {
    it("exchanges a code for tokens that work on the API", async () => {
      const { code } = await authorizationCode(freshEmail(), REDIRECT);
      const res = await exchange(code);
      expect(res.status).toBe(200);
      const tokens = (await res.json()) as { access_token: string; refresh_token: string; expires_in: number };
      expect(tokens).toMatchObject({
        access_token: expect.stringMatching(OPAQUE_TOKEN),
        refresh_token: expect.stringMatching(/^sbx_rt_/),
        expires_in: 3600,
      });
      expect((await sandboxGet("/v1/users/me/statistics", tokens.access_token)).status).toBe(200);
    });

    it("accepts the client's credentials as HTTP Basic auth", async () => {
      const { code } = await authorizationCode(freshEmail(), REDIRECT);
      const basic = btoa(`${SANDBOX_OAUTH_CLIENT.id}:${SANDBOX_OAUTH_CLIENT.secret}`);
      const res = await tokenRequest(
        { grant_type: "authorization_code", code, redirect_uri: REDIRECT },
        { authorization: `Basic ${basic}` },
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toHaveProperty("access_token");
    });

    it("accepts a redirect_uri without a path exactly as the client sent it", async () => {
      const bare = "https://bare.example";
      const { code } = await authorizationCode(freshEmail(), bare);
      const res = await exchange(code, { redirect_uri: bare });
      expect(res.status).toBe(200);
    });

    it("accepts a code only once", async () => {
      const { code } = await authorizationCode(freshEmail(), REDIRECT);
      expect((await exchange(code)).status).toBe(200);
      const again = await exchange(code);
      expect(again.status).toBe(400);
      expect(await errorOf(again)).toMatchObject({ code: "invalid_grant" });
    });

    it("refuses a wrong client_secret with 401", async () => {
      const { code } = await authorizationCode(freshEmail(), REDIRECT);
      const res = await exchange(code, { client_secret: "wrong" });
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toMatchObject({ code: "invalid_client" });
      // The refused attempt did not spend the code.
      expect((await exchange(code)).status).toBe(200);
    });

    it("refuses garbled Basic credentials as a missing client (400), not with a crash", async () => {
      const res = await tokenRequest(
        { grant_type: "authorization_code", code: "x", redirect_uri: REDIRECT },
        { authorization: "Basic %%%not-base64" },
      );
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: "invalid_client" });
    });

    it("refuses an unknown client with 400", async () => {
      const { code } = await authorizationCode(freshEmail(), REDIRECT);
      const res = await exchange(code, { client_id: "someone-else" });
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: "invalid_client" });
    });

    it("refuses a redirect_uri other than the one the code was issued for with 400", async () => {
      const { code } = await authorizationCode(freshEmail(), REDIRECT);
      const res = await exchange(code, { redirect_uri: "https://app.example/other" });
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: "invalid_grant" });
    });

    it("refuses an unknown code with 400", async () => {
      const res = await exchange("sbx_code_made_up");
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: "invalid_grant" });
    });

    it("refuses an expired code with 400", async () => {
      const { code } = await authorizationCode(freshEmail(), REDIRECT);
      await env.DB.prepare("UPDATE sandbox_tokens SET expires_at = ? WHERE token_hash = ?")
        .bind(Date.now() - 1000, await sha256(code))
        .run();
      const res = await exchange(code);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: "invalid_grant" });
    });

    it("refuses an unsupported grant_type with 400", async () => {
      const res = await exchange("x", { grant_type: "password" });
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: "unsupported_grant_type" });
    });

    it("rotates a refresh token with grant_type=refresh_token", async () => {
      const { code } = await authorizationCode(freshEmail(), REDIRECT);
      const first = (await (await exchange(code)).json()) as { refresh_token: string };
      const base = {
        client_id: SANDBOX_OAUTH_CLIENT.id,
        client_secret: SANDBOX_OAUTH_CLIENT.secret,
        grant_type: "refresh_token",
      };
      const res = await tokenRequest({ ...base, refresh_token: first.refresh_token });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { refresh_token: string }).refresh_token).not.toBe(first.refresh_token);
      expect((await tokenRequest({ ...base, refresh_token: first.refresh_token })).status).toBe(401);
    });
  });
});

describe("POST /sandbox/v1/auth/refresh", () => {
  const refresh = (refresh_token: unknown) => json("/sandbox/v1/auth/refresh", { refresh_token });

  it("returns a new token set, and the old refresh token then gets 401", async () => {
    const signedIn = await sandboxSignIn();
    const res = await refresh(signedIn.refreshToken);
    expect(res.status).toBe(200);
    const tokens = (await res.json()) as { access_token: string; refresh_token: string; expires_in: number };
    expect(tokens.access_token).toMatch(OPAQUE_TOKEN);
    expect(tokens.access_token).not.toBe(signedIn.accessToken);
    expect(tokens.refresh_token).not.toBe(signedIn.refreshToken);
    expect(tokens.expires_in).toBe(3600);
    expect((await sandboxGet("/v1/users/me/statistics", tokens.access_token)).status).toBe(200);

    const reused = await refresh(signedIn.refreshToken);
    expect(reused.status).toBe(401);
    expect(await errorOf(reused)).toMatchObject({ code: "invalid_refresh_token" });
  });

  it("the new refresh token rotates again", async () => {
    const signedIn = await sandboxSignIn();
    const second = (await (await refresh(signedIn.refreshToken)).json()) as { refresh_token: string };
    const third = await refresh(second.refresh_token);
    expect(third.status).toBe(200);
  });

  it("keeps the same user across a refresh", async () => {
    const signedIn = await sandboxSignIn();
    const before = await (await sandboxGet("/v1/users/me/statistics", signedIn.accessToken)).json();
    const tokens = (await (await refresh(signedIn.refreshToken)).json()) as { access_token: string };
    expect(await (await sandboxGet("/v1/users/me/statistics", tokens.access_token)).json()).toEqual(before);
  });

  it("refuses an unknown refresh token with 401", async () => {
    const res = await refresh("sbx_rt_unknown");
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_refresh_token" });
  });

  it("refuses an expired refresh token with 401", async () => {
    const signedIn = await sandboxSignIn();
    await env.DB.prepare("UPDATE sandbox_tokens SET expires_at = ? WHERE token_hash = ?")
      .bind(Date.now() - 1000, await sha256(signedIn.refreshToken))
      .run();
    const res = await refresh(signedIn.refreshToken);
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_refresh_token" });
  });

  it("refuses an access token presented as a refresh token with 401", async () => {
    const { accessToken } = await sandboxSignIn();
    expect((await refresh(accessToken)).status).toBe(401);
  });

  it("refuses a missing refresh token with 401", async () => {
    expect((await json("/sandbox/v1/auth/refresh", {})).status).toBe(401);
    expect((await bridge("/sandbox/v1/auth/refresh", { method: "POST", body: "not json" })).status).toBe(401);
  });
});

describe("access tokens", () => {
  it("live SANDBOX_TOKEN_TTL_SECONDS (3600 by default), and expires_in says so", async () => {
    const { accessToken, expiresIn } = await sandboxSignIn();
    expect(expiresIn).toBe(3600);
    const row = await env.DB.prepare("SELECT created_at, expires_at FROM sandbox_tokens WHERE token_hash = ?")
      .bind(await sha256(accessToken))
      .first<{ created_at: number; expires_at: number }>();
    expect(row!.expires_at - row!.created_at).toBeGreaterThanOrEqual(3600_000 - 1000);
    expect(row!.expires_at - row!.created_at).toBeLessThanOrEqual(3600_000 + 1000);
  });

  it("follow a different SANDBOX_TOKEN_TTL_SECONDS, in expires_in of both sign-in and refresh", async () => {
    const vars = { SANDBOX_TOKEN_TTL_SECONDS: "120" };
    const res = await sandboxWithVars(vars, "/v1/auth/cli", {
      method: "POST",
      body: new URLSearchParams({ redirect_uri: CALLBACK, state: "s", email: freshEmail() }),
      redirect: "manual",
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!);
    expect(location.searchParams.get("expires_in")).toBe("120");
    const refreshed = await sandboxWithVars(vars, "/v1/auth/refresh", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: location.searchParams.get("refresh_token") }),
    });
    expect(await refreshed.json()).toMatchObject({ expires_in: 120 });
  });

  it("get 401 once expired, and a refresh brings access back", async () => {
    const { accessToken, refreshToken } = await sandboxSignIn();
    await expireSandboxAccessTokens();
    const res = await sandboxGet("/v1/calls", accessToken);
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ code: "token_expired" });
    const tokens = (await (await json("/sandbox/v1/auth/refresh", { refresh_token: refreshToken })).json()) as {
      access_token: string;
    };
    expect((await sandboxGet("/v1/calls", tokens.access_token)).status).toBe(200);
  });

  it("an unknown token gets 401", async () => {
    const res = await sandboxGet("/v1/users/me/statistics", "sbx_at_not_a_token");
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_token" });
  });

  it("a refresh token is not an access token", async () => {
    const { refreshToken } = await sandboxSignIn();
    expect((await sandboxGet("/v1/calls", refreshToken)).status).toBe(401);
  });

  it.each([
    "/v1/calls",
    "/v1/calls/some-id",
    "/v1/users/me/statistics",
    "/v1/users/me/subscription",
    "/v1/stripe/billing-portal",
  ])("a request without a token to %s gets 401 missing_token", async (path) => {
    const res = await bridge(`/sandbox${path}`);
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ code: "missing_token" });
  });

  it("a non-Bearer Authorization header counts as missing", async () => {
    const res = await bridge("/sandbox/v1/calls", { headers: { authorization: "Basic abc" } });
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ code: "missing_token" });
  });

  it("the Bearer scheme is case-insensitive", async () => {
    const { accessToken } = await sandboxSignIn();
    expect((await bridge("/sandbox/v1/calls", { headers: { authorization: `bearer ${accessToken}` } })).status).toBe(
      200,
    );
  });
});

describe("auth state in D1", () => {
  it("stores users, and tokens only as SHA-256 hashes", async () => {
    const email = freshEmail();
    const { accessToken, refreshToken } = await sandboxSignIn(email);
    const user = await env.DB.prepare("SELECT * FROM sandbox_users WHERE email = ?")
      .bind(email)
      .first<{ id: string }>();
    expect(user).not.toBeNull();
    const { results } = await env.DB.prepare("SELECT * FROM sandbox_tokens WHERE user_id = ?")
      .bind(user!.id)
      .all<Record<string, unknown>>();
    expect(results.map((r) => r.kind).sort()).toEqual(["access", "refresh"]);
    expect(results.map((r) => r.token_hash).sort()).toEqual(
      [await sha256(accessToken), await sha256(refreshToken)].sort(),
    );
    const everything = JSON.stringify((await env.DB.prepare("SELECT * FROM sandbox_tokens").all()).results);
    expect(everything).not.toContain(accessToken);
    expect(everything).not.toContain(refreshToken);
    expect(everything).not.toContain(accessToken.slice(7));
  });

  it("stores authorization codes only as hashes, and marks them used", async () => {
    const { code } = await authorizationCode();
    const row = await env.DB.prepare("SELECT * FROM sandbox_tokens WHERE token_hash = ?")
      .bind(await sha256(code))
      .first<{ kind: string; used_at: number | null }>();
    expect(row).toMatchObject({ kind: "code", used_at: null });
    expect(JSON.stringify((await env.DB.prepare("SELECT * FROM sandbox_tokens").all()).results)).not.toContain(code);
    await tokenRequest({
      grant_type: "authorization_code",
      code,
      redirect_uri: "https://app.example/oauth/callback",
      client_id: SANDBOX_OAUTH_CLIENT.id,
      client_secret: SANDBOX_OAUTH_CLIENT.secret,
    });
    const used = await env.DB.prepare("SELECT used_at FROM sandbox_tokens WHERE token_hash = ?")
      .bind(await sha256(code))
      .first<{ used_at: number | null }>();
    expect(used!.used_at).toEqual(expect.any(Number));
  });

  it("logs every request the sandbox receives", async () => {
    const { accessToken } = await sandboxSignIn();
    const before = await env.DB.prepare(
      "SELECT count(*) AS n FROM sandbox_requests WHERE path = '/v1/users/me/subscription'",
    ).first<{ n: number }>();
    await bridge("/sandbox/v1/users/me/subscription", { headers: auth(accessToken) });
    const after = await env.DB.prepare(
      "SELECT count(*) AS n FROM sandbox_requests WHERE path = '/v1/users/me/subscription'",
    ).first<{ n: number }>();
    expect(after!.n).toBe(before!.n + 1);
  });
});
