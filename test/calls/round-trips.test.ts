import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { signerFor } from "../../src/domain/key-signing";
import { bridgeWith, linkedUser, withKey } from "../support/accounts";
import { bridge, errorOf } from "../support/bridge";
import { getCall, placed, upstreamIdOf } from "../support/calls";
import { endSandboxCall, sandboxRequestCount } from "../support/sandbox";

/** The D1 work a request cost, from the headers the development build adds. */
const d1Of = (res: Response) => ({
  roundTrips: Number(res.headers.get("x-d1-round-trips")),
  statements: Number(res.headers.get("x-d1-statements")),
});

/** A linked user with a placed call the bridge has already seen running (its status is stored). */
async function runningCall() {
  const user = await linkedUser();
  const { id } = await placed(user.apiKey);
  expect((await getCall(user.apiKey, id)).status).toBe(200);
  return { user, id };
}

describe("D1 round trips per request (counted in development)", () => {
  it("GET /v1/calls/{id} of a running call: one round trip (key, user, vault and call in one batch), then KallyAI", async () => {
    const { user, id } = await runningCall();
    const upstreamPath = `/v1/calls/${await upstreamIdOf(id)}`;
    const upstreamBefore = await sandboxRequestCount("GET", upstreamPath);
    const res = await getCall(user.apiKey, id);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, finished: false });
    expect(d1Of(res)).toEqual({ roundTrips: 1, statements: 4 });
    expect(await sandboxRequestCount("GET", upstreamPath)).toBe(upstreamBefore + 1);
  });

  it("stays at one round trip request after request: nothing is written while the status is unchanged", async () => {
    const { user, id } = await runningCall();
    for (let i = 0; i < 3; i++) expect(d1Of(await getCall(user.apiKey, id))).toEqual({ roundTrips: 1, statements: 4 });
  });

  it("GET /v1/calls/{id} of a call the bridge knows has ended: one round trip, no upstream request", async () => {
    const { user, id } = await runningCall();
    await endSandboxCall(id);
    expect((await (await getCall(user.apiKey, id)).json()) as object).toMatchObject({ finished: true });
    const upstreamPath = `/v1/calls/${await upstreamIdOf(id)}`;
    const upstreamBefore = await sandboxRequestCount("GET", upstreamPath);
    const res = await getCall(user.apiKey, id);
    expect(d1Of(res)).toEqual({ roundTrips: 1, statements: 4 });
    expect(await sandboxRequestCount("GET", upstreamPath)).toBe(upstreamBefore);
  });

  it("transcript, usage and /v1/me: one round trip each", async () => {
    const { user, id } = await runningCall();
    await endSandboxCall(id);
    for (const path of [`/v1/calls/${id}/transcript`, "/v1/usage", "/v1/me"]) {
      const res = await bridge(path, withKey(user.apiKey));
      expect(res.status, path).toBe(200);
      expect(d1Of(res).roundTrips, path).toBe(1);
    }
  });

  it("another user's call is still not found, from the same batch", async () => {
    const { id } = await runningCall();
    const other = await linkedUser();
    const res = await getCall(other.apiKey, id);
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("call_not_found");
    expect(d1Of(res).roundTrips).toBe(1);
  });

  it("the last_used_at write is not on the request's path, yet still happens", async () => {
    const user = await linkedUser();
    await env.DB.prepare("UPDATE api_keys SET last_used_at = NULL WHERE id = ?").bind(user.keyId).run();
    const res = await bridge("/v1/me", withKey(user.apiKey));
    expect(d1Of(res)).toEqual({ roundTrips: 1, statements: 3 });
    await expect
      .poll(
        async () =>
          (await env.DB.prepare("SELECT last_used_at FROM api_keys WHERE id = ?")
            .bind(user.keyId)
            .first<{ last_used_at: number | null }>())!.last_used_at,
      )
      .not.toBeNull();
  });

  it("production sends no D1 headers", async () => {
    const vaultKeys = `prod:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
    const signingKeys = JSON.stringify([
      { kty: "oct", kid: "prod", alg: "HS256", k: "cHJvZC1zaWduaW5nLWtleS1mb3ItdGhlLXRlc3Qtb25seS0wMTIzNDU2Nzg5" },
    ]);
    const production = bridgeWith({
      BRIDGE_ENV: "production",
      VAULT_KEYS: vaultKeys,
      API_KEY_SIGNING_KEYS: signingKeys,
    });
    const user = await linkedUser();
    // The same key row, signed with the production deployment's key.
    const apiKey = await (await signerFor(signingKeys, "kallyai-bridge")).sign({
      userId: user.userId,
      keyId: user.keyId,
      name: "prod",
      scopes: ["calls:read"],
      expiresAt: null,
    });
    const res = await production("/v1/me", withKey(apiKey));
    expect(res.status).toBe(200);
    expect(res.headers.has("x-d1-round-trips")).toBe(false);
    expect(res.headers.has("x-d1-statements")).toBe(false);
  });
});

describe("work done once per isolate, not per request", () => {
  it("a proxied read imports no key: the signing and vault keys were imported once", async () => {
    const { user, id } = await runningCall();
    const importKey = vi.spyOn(crypto.subtle, "importKey");
    const res = await getCall(user.apiKey, id);
    expect(res.status).toBe(200);
    expect(importKey).not.toHaveBeenCalled();
  });
});

describe("nothing read in the batch outlives its request", () => {
  it("a key revoked between two reads is refused on the second", async () => {
    const { user, id } = await runningCall();
    await env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?").bind(Date.now(), user.keyId).run();
    const res = await getCall(user.apiKey, id);
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe("api_key_revoked");
  });

  it("a token refreshed by one request is what the next request uses", async () => {
    const { user, id } = await runningCall();
    await env.DB.prepare("UPDATE vault SET access_expires_at = ? WHERE user_id = ?")
      .bind(Date.now() - 1000, user.userId)
      .run();
    const refreshesBefore = await sandboxRequestCount("POST", "/v1/auth/refresh");
    expect((await getCall(user.apiKey, id)).status).toBe(200);
    expect(await sandboxRequestCount("POST", "/v1/auth/refresh")).toBe(refreshesBefore + 1);
    const next = await getCall(user.apiKey, id);
    expect(next.status).toBe(200);
    expect(d1Of(next)).toEqual({ roundTrips: 1, statements: 4 });
    expect(await sandboxRequestCount("POST", "/v1/auth/refresh")).toBe(refreshesBefore + 1);
  });

  it("a token KallyAI stopped accepting is refreshed and the read retried", async () => {
    const { user, id } = await runningCall();
    // KallyAI expired it early: the vault row read with the key still says it is fresh.
    await env.DB.prepare("UPDATE sandbox_tokens SET expires_at = ? WHERE kind = 'access'")
      .bind(Date.now() - 1)
      .run();
    const refreshesBefore = await sandboxRequestCount("POST", "/v1/auth/refresh");
    const res = await getCall(user.apiKey, id);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id });
    expect(await sandboxRequestCount("POST", "/v1/auth/refresh")).toBe(refreshesBefore + 1);
  });

  it("an account unlinked between two reads answers relink_required", async () => {
    const { user, id } = await runningCall();
    await env.DB.prepare("DELETE FROM vault WHERE user_id = ?").bind(user.userId).run();
    const res = await getCall(user.apiKey, id);
    expect(res.status).toBe(409);
    expect((await errorOf(res)).code).toBe("relink_required");
  });
});
