import { createScheduledController } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { DEV_SIGNING_KEYS, DEV_VAULT_KEYS } from "../src/env";
import worker from "../src/index";
import { SCHEMA_VERSION } from "../src/storage/schema-version";
import { bridgeWith, linkedUser, withKey } from "./support/accounts";
import { errorOf } from "./support/bridge";

const realVaultKeys = `prod:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
const realSigningKeys = JSON.stringify([
  { kty: "oct", kid: "prod", alg: "HS256", k: "cHJvZC1zaWduaW5nLWtleS1mb3ItdGhlLXRlc3Qtb25seS0wMTIzNDU2Nzg5" },
]);
/** A deployment made from wrangler.toml's defaults: production, no local runner, no secrets. */
const deployed = {
  BRIDGE_ENV: "production",
  BRIDGE_LOCAL_RUNNER: undefined,
  VAULT_KEYS: undefined,
  API_KEY_SIGNING_KEYS: undefined,
};

async function expectMisconfigured(res: Response, setting: string) {
  expect(res.status).toBe(503);
  const error = await errorOf(res);
  expect(error).toMatchObject({ code: "misconfigured", message: expect.stringContaining(setting) });
  return error;
}

describe("production refuses dev secrets", () => {
  it("a production-mode worker with no secrets answers 503 misconfigured on /v1/me, and on any other path", async () => {
    const user = await linkedUser();
    const prod = bridgeWith(deployed);
    await expectMisconfigured(await prod("/v1/me", withKey(user.apiKey)), "VAULT_KEYS");
    await expectMisconfigured(await prod("/no/such/path"), "VAULT_KEYS");
    await expectMisconfigured(await prod("/openapi.json"), "VAULT_KEYS");
  });

  it("BRIDGE_ENV=development outside npm run dev and the tests is refused, although dev secrets would be at hand", async () => {
    const res = await bridgeWith({ ...deployed, BRIDGE_ENV: "development" })("/v1/me");
    await expectMisconfigured(res, "BRIDGE_ENV");
  });

  it("the public dev keys set as a deployment's secrets are refused, and their values never appear", async () => {
    for (const [vars, setting] of [
      [{ VAULT_KEYS: DEV_VAULT_KEYS, API_KEY_SIGNING_KEYS: realSigningKeys }, "VAULT_KEYS"],
      [{ VAULT_KEYS: realVaultKeys, API_KEY_SIGNING_KEYS: DEV_SIGNING_KEYS }, "API_KEY_SIGNING_KEYS"],
    ] as const) {
      const res = await bridgeWith({ ...deployed, ...vars })("/v1/me");
      const error = await expectMisconfigured(res.clone(), setting);
      expect(error.message).toContain("public development value");
      const text = await res.text();
      for (const secret of [DEV_VAULT_KEYS.split(":")[1]!, JSON.parse(DEV_SIGNING_KEYS)[0].k])
        expect(text).not.toContain(secret);
    }
  });

  it("a production worker with its own secrets serves", async () => {
    const res = await bridgeWith({ ...deployed, VAULT_KEYS: realVaultKeys, API_KEY_SIGNING_KEYS: realSigningKeys })(
      "/v1/me",
    );
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe("missing_api_key");
  });

  it("the cron does no work when misconfigured", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const before = await env.DB.prepare("SELECT count(*) AS n FROM rate_counters").first<{ n: number }>();
    await worker.scheduled!(
      createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }),
      { ...env, ...deployed } as never,
      { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} } as never,
    );
    expect(errors.mock.calls.flat().join("\n")).toContain("misconfigured");
    expect(await env.DB.prepare("SELECT count(*) AS n FROM rate_counters").first<{ n: number }>()).toEqual(before);
  });
});

describe("GET /health", () => {
  it("is ok with a current schema in the test setup", async () => {
    const res = await exports.default.fetch(new Request("http://bridge.test/health"));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: "ok",
      database: "ok",
      schema: { expected: SCHEMA_VERSION, applied: SCHEMA_VERSION, state: "current" },
      problems: [],
    });
  });

  it("says why a production deployment without secrets is misconfigured, never a value", async () => {
    const res = await bridgeWith({ ...deployed, API_KEY_SIGNING_KEYS: DEV_SIGNING_KEYS })("/health");
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; upstream: unknown; problems: string[] };
    expect(body).toMatchObject({ status: "misconfigured", upstream: null });
    expect(body.problems.join(" ")).toMatch(/VAULT_KEYS|API_KEY_SIGNING_KEYS/);
    expect(JSON.stringify(body)).not.toContain(JSON.parse(DEV_SIGNING_KEYS)[0].k);
  });

  it("reports a database whose migrations are behind, or that was never migrated", async () => {
    const empty = bridgeWith({ DB: env.SCHEMA_CHECK });
    const res = await empty("/health");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      status: "unavailable",
      schema: { applied: null, state: "missing" },
      problems: [expect.stringContaining("wrangler d1 migrations apply")],
    });
  });

  it("reports a database that does not answer", async () => {
    const broken = {
      prepare: () => ({ first: () => Promise.reject(new Error("D1_ERROR: network")) }),
    } as unknown as D1Database;
    const res = await bridgeWith({ DB: broken })("/health");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: "unavailable", database: "unreachable" });
  });

  it("SCHEMA_VERSION names the newest migration (run `npm run schema` after adding one)", () => {
    expect(SCHEMA_VERSION).toBe(env.TEST_MIGRATIONS.at(-1)!.name);
  });
});
