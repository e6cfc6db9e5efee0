import { env } from "cloudflare:workers";
import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import migration0006 from "../../migrations/0006_account_manage_scope.sql?raw";
import { DEV_SIGNING_KEYS } from "../../src/env";
import { fromBase64, toBase64Url } from "../../src/shared/encoding";
import { bridgeWith, linkedUser, withKey } from "../support/accounts";
import { bridge, errorOf, json } from "../support/bridge";

const devKey = JSON.parse(DEV_SIGNING_KEYS)[0] as { kid: string; k: string };
const devSecret = fromBase64(devKey.k);

async function forge(
  claims: { sub: string; jti: string; iss?: string; aud?: string; exp?: number; scope?: string },
  secret = devSecret,
  kid = devKey.kid,
) {
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

interface NewKey {
  id: string;
  api_key: string;
  scopes: string[];
  calls_per_hour: number;
  expires_at: string | null;
}
async function newKey(apiKey: string, body: Record<string, unknown>): Promise<NewKey> {
  const res = await json("/v1/keys", body, withKey(apiKey));
  if (res.status !== 201) throw new Error(`POST /v1/keys answered ${res.status}: ${await res.text()}`);
  return res.json();
}

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
    const none = new UnsecuredJWT({ scope: "calls:write" })
      .setIssuer("kallyai-bridge")
      .setAudience("kallyai-bridge/api")
      .setSubject(user.userId)
      .setJti(user.keyId)
      .encode();
    expect(await errorOf(await me(none))).toMatchObject({ code: "invalid_api_key" });
  });

  it("refuses a wrong audience and another deployment's issuer", async () => {
    const user = await linkedUser();
    expect((await me(await forge({ sub: user.userId, jti: user.keyId, aud: "someone-else/api" }))).status).toBe(401);
    expect(
      (await me(await forge({ sub: user.userId, jti: user.keyId, iss: "other-bridge", aud: "other-bridge/api" })))
        .status,
    ).toBe(401);
  });

  it("refuses a key signed by another deployment's secret", async () => {
    const user = await linkedUser();
    const other = crypto.getRandomValues(new Uint8Array(32));
    expect(await errorOf(await me(await forge({ sub: user.userId, jti: user.keyId }, other)))).toMatchObject({
      code: "invalid_api_key",
    });
  });

  it("refuses a key of this deployment whose row does not exist", async () => {
    const user = await linkedUser();
    expect(await errorOf(await me(await forge({ sub: user.userId, jti: "key_never_issued" })))).toMatchObject({
      code: "invalid_api_key",
    });
  });

  it("a malformed signing key is reported as misconfiguration, not a crash", async () => {
    const user = await linkedUser();
    const broken = bridgeWith({
      API_KEY_SIGNING_KEYS: JSON.stringify([{ kty: "oct", kid: "bad", alg: "HS256", k: "not+base64url/" }]),
    });
    const res = await broken("/v1/me", withKey(user.apiKey));
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatchObject({
      code: "misconfigured",
      message: expect.stringContaining("API_KEY_SIGNING_KEYS"),
    });
  });

  it("keeps live keys working after the signing key rotates (kid)", async () => {
    const user = await linkedUser();
    const newKey = { kty: "oct", kid: "k2", alg: "HS256", k: toBase64Url(crypto.getRandomValues(new Uint8Array(32))) };
    const rotated = bridgeWith({ API_KEY_SIGNING_KEYS: JSON.stringify([newKey, JSON.parse(DEV_SIGNING_KEYS)[0]]) });
    expect((await rotated("/v1/me", withKey(user.apiKey))).status).toBe(200);
    const created = await rotated("/v1/keys", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${user.apiKey}` },
      body: JSON.stringify({ name: "after rotation" }),
    });
    const { api_key } = (await created.json()) as { api_key: string };
    expect(JSON.parse(atob(api_key.split(".")[0]!)).kid).toBe("k2");
    expect((await rotated("/v1/me", withKey(api_key))).status).toBe(200);
  });
});

describe("POST /v1/keys", () => {
  it("creates a named key with scopes, shown once, with its own hourly limit", async () => {
    const user = await linkedUser();
    const res = await json(
      "/v1/keys",
      { name: "Shortcut", scopes: ["calls:read"], expires_in: 3600, calls_per_hour: 5 },
      withKey(user.apiKey),
    );
    expect(res.status).toBe(201);
    const key = (await res.json()) as Record<string, unknown>;
    expect(key).toMatchObject({
      name: "Shortcut",
      scopes: ["calls:read"],
      calls_per_hour: 5,
      api_key: expect.any(String),
      expires_at: expect.any(String),
    });
    const info = (await (await me(key.api_key as string)).json()) as { key: { scopes: string[]; expires_at: string } };
    expect(info.key.scopes).toEqual(["calls:read"]);
  });

  it("defaults to the scopes of the key making the request without account:manage, and 20 calls per hour", async () => {
    const user = await linkedUser();
    const key = (await (await json("/v1/keys", { name: "all" }, withKey(user.apiKey))).json()) as {
      scopes: string[];
      calls_per_hour: number;
      expires_at: string | null;
    };
    expect(key.scopes.sort()).toEqual(["account:read", "calls:read", "calls:write", "webhooks"]);
    expect(key).toMatchObject({ calls_per_hour: 20, expires_at: null });
  });

  it("gives account:manage only when asked for, by a key that has it", async () => {
    const user = await linkedUser();
    const manager = await newKey(user.apiKey, { name: "manager", scopes: ["account:manage", "calls:read"] });
    expect(manager.scopes).toEqual(["calls:read", "account:manage"]);
    expect((await bridge("/v1/keys", withKey(manager.api_key))).status).toBe(200);
  });

  it("cannot grant a scope the requesting key lacks", async () => {
    const user = await linkedUser();
    const narrow = (await (
      await json("/v1/keys", { name: "narrow", scopes: ["calls:read"] }, withKey(user.apiKey))
    ).json()) as { api_key: string };
    const res = await json("/v1/keys", { name: "escalate", scopes: ["calls:write"] }, withKey(narrow.api_key));
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: "insufficient_scope" });
  });

  it("validates its fields", async () => {
    const user = await linkedUser();
    for (const body of [
      {},
      { name: "" },
      { name: "x", scopes: ["admin"] },
      { name: "x", expires_in: 5 },
      { name: "x", calls_per_hour: -1 },
    ]) {
      const res = await json("/v1/keys", body, withKey(user.apiKey));
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect((await errorOf(res)).code).toBe("validation_error");
    }
  });
});

describe("least privilege: a key creates only keys within its own limits", () => {
  it("a key without account:manage can neither create, list nor revoke keys, nor unlink", async () => {
    const user = await linkedUser();
    const reader = await newKey(user.apiKey, { name: "reader", scopes: ["calls:read"] });
    const tool = await newKey(user.apiKey, { name: "tool" });
    for (const key of [reader.api_key, tool.api_key]) {
      for (const res of [
        await json("/v1/keys", { name: "child", scopes: ["calls:read"] }, withKey(key)),
        await bridge("/v1/keys", withKey(key)),
        await bridge(`/v1/keys/${user.keyId}`, { method: "DELETE", ...withKey(key) }),
        await bridge("/v1/unlink", { method: "POST", ...withKey(key) }),
      ]) {
        expect(res.status).toBe(403);
        expect(await errorOf(res)).toMatchObject({
          code: "insufficient_scope",
          message: expect.stringContaining("account:manage"),
        });
      }
    }
    expect((await me(user.apiKey)).status).toBe(200);
    expect(
      (await env.DB.prepare("SELECT count(*) AS n FROM api_keys WHERE user_id = ? AND revoked_at IS NULL")
        .bind(user.userId)
        .first<{ n: number }>())!.n,
    ).toBe(3);
  });

  it("a key expiring in an hour cannot create a key that expires later; by default the child expires with it, never later", async () => {
    const user = await linkedUser();
    const shortLived = await newKey(user.apiKey, {
      name: "short",
      scopes: ["account:manage", "calls:read"],
      expires_in: 3600,
    });
    const res = await json("/v1/keys", { name: "later", expires_in: 7200 }, withKey(shortLived.api_key));
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({
      code: "exceeds_own_key",
      message: expect.stringContaining("expires_in may be at most"),
    });
    const inherited = await newKey(shortLived.api_key, { name: "default" });
    expect(inherited.expires_at).toBe(shortLived.expires_at);
    const shorter = await newKey(shortLived.api_key, { name: "shorter", expires_in: 600 });
    expect(Date.parse(shorter.expires_at!)).toBeLessThanOrEqual(Date.parse(shortLived.expires_at!));
  });

  it("a key limited to 1 call per hour cannot create one with more; by default the child has its limit", async () => {
    const user = await linkedUser();
    const limited = await newKey(user.apiKey, {
      name: "limited",
      scopes: ["account:manage", "calls:write"],
      calls_per_hour: 1,
    });
    const res = await json("/v1/keys", { name: "more", calls_per_hour: 1000 }, withKey(limited.api_key));
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({
      code: "exceeds_own_key",
      message: expect.stringContaining("calls_per_hour may be at most 1"),
    });
    expect((await newKey(limited.api_key, { name: "default" })).calls_per_hour).toBe(1);
  });

  it("a key whose only scope is account:manage must name the scopes it gives", async () => {
    const user = await linkedUser();
    const manager = await newKey(user.apiKey, { name: "manager only", scopes: ["account:manage"] });
    const res = await json("/v1/keys", { name: "nothing" }, withKey(manager.api_key));
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({ code: "validation_error", message: expect.stringContaining("scopes") });
  });

  it("the sign-in key has every scope and the highest hourly limit", async () => {
    const user = await linkedUser();
    const { items } = (await (await bridge("/v1/keys", withKey(user.apiKey))).json()) as {
      items: { id: string; scopes: string[]; calls_per_hour: number; expires_at: string | null }[];
    };
    expect(items.find((k) => k.id === user.keyId)).toMatchObject({
      scopes: ["calls:write", "calls:read", "account:read", "webhooks", "account:manage"],
      calls_per_hour: 1000,
      expires_at: null,
    });
  });

  it("an account may have 50 active keys: the next answers 422 too_many_keys until one is revoked", async () => {
    const user = await linkedUser();
    const now = Date.now();
    const filler = Array.from({ length: 49 }, (_, i) =>
      env.DB.prepare(
        "INSERT INTO api_keys (id, user_id, name, scopes, calls_per_hour, created_at, expires_at) VALUES (?, ?, ?, 'calls:read', 20, ?, NULL)",
      ).bind(`key_filler_${user.userId}_${i}`, user.userId, `filler ${i}`, now),
    );
    // An expired key does not count.
    filler.push(
      env.DB.prepare(
        "INSERT INTO api_keys (id, user_id, name, scopes, calls_per_hour, created_at, expires_at) VALUES (?, ?, 'old', 'calls:read', 20, ?, ?)",
      ).bind(`key_expired_${user.userId}`, user.userId, now - 7200_000, now - 3600_000),
    );
    await env.DB.batch(filler);
    const res = await json("/v1/keys", { name: "51st" }, withKey(user.apiKey));
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({
      code: "too_many_keys",
      message: expect.stringContaining("DELETE /v1/keys/{id}"),
    });
    expect(
      (await bridge(`/v1/keys/key_filler_${user.userId}_0`, { method: "DELETE", ...withKey(user.apiKey) })).status,
    ).toBe(200);
    expect((await json("/v1/keys", { name: "50th" }, withKey(user.apiKey))).status).toBe(201);
  });
});

describe("keys issued before account:manage existed (migration 0006)", () => {
  it("sign-in and link keys keep managing the account; keys made for tools lose it", async () => {
    const user = await linkedUser();
    const legacy = "calls:write calls:read account:read webhooks";
    const now = Date.now();
    const rows = [
      ["key_old_signin", "signed in"],
      ["key_old_link", "linked"],
      ["key_old_cli", "kallyai-cli"],
      ["key_old_zapier", "Zapier"],
    ].map(([id, name]) =>
      env.DB.prepare(
        "INSERT INTO api_keys (id, user_id, name, scopes, calls_per_hour, created_at) VALUES (?, ?, ?, ?, 20, ?)",
      ).bind(`${id}_${user.userId}`, user.userId, name, legacy, now),
    );
    await env.DB.batch(rows);
    for (const statement of migration0006
      .split(/;\s*$/m)
      .map((s) => s.replace(/--.*$/gm, "").trim())
      .filter(Boolean))
      await env.DB.prepare(statement).run();
    const after = await env.DB.prepare(
      "SELECT name, scopes, calls_per_hour FROM api_keys WHERE user_id = ? AND id LIKE 'key_old_%' ORDER BY name",
    )
      .bind(user.userId)
      .all<{ name: string; scopes: string; calls_per_hour: number }>();
    expect(after.results).toEqual([
      { name: "Zapier", scopes: legacy, calls_per_hour: 20 },
      { name: "kallyai-cli", scopes: `${legacy} account:manage`, calls_per_hour: 1000 },
      { name: "linked", scopes: `${legacy} account:manage`, calls_per_hour: 1000 },
      { name: "signed in", scopes: `${legacy} account:manage`, calls_per_hour: 1000 },
    ]);
  });
});

describe("GET /v1/keys and DELETE /v1/keys/{id}", () => {
  it("lists active keys without secrets, and revokes one alone", async () => {
    const user = await linkedUser();
    const second = (await (await json("/v1/keys", { name: "Zapier" }, withKey(user.apiKey))).json()) as {
      id: string;
      api_key: string;
    };
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
    expect(
      (await env.DB.prepare("SELECT revoked_at FROM api_keys WHERE id = ?")
        .bind(alice.keyId)
        .first<{ revoked_at: number | null }>())!.revoked_at,
    ).toBeNull();
  });
});
