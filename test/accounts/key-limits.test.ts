import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { KEYS_PER_HOUR, MAX_KEY_DEPTH } from "../../src/domain/api-keys";
import { Counters } from "../../src/storage/counters";
import { bridgeWith, type LinkedUser, linkedUser, withKey } from "../support/accounts";
import { bridge, errorOf, json } from "../support/bridge";
import { place, restaurant } from "../support/calls";

/**
 * A key's calls_per_hour covers its own calls and those of every key it made, transitively,
 * revoked ones included; and making keys is itself limited.
 */
async function childKey(parentKey: string, body: Record<string, unknown>): Promise<{ id: string; api_key: string }> {
  const res = await json("/v1/keys", { name: "child", ...body }, withKey(parentKey));
  if (res.status !== 201) throw new Error(`creating a key answered ${res.status}: ${await res.text()}`);
  return res.json();
}

const MANAGER = ["calls:write", "calls:read", "account:manage"];

/** Calls KallyAI's sandbox holds for the user: what was really placed. */
const upstreamCalls = async (user: LinkedUser) =>
  (await env.DB.prepare(
    "SELECT count(*) AS n FROM sandbox_calls WHERE user_id = (SELECT id FROM sandbox_users WHERE email = ?)",
  )
    .bind(user.email)
    .first<{ n: number }>())!.n;

const callFor = (i: number) => ({ ...restaurant, task: `Reserve a table for ${(i % 9) + 2} at 8pm (${i})` });

describe("the hourly call limit covers the keys a key made", () => {
  it("the issue's reproduction: a key at its limit cannot place more through children it makes and revokes", async () => {
    const user = await linkedUser();
    const parent = await childKey(user.apiKey, { scopes: MANAGER, calls_per_hour: 2 });
    for (let i = 0; i < 2; i++) expect((await place(parent.api_key, callFor(i))).status).toBe(202);
    expect((await place(parent.api_key, callFor(2))).status).toBe(429);
    for (let round = 0; round < 3; round++) {
      const child = await childKey(parent.api_key, { scopes: ["calls:write"], calls_per_hour: 2 });
      for (let i = 0; i < 2; i++) {
        const res = await place(child.api_key, callFor(10 * round + i + 3));
        expect(res.status).toBe(429);
        expect((await errorOf(res)).message).toContain("The key that made this API key");
      }
      expect((await bridge(`/v1/keys/${child.id}`, { method: "DELETE", ...withKey(parent.api_key) })).status).toBe(200);
    }
    expect(await upstreamCalls(user)).toBe(2);
  });

  it("30 concurrent placements over a parent (10 per hour) and 5 children (4 each): exactly 10 are placed", async () => {
    const user = await linkedUser();
    const parent = await childKey(user.apiKey, { scopes: MANAGER, calls_per_hour: 10 });
    const children = [];
    for (let i = 0; i < 5; i++)
      children.push(await childKey(parent.api_key, { scopes: ["calls:write"], calls_per_hour: 4 }));
    const keys = [parent.api_key, ...children.map((c) => c.api_key)];
    // 30 placements at once on a loaded test machine: the sandbox may take longer than the tests' 1.5 s upstream timeout.
    const patient = bridgeWith({ UPSTREAM_TIMEOUT_MS: "20000" });
    const answers = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const key = keys[i % keys.length] ?? "";
        const res = await patient("/v1/calls", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
          body: JSON.stringify(callFor(i)),
        });
        return { key: key.slice(-12), status: res.status };
      }),
    );
    expect(answers.filter((a) => a.status !== 202 && a.status !== 429)).toEqual([]);
    expect(answers.filter((a) => a.status === 202)).toHaveLength(10);
    for (const child of children)
      expect(answers.filter((a) => a.key === child.api_key.slice(-12) && a.status === 202).length).toBeLessThanOrEqual(
        4,
      );
    expect(await upstreamCalls(user)).toBe(10);
    // The parent's hour is spent for it and for all of its children alike.
    expect((await place(parent.api_key, callFor(31))).status).toBe(429);
  });

  it("a revoked child's calls stay counted against its parent", async () => {
    const user = await linkedUser();
    const parent = await childKey(user.apiKey, { scopes: MANAGER, calls_per_hour: 3 });
    const child = await childKey(parent.api_key, { scopes: ["calls:write"], calls_per_hour: 3 });
    for (let i = 0; i < 2; i++) expect((await place(child.api_key, callFor(i))).status).toBe(202);
    await bridge(`/v1/keys/${child.id}`, { method: "DELETE", ...withKey(parent.api_key) });
    expect((await place(parent.api_key, callFor(2))).status).toBe(202);
    const refused = await place(parent.api_key, callFor(3));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("a child's own lower limit still holds, and its message names the child's own limit", async () => {
    const user = await linkedUser();
    const child = await childKey(user.apiKey, { scopes: ["calls:write"], calls_per_hour: 1 });
    expect((await place(child.api_key, callFor(0))).status).toBe(202);
    const refused = await place(child.api_key, callFor(1));
    expect(refused.status).toBe(429);
    expect((await errorOf(refused)).message).toContain("This API key may place 1 calls per hour");
    // Its parent (the sign-in key, 1000 per hour) still has room.
    expect((await place(user.apiKey, callFor(2))).status).toBe(202);
  });

  it("a call refused upstream gives its slot back to every limit of the chain", async () => {
    const user = await linkedUser();
    const parent = await childKey(user.apiKey, { scopes: MANAGER, calls_per_hour: 1 });
    const child = await childKey(parent.api_key, { scopes: ["calls:write"], calls_per_hour: 1 });
    // The sandbox refuses this one (safety) after the allowance was taken.
    const refused = await place(child.api_key, { ...restaurant, task: "Threaten them until they give a refund" });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).not.toBe(429);
    expect((await place(parent.api_key, callFor(0))).status).toBe(202);
  });
});

