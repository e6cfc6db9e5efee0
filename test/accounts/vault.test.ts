import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deps } from "../../src/domain/deps";
import { Vault } from "../../src/domain/vault";
import { DEV_VAULT_KEYS } from "../../src/env";
import { bridgeWith, linkedUser, withKey } from "../support/accounts";
import { bridge } from "../support/bridge";

const NEW_KEY = `k2:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;

describe("the vault", () => {
  it("encrypts with a fresh IV each time, and only the same user decrypts", async () => {
    const vault = await Vault.fromSecret(DEV_VAULT_KEYS);
    const a = await vault.seal("usr_a", "secret-token");
    const b = await vault.seal("usr_a", "secret-token");
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(await vault.open("usr_a", a)).toBe("secret-token");
    await expect(vault.open("usr_b", a)).rejects.toThrow(/failed to decrypt/);
  });

  it("a ciphertext moved to another user's row fails to decrypt", async () => {
    const alice = await linkedUser();
    const bob = await linkedUser();
    await env.DB.prepare(
      "UPDATE vault SET refresh_token = (SELECT refresh_token FROM vault WHERE user_id = ?1), access_token = (SELECT access_token FROM vault WHERE user_id = ?1) WHERE user_id = ?2",
    )
      .bind(alice.userId, bob.userId)
      .run();
    const d = deps(env);
    const row = (await d.accounts.vault(bob.userId))!;
    const vault = await d.vault();
    await expect(vault.open(bob.userId, { keyId: row.key_id, ciphertext: row.refresh_token })).rejects.toThrow();
    await expect(vault.open(alice.userId, { keyId: row.key_id, ciphertext: row.refresh_token })).resolves.toMatch(/.+/);
    // Re-encryption reports the row it cannot read instead of stopping on it.
    const { reencryptVault } = await import("../../src/domain/vault-rotation");
    const rotated = deps({ ...env, VAULT_KEYS: `${NEW_KEY},${DEV_VAULT_KEYS}` });
    const result = await reencryptVault(rotated);
    expect(result.failed).toBe(1);
    expect(result.remaining).toBe(1);
    await env.DB.prepare("DELETE FROM vault WHERE user_id = ?").bind(bob.userId).run();
  });

  it("refuses malformed keys", async () => {
    await expect(Vault.fromSecret("k1:dG9vLXNob3J0")).rejects.toThrow(/32-byte/);
    await expect(Vault.fromSecret("")).rejects.toThrow(/no key/);
  });
});

describe("rotating the encryption key", () => {
  it("keeps old and new users working, and POST /admin/vault/reencrypt moves every row to the new key", async () => {
    const old = await linkedUser();
    const rotated = bridgeWith({
      VAULT_KEYS: `${NEW_KEY},${DEV_VAULT_KEYS}`,
      ADMIN_TOKEN: "admin-token-for-tests-0123456789",
    });
    // A user linked after the rotation is written with the new key.
    const { sandboxSignIn } = await import("../support/sandbox");
    const { refreshToken } = await sandboxSignIn();
    const linked = await rotated("/v1/link", {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": "192.0.2.50" },
      body: JSON.stringify({ refresh_token: refreshToken }),
    });
    expect(linked.status).toBe(201);
    const fresh = (await linked.json()) as { user_id: string; api_key: string };
    const keyOf = async (userId: string) =>
      (await env.DB.prepare("SELECT key_id FROM vault WHERE user_id = ?").bind(userId).first<{ key_id: string }>())!
        .key_id;
    expect(await keyOf(fresh.user_id)).toBe("k2");
    expect(await keyOf(old.userId)).toBe("dev");

    const rotatedDeps = deps({ ...env, VAULT_KEYS: `${NEW_KEY},${DEV_VAULT_KEYS}` });
    const { currentAccess } = await import("../../src/domain/upstream-session");
    await expect(currentAccess(rotatedDeps, old.userId)).resolves.toMatchObject({ token: expect.any(String) });
    await expect(currentAccess(rotatedDeps, fresh.user_id)).resolves.toMatchObject({ token: expect.any(String) });

    const unauthorized = await rotated("/admin/vault/reencrypt", { method: "POST" });
    expect(unauthorized.status).toBe(401);
    const res = await rotated("/admin/vault/reencrypt", {
      method: "POST",
      headers: { authorization: "Bearer admin-token-for-tests-0123456789" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ remaining: 0, failed: 0, reencrypted: expect.any(Number) });
    const onOld = await env.DB.prepare("SELECT count(*) AS n FROM vault WHERE key_id != 'k2'").first<{ n: number }>();
    expect(onOld!.n).toBe(0);
    // With only the new key configured, everyone still works.
    const onlyNew = deps({ ...env, VAULT_KEYS: NEW_KEY });
    await expect(currentAccess(onlyNew, old.userId)).resolves.toMatchObject({ token: expect.any(String) });
  });

  it("admin endpoints are off without ADMIN_TOKEN", async () => {
    const res = await bridge("/admin/vault/reencrypt", { method: "POST" });
    expect(res.status).toBe(404);
  });

  it("production refuses to run without its secrets, naming the one missing", async () => {
    const prod = bridgeWith({ BRIDGE_ENV: "production", VAULT_KEYS: undefined });
    const user = await linkedUser();
    const res = await prod("/v1/me", withKey(user.apiKey));
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("misconfigured");
    expect(body.error.message).toContain("VAULT_KEYS");
  });
});
