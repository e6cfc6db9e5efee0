import { env } from "cloudflare:workers";
import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { DEV_SIGNING_KEYS } from "../../src/env";
import { fromBase64, toBase64Url } from "../../src/shared/encoding";
import { bridgeWith, linkedUser, withKey } from "../support/accounts";
import { bridge, errorOf, json } from "../support/bridge";

const devKey = JSON.parse(DEV_SIGNING_KEYS)[0] as { kid: string; k: string };
const devSecret = fromBase64(devKey.k);

async function forge(claims: { sub: string; jti: string; iss?: string; aud?: string; exp?: number; scope?: string }, secret = devSecret, kid = devKey.kid) {
  const jwt = new SignJWT({ scope: claims.scope ?? "calls:write calls:read account:read webhooks", name: "forged" })
    .setProtectedHeader({ alg: "HS256", kid })
    .setIssuer(claims.iss ?? "kallyai-bridge")
    .setAudience(claims.aud ?? "kallyai-bridge/api")
    .setSubject(claims.sub)
    .setJti(claims.jti)
    .setIssuedAt();
  if (claims.exp) jwt.setExpirationTime(claims.exp);
  return jwt.sign(secret);
}

const me = (key: string) => bridge("/v1/me", withKey(key));

describe("API key verification", () => {
  it("accepts the key as Bearer and as X-API-Key", async () => {
    const user = await linkedUser();
    expect((await me(user.apiKey)).status).toBe(200);
    expect((await bridge("/v1/me", { headers: { "x-api-key": user.apiKey } })).status).toBe(200);
  });

  it("refuses a missing key", async () => {
    expect(await errorOf(await bridge("/v1/me"))).toMatchObject({ code: "missing_api_key" });
  });

  it("refuses a tampered key", async () => {
    const user = await linkedUser();
    const [h, p, s] = user.apiKey.split(".");
    const payload = JSON.parse(atob(p!.replace(/-/g, "+").replace(/_/g, "/")));
    payload.sub = "usr_someone_else";
    const tampered = `${h}.${btoa(JSON.stringify(payload)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")}.${s}`;
    const res = await me(tampered);
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_api_key" });
  });

  it("refuses an expired key", async () => {
    const user = await linkedUser();
    const expired = await forge({ sub: user.userId, jti: user.keyId, exp: Math.floor(Date.now() / 1000) - 60 });
    expect(await errorOf(await me(expired))).toMatchObject({ code: "api_key_expired" });
  });

  it("refuses a revoked key", async () => {
    const user = await linkedUser();
    const del = await bridge(`/v1/keys/${user.keyId}`, { method: "DELETE", ...withKey(user.apiKey) });
    expect(del.status).toBe(200);
    const res = await me(user.apiKey);
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ code: "api_key_revoked" });
  });

  it("refuses alg: none", async () => {
    const user = await linkedUser();
    const none = new UnsecuredJWT({ scope: "calls:write" }).setIssuer("kallyai-bridge").setAudience("kallyai-bridge/api").setSubject(user.userId).setJti(user.keyId).encode();
    expect(await errorOf(await me(none))).toMatchObject({ code: "invalid_api_key" });
  });

  it("refuses a wrong audience and another deployment's issuer", async () => {
    const user = await linkedUser();
    expect((await me(await forge({ sub: user.userId, jti: user.keyId, aud: "someone-else/api" }))).status).toBe(401);
    expect((await me(await forge({ sub: user.userId, jti: user.keyId, iss: "other-bridge", aud: "other-bridge/api" }))).status).toBe(401);
  });

  it("refuses a key signed by another deployment's secret", async () => {
    const user = await linkedUser();
    const other = crypto.getRandomValues(new Uint8Array(32));
    expect(await errorOf(await me(await forge({ sub: user.userId, jti: user.keyId }, other)))).toMatchObject({ code: "invalid_api_key" });
  });

  it("refuses a key of this deployment whose row does not exist", async () => {
    const user = await linkedUser();
    expect(await errorOf(await me(await forge({ sub: user.userId, jti: "key_never_issued" })))).toMatchObject({ code: "invalid_api_key" });
  });

  it("a malformed signing key is reported as misconfiguration, not a crash", async () => {
    const user = await linkedUser();
    const broken = bridgeWith({ API_KEY_SIGNING_KEYS: JSON.stringify([{ kty: "oct", kid: "bad", alg: "HS256", k: "not+base64url/" }]) });
    const res = await broken("/v1/me", withKey(user.apiKey));
    expect(res.status).toBe(500);
    expect(await errorOf(res)).toMatchObject({ code: "misconfigured", message: expect.stringContaining("API_KEY_SIGNING_KEYS") });
  });

  it("keeps live keys working after the signing key rotates (kid)", async () => {
    const user = await linkedUser();
    const newKey = { kty: "oct", kid: "k2", alg: "HS256", k: toBase64Url(crypto.getRandomValues(new Uint8Array(32))) };
    const rotated = bridgeWith({ API_KEY_SIGNING_KEYS: JSON.stringify([newKey, JSON.parse(DEV_SIGNING_KEYS)[0]]) });
    expect((await rotated("/v1/me", withKey(user.apiKey))).status).toBe(200);
    const created = await rotated("/v1/keys", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${user.apiKey}` }, body: JSON.stringify({ name: "after rotation" }) });
    const { api_key } = (await created.json()) as { api_key: string };
    expect(JSON.parse(atob(api_key.split(".")[0]!)).kid).toBe("k2");
    expect((await rotated("/v1/me", withKey(api_key))).status).toBe(200);
  });
});

describe("POST /v1/keys", () => {
  it("creates a named key with scopes, shown once, with its own hourly limit", async () => {
    const user = await linkedUser();
    const res = await json("/v1/keys", { name: "Shortcut", scopes: ["calls:read"], expires_in: 3600, calls_per_hour: 5 }, withKey(user.apiKey));
    expect(res.status).toBe(201);
    const key = (await res.json()) as Record<string, unknown>;
    expect(key).toMatchObject({ name: "Shortcut", scopes: ["calls:read"], calls_per_hour: 5, api_key: expect.any(String), expires_at: expect.any(String) });
    const info = (await (await me(key.api_key as string)).json()) as { key: { scopes: string[]; expires_at: string } };
    expect(info.key.scopes).toEqual(["calls:read"]);
  });

  it("defaults to all the scopes of the key making the request", async () => {
    const user = await linkedUser();
    const key = (await (await json("/v1/keys", { name: "all" }, withKey(user.apiKey))).json()) as { scopes: string[] };
    expect(key.scopes.sort()).toEqual(["account:read", "calls:read", "calls:write", "webhooks"]);
  });

  it("cannot grant a scope the requesting key lacks", async () => {
    const user = await linkedUser();
    const narrow = (await (await json("/v1/keys", { name: "narrow", scopes: ["calls:read"] }, withKey(user.apiKey))).json()) as { api_key: string };
    const res = await json("/v1/keys", { name: "escalate", scopes: ["calls:write"] }, withKey(narrow.api_key));
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: "insufficient_scope" });
  });

  it("validates its fields", async () => {
    const user = await linkedUser();
    for (const body of [{}, { name: "" }, { name: "x", scopes: ["admin"] }, { name: "x", expires_in: 5 }, { name: "x", calls_per_hour: -1 }]) {
      const res = await json("/v1/keys", body, withKey(user.apiKey));
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect((await errorOf(res)).code).toBe("validation_error");
    }
  });
});

describe("GET /v1/keys and DELETE /v1/keys/{id}", () => {
  it("lists active keys without secrets, and revokes one alone", async () => {
    const user = await linkedUser();
    const second = (await (await json("/v1/keys", { name: "Zapier" }, withKey(user.apiKey))).json()) as { id: string; api_key: string };
    const list = await bridge("/v1/keys", withKey(user.apiKey));
    const text = await list.clone().text();
    expect(text).not.toContain(user.apiKey);
    expect(text).not.toContain(second.api_key);
    const { items } = (await list.json()) as { items: { id: string; name: string; last_used_at: string | null }[] };
    expect(items.map((k) => k.id).sort()).toEqual([user.keyId, second.id].sort());
    expect(items.find((k) => k.id === user.keyId)!.last_used_at).not.toBeNull();

    expect((await bridge(`/v1/keys/${second.id}`, { method: "DELETE", ...withKey(user.apiKey) })).status).toBe(200);
    expect((await me(second.api_key)).status).toBe(401);
    expect((await me(user.apiKey)).status).toBe(200);
  });

  it("answers 404 for another user's key or an unknown one", async () => {
    const alice = await linkedUser();
    const bob = await linkedUser();
    const res = await bridge(`/v1/keys/${alice.keyId}`, { method: "DELETE", ...withKey(bob.apiKey) });
    expect(res.status).toBe(404);
    expect((await me(alice.apiKey)).status).toBe(200);
    expect((await env.DB.prepare("SELECT revoked_at FROM api_keys WHERE id = ?").bind(alice.keyId).first<{ revoked_at: number | null }>())!.revoked_at).toBeNull();
  });
});
