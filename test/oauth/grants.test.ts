import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorOf } from "../support/bridge";
import { local } from "../support/console";
import {
  API_RESOURCE,
  APP_REDIRECT,
  bearer,
  connectApp,
  form,
  ISSUER,
  MCP_RESOURCE,
  oauthErrorOf,
  tokensFor,
} from "../support/oauth";

const placeCall = (token: string) =>
  local("/v1/calls", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ phone: "+14155551234", task: "Ask about store hours today" }),
  });

describe("a connected app's authorization code", () => {
  it("comes back to the app with its state and this bridge as iss (RFC 9207)", async () => {
    const c = await connectApp();
    expect(c.redirect.origin + c.redirect.pathname).toBe(APP_REDIRECT);
    expect(c.redirect.searchParams.get("state")).toBe("st-1");
    expect(c.redirect.searchParams.get("iss")).toBe(ISSUER);
  });

  it("buys tokens for the resource it was granted, with the scopes the person ticked", async () => {
    const c = await connectApp({ scopes: ["calls:read", "account:read"] });
    const tokens = await tokensFor(c, { resource: API_RESOURCE });
    expect(tokens).toMatchObject({ resource: API_RESOURCE, scope: "calls:read account:read", expires_in: 3600 });
    expect(tokens.refresh_token).toBeTruthy();
    const me = await local("/v1/me", bearer(tokens.access_token));
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ linked: true, key: { scopes: ["calls:read", "account:read"] } });
  });
});

describe("an OAuth access token at the bridge's routes", () => {
  it("passes the same scope checks as an API key: an unticked scope is 403 insufficient_scope, with a step-up challenge", async () => {
    const c = await connectApp({ scopes: ["calls:read"] });
    const { access_token } = await tokensFor(c);
    expect((await local("/v1/calls", bearer(access_token))).status).toBe(200);
    const res = await placeCall(access_token);
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: "insufficient_scope" });
    expect(res.headers.get("www-authenticate")).toBe(
      `Bearer error="insufficient_scope", scope="calls:write", resource_metadata="${ISSUER}/.well-known/oauth-protected-resource/v1"`,
    );
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("places a call, and is held to the hourly guard the consent page set, as its own grant", async () => {
    const c = await connectApp({ callsPerHour: "1" });
    const { access_token } = await tokensFor(c);
    expect((await placeCall(access_token)).status).toBe(202);
    const second = await placeCall(access_token);
    expect(second.status).toBe(429);
    expect((await errorOf(second)).message).toMatch(/^This app may place 1 calls per hour/);
    // The person's own API key is another budget, and still works.
    expect((await local("/v1/me", bearer(c.user.apiKey))).status).toBe(200);
  });

  it("is refused at the other resource: a /v1 token at /mcp, and an /mcp token at /v1", async () => {
    const api = await tokensFor(await connectApp({ resource: API_RESOURCE }));
    const mcp = await tokensFor(await connectApp({ resource: MCP_RESOURCE }));
    const atMcp = await local("/mcp", {
      method: "POST",
      headers: {
        authorization: `Bearer ${api.access_token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(atMcp.status).toBe(401);
    expect(await errorOf(atMcp)).toMatchObject({ code: "invalid_token" });
    expect(atMcp.headers.get("www-authenticate")).toContain('error="invalid_token"');
    const atApi = await local("/v1/me", bearer(mcp.access_token));
    expect(atApi.status).toBe(401);
    expect(await errorOf(atApi)).toMatchObject({ code: "invalid_token" });
  });

  it("never carries account:manage: key management refuses it", async () => {
    const { access_token } = await tokensFor(await connectApp());
    const res = await local("/v1/keys", bearer(access_token));
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: "insufficient_scope" });
  });
});

describe("refresh tokens rotate", () => {
  it("each refresh gives a new pair; a rotated-out refresh token is refused once its successor was used", async () => {
    const c = await connectApp();
    const first = await tokensFor(c);
    const refresh = (token: string, extra: Record<string, string> = {}) =>
      local(
        "/oauth/token",
        form({ grant_type: "refresh_token", refresh_token: token, client_id: c.clientId, ...extra }),
      );
    const r2 = await refresh(first.refresh_token);
    expect(r2.status).toBe(200);
    const second = (await r2.json()) as typeof first;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await local("/v1/me", bearer(second.access_token))).status).toBe(200);
    const r3 = await refresh(second.refresh_token);
    expect(r3.status).toBe(200);
    const old = await refresh(first.refresh_token);
    expect(old.status).toBe(400);
    expect(await oauthErrorOf(old)).toMatchObject({ error: "invalid_grant" });
  });

  it("RFC 7009: a revoked access token stops at once; revoking the refresh token ends the grant", async () => {
    const c = await connectApp();
    const tokens = await tokensFor(c);
    const revoke = (token: string) => local("/oauth/token", form({ token, client_id: c.clientId }));
    expect((await revoke(tokens.access_token)).status).toBe(200);
    expect((await local("/v1/me", bearer(tokens.access_token))).status).toBe(401);
    expect((await revoke(tokens.refresh_token)).status).toBe(200);
    const again = await local(
      "/oauth/token",
      form({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: c.clientId }),
    );
    expect(await oauthErrorOf(again)).toMatchObject({ error: "invalid_grant" });
  });

  it("a grant whose key was revoked (the account unlinked) cannot refresh, and the library drops it", async () => {
    const c = await connectApp();
    const tokens = await tokensFor(c);
    await env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE oauth_client_id = ?")
      .bind(Date.now(), c.clientId)
      .run();
    expect((await local("/v1/me", bearer(tokens.access_token))).status).toBe(401);
    const res = await local(
      "/oauth/token",
      form({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: c.clientId }),
    );
    expect(await oauthErrorOf(res)).toMatchObject({ error: "invalid_grant" });
  });
});