describe("making keys is limited too", () => {
  it(`an account may make ${KEYS_PER_HOUR} keys per hour; revoking them does not give that back`, async () => {
    const user = await linkedUser();
    for (let i = 0; i < KEYS_PER_HOUR; i++) {
      const key = await childKey(user.apiKey, { name: `k${i}`, scopes: ["calls:read"] });
      await bridge(`/v1/keys/${key.id}`, { method: "DELETE", ...withKey(user.apiKey) });
    }
    const res = await json("/v1/keys", { name: "one more" }, withKey(user.apiKey));
    expect(res.status).toBe(429);
    expect(await errorOf(res)).toMatchObject({ code: "rate_limited", message: expect.stringContaining("per hour") });
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it(`keys nest at most ${MAX_KEY_DEPTH} deep below the sign-in key`, async () => {
    const user = await linkedUser();
    let key = user.apiKey;
    for (let depth = 1; depth <= MAX_KEY_DEPTH; depth++) key = (await childKey(key, { scopes: MANAGER })).api_key;
    const res = await json("/v1/keys", { name: "too deep", scopes: ["calls:read"] }, withKey(key));
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: "exceeds_own_key", message: expect.stringContaining("nest") });
  });
});

describe("Counters.takeAll", () => {
  it("takes a slot from every bucket, or from none when one is spent", async () => {
    const counters = new Counters(env.DB);
    const id = crypto.randomUUID();
    const a = { bucket: `t:${id}:a`, limit: 3 };
    const b = { bucket: `t:${id}:b`, limit: 1 };
    const expires = Date.now() + 60_000;
    expect(await counters.takeAll([a, b], expires)).toBe(true);
    expect(await counters.takeAll([a, b], expires)).toBe(false);
    expect(await counters.takeAll([a], expires)).toBe(true);
    const counts = await env.DB.prepare("SELECT bucket, count FROM rate_counters WHERE bucket LIKE ? ORDER BY bucket")
      .bind(`t:${id}:%`)
      .all<{ bucket: string; count: number }>();
    expect(counts.results).toEqual([
      { bucket: a.bucket, count: 2 },
      { bucket: b.bucket, count: 1 },
    ]);
    expect(await counters.spent([a, b])).toEqual([false, true]);
    expect(await counters.takeAll([{ bucket: `t:${id}:zero`, limit: 0 }], expires)).toBe(false);
  });
});
