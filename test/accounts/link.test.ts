import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { dumpAllTables, linkedUser, withKey } from "../support/accounts";
import { bridge, errorOf, json } from "../support/bridge";
import { sandboxSignIn } from "../support/sandbox";

const count = async (table: string) =>
  (await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())!.n;

describe("POST /v1/link", () => {
  it("proves the refresh token, stores it, and answers a first API key", async () => {
    const { refreshToken } = await sandboxSignIn();
    const res = await json(
      "/v1/link",
      { refresh_token: refreshToken },
      { headers: { "cf-connecting-ip": "198.51.100.1" } },
    );
    expect(res.status).toBe(201);
    const body = (await res.json()) as { api_key: string; key_id: string; user_id: string };
    expect(body).toMatchObject({ key_id: expect.stringMatching(/^key_/), user_id: expect.stringMatching(/^usr_/) });
    const me = await bridge("/v1/me", withKey(body.api_key));
    expect(await me.json()).toMatchObject({ linked: true, user_id: body.user_id, key: { id: body.key_id } });
    // The imported refresh token was rotated by the proof: the one the person sent is dead now.
    const reuse = await json(
      "/v1/link",
      { refresh_token: refreshToken },
      { headers: { "cf-connecting-ip": "198.51.100.1" } },
    );
    expect(reuse.status).toBe(401);
  });

  it("an account whose refresh token KallyAI does not rotate keeps the one it sent, refresh after refresh", async () => {
    const { apiKey, userId } = await linkedUser(`keep-${crypto.randomUUID()}+norotate@example.com`);
    const vault = () =>
      env.DB.prepare("SELECT refresh_token, refresh_grant, version FROM vault WHERE user_id = ?")
        .bind(userId)
        .first<{ refresh_token: string; refresh_grant: string; version: number }>();
    const linked = await vault();
    expect(linked!.refresh_grant).toBe("cli");
    for (let i = 0; i < 2; i++) {
      await env.DB.prepare("UPDATE vault SET access_expires_at = 0 WHERE user_id = ?").bind(userId).run();
      expect((await bridge("/v1/usage", withKey(apiKey))).status).toBe(200);
    }
    const after = await vault();
    expect(after!.version).toBe(linked!.version + 2);
    expect((await bridge("/v1/me", withKey(apiKey)).then((r) => r.json())) as object).toMatchObject({
      upstream: { state: "linked" },
    });
  });

  it("refuses a bogus token with a 4xx and stores nothing", async () => {
    const [users, vault, keys] = [await count("users"), await count("vault"), await count("api_keys")];
    const res = await json(
      "/v1/link",
      { refresh_token: "not-a-real-token" },
      { headers: { "cf-connecting-ip": "198.51.100.2" } },
    );
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_refresh_token" });
    expect([await count("users"), await count("vault"), await count("api_keys")]).toEqual([users, vault, keys]);
  });

  it("refuses a missing token, malformed JSON and a wrong content type", async () => {
    const missing = await json("/v1/link", {}, { headers: { "cf-connecting-ip": "198.51.100.3" } });
    expect(missing.status).toBe(422);
    expect(await errorOf(missing)).toMatchObject({
      code: "validation_error",
      message: expect.stringContaining("refresh_token"),
    });
    const malformed = await bridge("/v1/link", {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": "198.51.100.3" },
      body: "{nope",
    });
    expect(malformed.status).toBe(400);
    expect(await errorOf(malformed)).toMatchObject({ code: "malformed_json" });
  });

  it("linking the same KallyAI account again keeps one user and updates its tokens", async () => {
    const email = `same-${crypto.randomUUID()}@example.com`;
    const first = await linkedUser(email);
    const before = await env.DB.prepare("SELECT version FROM vault WHERE user_id = ?")
      .bind(first.userId)
      .first<{ version: number }>();
    const second = await linkedUser(email);
    expect(second.userId).toBe(first.userId);
    expect(
      (await env.DB.prepare("SELECT count(*) AS n FROM users WHERE id = ?").bind(first.userId).first<{ n: number }>())!
        .n,
    ).toBe(1);
    const after = await env.DB.prepare("SELECT version FROM vault WHERE user_id = ?")
      .bind(first.userId)
      .first<{ version: number }>();
    expect(after!.version).toBeGreaterThan(before!.version);
    // Both keys work: each tool keeps its own.
    expect((await bridge("/v1/me", withKey(first.apiKey))).status).toBe(200);
    expect((await bridge("/v1/me", withKey(second.apiKey))).status).toBe(200);
  });

  it("is rate limited per client address", async () => {
    const ip = "203.0.113.77";
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++)
      statuses.push(
        (await json("/v1/link", { refresh_token: "bogus" }, { headers: { "cf-connecting-ip": ip } })).status,
      );
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
    const limited = await json("/v1/link", { refresh_token: "bogus" }, { headers: { "cf-connecting-ip": ip } });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await errorOf(limited)).toMatchObject({ code: "rate_limited" });
    // Another address is not affected.
    expect(
      (await json("/v1/link", { refresh_token: "bogus" }, { headers: { "cf-connecting-ip": "203.0.113.78" } })).status,
    ).toBe(401);
  });

  it("counts an IPv6 /64 as one address", async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 11; i++)
      statuses.push(
        (
          await json(
            "/v1/link",
            { refresh_token: "bogus" },
            { headers: { "cf-connecting-ip": `2001:db8:77:1:${i.toString(16)}::1` } },
          )
        ).status,
      );
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
    // The next /64 is another subscriber.
    expect(
      (await json("/v1/link", { refresh_token: "bogus" }, { headers: { "cf-connecting-ip": "2001:db8:77:2::1" } }))
        .status,
    ).toBe(401);
  });

  it("keeps no token in plaintext in any table", async () => {
    const { refreshToken, accessToken } = await sandboxSignIn();
    const res = await json(
      "/v1/link",
      { refresh_token: refreshToken },
      { headers: { "cf-connecting-ip": "198.51.100.9" } },
    );
    expect(res.status).toBe(201);
    const { user_id } = (await res.json()) as { user_id: string };
    // What the bridge holds now came from the refresh; read it back through the vault to know it.
    const { deps } = await import("../../src/domain/deps");
    const { currentAccess } = await import("../../src/domain/upstream-session");
    const { token: liveAccess } = await currentAccess(deps(env), user_id);
    const dump = await dumpAllTables();
    for (const secret of [refreshToken, accessToken, liveAccess]) expect(dump).not.toContain(secret);
    expect(dump).not.toContain(liveAccess.split(".")[2]);
  });
});

describe("POST /v1/unlink", () => {
  it("deletes the tokens and revokes every key of the user", async () => {
    const user = await linkedUser();
    const other = await json("/v1/keys", { name: "second" }, withKey(user.apiKey));
    const { api_key: secondKey } = (await other.json()) as { api_key: string };
    const res = await bridge("/v1/unlink", { method: "POST", ...withKey(user.apiKey) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ unlinked: true, revoked_keys: 2 });
    expect(await env.DB.prepare("SELECT * FROM vault WHERE user_id = ?").bind(user.userId).first()).toBeNull();
    for (const key of [user.apiKey, secondKey])
      expect(await errorOf(await bridge("/v1/me", withKey(key)))).toMatchObject({ code: "api_key_revoked" });
  });

  it("needs a key", async () => {
    const res = await bridge("/v1/unlink", { method: "POST" });
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ code: "missing_api_key" });
  });
});
