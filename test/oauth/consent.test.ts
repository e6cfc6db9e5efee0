import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { consoleSignIn, LOCAL, local, postForm } from "../support/console";
import {
  API_RESOURCE,
  APP_REDIRECT,
  answerConsent,
  authorizePath,
  bearer,
  connectApp,
  ISSUER,
  MCP_RESOURCE,
  openConsent,
  pkce,
  registerClient,
  tokensFor,
} from "../support/oauth";

async function consentFor(opts: { scope?: string; resource?: string; redirect?: string } = {}) {
  const user = await consoleSignIn();
  const { client_id } = await registerClient(opts.redirect ? { redirect_uris: [opts.redirect] } : {});
  const { challenge } = await pkce();
  const consent = await openConsent(
    user,
    authorizePath({
      clientId: client_id,
      challenge,
      scope: opts.scope,
      resource: opts.resource,
      redirectUri: opts.redirect,
    }),
  );
  return { user, clientId: client_id, consent };
}

describe("GET /authorize", () => {
  it("without a console session sends the person to sign in, and back to this same request afterwards", async () => {
    const { client_id } = await registerClient();
    const { challenge } = await pkce();
    const path = authorizePath({ clientId: client_id, challenge, resource: MCP_RESOURCE });
    const res = await local(path);
    expect(res.status).toBe(303);
    const login = new URL(res.headers.get("location")!, LOCAL);
    expect(login.pathname).toBe("/auth/login");
    const back = login.searchParams.get("return_to")!;
    expect(new URL(back, LOCAL).searchParams.get("client_id")).toBe(client_id);
    const user = await consoleSignIn(undefined, { returnTo: back });
    expect(user.location).toBe(back);
    expect(user.firstPage).toContain("Allow Test App to use your KallyAI account?");
  });

  it("shows who asks, where the tokens go, the scopes asked for (untickable), the calls per hour, Allow and Deny", async () => {
    const { consent } = await consentFor({ scope: "calls:read account:read", resource: MCP_RESOURCE });
    const { html, res } = consent;
    expect(html).toContain("Allow Test App to use your KallyAI account?");
    expect(html).toContain("This app registered itself; its name is not verified.");
    expect(html).toContain("Access goes to <strong>app.example</strong>");
    expect(html).not.toContain("a program on your computer");
    expect(html).toContain(`<code>${MCP_RESOURCE}</code>`);
    const boxes = [...html.matchAll(/<input type="checkbox" name="scope" value="([^"]+)" checked/g)].map((m) => m[1]);
    expect(boxes).toEqual(["calls:read", "account:read"]);
    expect(html).toMatch(/name="calls_per_hour"[^>]*value="20"/);
    expect(html).toContain('value="approve"');
    expect(html).toContain('value="deny"');
    expect(html).not.toContain("account:manage");
    // No framing, no caching, a form that may lead only here and to the app.
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("content-security-policy")).toContain("form-action 'self' https://app.example");
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("offers every scope but account:manage when the app asks for none of the bridge's", async () => {
    const { consent } = await consentFor({ scope: "offline_access" });
    const boxes = [...consent.html.matchAll(/name="scope" value="([^"]+)"/g)].map((m) => m[1]);
    expect(boxes).toEqual(["calls:write", "calls:read", "account:read", "webhooks"]);
  });

  it("warns when the tokens go to a program on this computer", async () => {
    const { consent } = await consentFor({ redirect: "http://127.0.0.1:7777/cb" });
    expect(consent.html).toContain("Access goes to <strong>127.0.0.1</strong>");
    expect(consent.html).toContain("This sends access to a program on your computer");
  });
});

describe("POST /authorize", () => {
  it("Deny sends the app access_denied with its state and iss, and grants nothing", async () => {
    const { consent, user } = await consentFor();
    const res = await answerConsent(consent, { decision: "deny" });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get("location")!);
    expect(back.origin + back.pathname).toBe(APP_REDIRECT);
    expect(back.searchParams.get("error")).toBe("access_denied");
    expect(back.searchParams.get("state")).toBe("st-1");
    expect(back.searchParams.get("iss")).toBe(ISSUER);
    expect(back.searchParams.get("code")).toBeNull();
    const apps = await (await local("/console/apps", { headers: { cookie: user.cookie } })).text();
    expect(apps).toContain("No app is connected");
  });

  it("a handle works once: answering the same page again is refused", async () => {
    const { consent } = await consentFor();
    expect((await answerConsent(consent, { decision: "approve", scopes: ["calls:read"] })).status).toBe(302);
    const again = await answerConsent(consent, { decision: "approve", scopes: ["calls:read"] });
    expect(again.status).toBe(400);
    expect(await again.text()).toContain("expired or was already used");
  });

  it("nothing ticked, or calls per hour out of range, asks to fix it and keeps the page usable", async () => {
    const { consent } = await consentFor();
    for (const answer of [
      { scopes: [] },
      { scopes: ["calls:read"], callsPerHour: "0" },
      { scopes: ["calls:read"], callsPerHour: "1001" },
      { scopes: ["calls:read"], callsPerHour: "ten" },
    ]) {
      const res = await answerConsent(consent, { decision: "approve", ...answer });
      expect(res.status, JSON.stringify(answer)).toBe(422);
    }
    expect((await answerConsent(consent, { decision: "approve", scopes: ["calls:read"] })).status).toBe(302);
  });

  it("a scope that is not the bridge's, or account:manage, is never granted", async () => {
    const { consent, clientId } = await consentFor();
    const res = await answerConsent(consent, {
      decision: "approve",
      scopes: ["calls:read", "account:manage", "admin"],
    });
    expect(res.status).toBe(302);
    const row = await env.DB.prepare("SELECT scopes FROM api_keys WHERE oauth_client_id = ?")
      .bind(clientId)
      .first<{ scopes: string }>();
    expect(row?.scopes).toBe("calls:read");
  });
});

describe("Connected apps in the console", () => {
  it("lists each grant with its client, scopes, calls per hour, when it was made and last used", async () => {
    const c = await connectApp({ scopes: ["calls:read", "webhooks"], callsPerHour: "7" });
    const tokens = await tokensFor(c);
    expect((await local("/v1/calls", bearer(tokens.access_token))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50)); // last_used_at is written after the answer
    const html = await (await local("/console/apps", { headers: { cookie: c.user.cookie } })).text();
    expect(html).toContain('<span class="title">Test App</span>');
    expect(html).toContain(`<code>${c.clientId}</code>`);
    expect(html).toContain("calls:read, webhooks");
    expect(html).toMatch(/<dt>Calls per hour<\/dt><dd>7<\/dd>/);
    expect(html).toMatch(/<dt>Connected<\/dt><dd><time/);
    expect(html).toMatch(/<dt>Last used<\/dt><dd><time/);
    // The app's key is not an API key: the keys page does not list it.
    const keys = await (await local("/console/keys", { headers: { cookie: c.user.cookie } })).text();
    expect(keys).not.toContain("Test App");
  });

  it("revoke ends the app's access and refresh tokens at once; the person's other apps keep theirs", async () => {
    const c = await connectApp();
    const other = await connectApp({ user: c.user });
    const tokens = await tokensFor(c);
    const kept = await tokensFor(other);
    const html = await (await local("/console/apps", { headers: { cookie: c.user.cookie } })).text();
    expect([...html.matchAll(/\/console\/apps\/[^/"]+\/revoke/g)]).toHaveLength(2);
    const target = c.code.split(":")[1]!; // a code is userId:grantId:secret
    expect(html).toContain(`/console/apps/${encodeURIComponent(target)}/revoke`);
    const res = await postForm(c.user, `/console/apps/${encodeURIComponent(target)}/revoke`, {});
    expect(res.status).toBe(303);
    expect((await local("/v1/me", bearer(tokens.access_token))).status).toBe(401);
    const refresh = await local("/oauth/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token,
        client_id: c.clientId,
      }),
    });
    expect(refresh.status).toBe(400);
    expect((await local("/v1/me", bearer(kept.access_token))).status).toBe(200);
  });

  it("signing out of the console ends no grant; unlinking the account ends every one", async () => {
    const c = await connectApp();
    const tokens = await tokensFor(c);
    expect((await postForm(c.user, "/console/sign-out", {})).status).toBe(303);
    expect((await local("/v1/me", bearer(tokens.access_token))).status).toBe(200);
    const unlinked = await local("/v1/unlink", { method: "POST", ...bearer(c.user.apiKey) });
    expect(unlinked.status).toBe(200);
    expect((await local("/v1/me", bearer(tokens.access_token))).status).toBe(401);
    const me = await local("/v1/me", bearer(c.user.apiKey));
    expect(me.status).toBe(401);
    const userId = c.code.split(":")[0]!;
    expect((await env.OAUTH_KV!.list({ prefix: `grant:${userId}:` })).keys).toHaveLength(0);
  });

  it("an app connected again replaces its earlier grant, whose key stops too", async () => {
    const user = await consoleSignIn();
    const { client_id } = await registerClient();
    const grants: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { verifier, challenge } = await pkce();
      const consent = await openConsent(
        user,
        authorizePath({ clientId: client_id, challenge, resource: API_RESOURCE }),
      );
      const res = await answerConsent(consent, { decision: "approve", scopes: ["calls:read"] });
      const code = new URL(res.headers.get("location")!).searchParams.get("code")!;
      const t = await tokensFor({ user, clientId: client_id, verifier, code, redirect: new URL(APP_REDIRECT) });
      grants.push(t.access_token);
    }
    expect((await local("/v1/me", bearer(grants[0]!))).status).toBe(401);
    expect((await local("/v1/me", bearer(grants[1]!))).status).toBe(200);
    const live = await env.DB.prepare(
      "SELECT count(*) AS n FROM api_keys WHERE oauth_client_id = ? AND revoked_at IS NULL",
    )
      .bind(client_id)
      .first<{ n: number }>();
    expect(live?.n).toBe(1);
  });
});
