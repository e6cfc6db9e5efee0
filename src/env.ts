import { z } from "zod";

/** Everything the Worker receives from wrangler: bindings, vars and secrets, all as strings. */
export interface Bindings {
  DB: D1Database;
  /** Cloudflare Queues (wrangler.toml); without them the cron does all polling and delivery. */
  POLL_QUEUE?: Queue<unknown>;
  DELIVERY_QUEUE?: Queue<unknown>;
  BRIDGE_ENV?: string;
  /** Set only by `npm run dev` ("npm-run-dev") and the test config ("vitest"): never in a deployment. */
  BRIDGE_LOCAL_RUNNER?: string;
  KALLYAI_API_BASE?: string;
  UPSTREAM_TIMEOUT_MS?: string;
  SANDBOX_ENABLED?: string;
  SANDBOX_CALL_SECONDS?: string;
  SANDBOX_TOKEN_TTL_SECONDS?: string;
  SANDBOX_HANG_SECONDS?: string;
  DEFAULT_TIMEZONE?: string;
  DEFAULT_COUNTRY?: string;
  BRIDGE_ID?: string;
  /** Secret: `kid:base64(32 bytes)` entries, comma-separated; the first encrypts, all decrypt. */
  VAULT_KEYS?: string;
  /** Secret: a JSON array of JWKs (each with `kid` and `alg`); the first signs, all verify. */
  API_KEY_SIGNING_KEYS?: string;
  OAUTH_CLIENT_ID?: string;
  OAUTH_CLIENT_SECRET?: string;
  ADMIN_TOKEN?: string;
  /** Outcome poller and webhooks (see docs/webhooks.md). */
  POLLER_UPSTREAM_BUDGET?: string;
  POLLER_CONCURRENCY?: string;
  POLLER_SWEEP_SECONDS?: string;
  POLLER_OVERDUE_SECONDS?: string;
  WEBHOOKS_DELIVERY_BUDGET?: string;
  WEBHOOKS_ALLOW_LOOPBACK?: string;
}

declare global {
  namespace Cloudflare {
    interface Env extends Bindings {}
  }
}

const flag = z
  .enum(["true", "false", "1", "0", "on", "off"])
  .transform((v) => v === "true" || v === "1" || v === "on");
const seconds = z.coerce.number().nonnegative();

const ConfigSchema = z.object({
  BRIDGE_ENV: z.enum(["production", "development"]).default("production"),
  BRIDGE_LOCAL_RUNNER: z.enum(["npm-run-dev", "vitest"]).optional(),
  KALLYAI_API_BASE: z.url().default("https://api.kallyai.com"),
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  SANDBOX_ENABLED: flag.default(false),
  // "20", or a range "5-120": each call's length is picked from it by its id.
  SANDBOX_CALL_SECONDS: z
    .string()
    .regex(/^\d+(\.\d+)?(-\d+(\.\d+)?)?$/, "a number of seconds, or a range like 5-120")
    .default("20")
    .transform((v) => {
      const [min, max = min] = v.split("-").map(Number) as [number, number?];
      return { min: Math.min(min, max), max: Math.max(min, max) };
    }),
  SANDBOX_TOKEN_TTL_SECONDS: seconds.default(3600),
  SANDBOX_HANG_SECONDS: seconds.default(60),
  DEFAULT_TIMEZONE: z.string().default("America/New_York"),
  DEFAULT_COUNTRY: z.string().length(2).toUpperCase().default("US"),
  BRIDGE_ID: z.string().min(1).max(100).default("kallyai-bridge"),
  VAULT_KEYS: z.string().optional(),
  API_KEY_SIGNING_KEYS: z.string().optional(),
  OAUTH_CLIENT_ID: z.string().optional(),
  OAUTH_CLIENT_SECRET: z.string().optional(),
  ADMIN_TOKEN: z.string().min(16).optional(),
  POLLER_UPSTREAM_BUDGET: z.coerce.number().int().min(1).max(9_000).default(1_000),
  POLLER_CONCURRENCY: z.coerce.number().int().min(1).max(50).default(6),
  POLLER_SWEEP_SECONDS: seconds.max(840).optional(),
  POLLER_OVERDUE_SECONDS: seconds.max(3600).optional(),
  WEBHOOKS_DELIVERY_BUDGET: z.coerce.number().int().min(1).max(9_000).default(500),
  WEBHOOKS_ALLOW_LOOPBACK: flag.optional(),
});

/**
 * Development-only secrets, so `npm run dev` and the tests need no setup. They are public, so
 * anywhere else (no BRIDGE_LOCAL_RUNNER) the bridge refuses to run on them: missing secrets, these
 * values set as secrets, or BRIDGE_ENV=development make every request answer 503 misconfigured.
 */
export const DEV_VAULT_KEYS = "dev:ZGV2LW9ubHkta2V5LWRvLW5vdC11c2UtaW4tcHJvZCE=";
export const DEV_SIGNING_KEYS = JSON.stringify([{ kty: "oct", kid: "dev", alg: "HS256", k: "ZGV2LW9ubHktc2lnbmluZy1rZXktZG8tbm90LXVzZS1pbi1wcm9kdWN0aW9u" }]);

/** The dev keys' bytes: a secret containing one (however formatted) is public. */
const DEV_KEY_MATERIAL = [DEV_VAULT_KEYS.split(":")[1]!, (JSON.parse(DEV_SIGNING_KEYS) as { k: string }[])[0]!.k];

export interface Config {
  /** Development relaxes what only makes sense on localhost (plain-http webhooks, dev secrets). */
  dev: boolean;
  upstream: { baseUrl: string; timeoutMs: number };
  sandbox: { enabled: boolean; callSeconds: { min: number; max: number }; tokenTtlSeconds: number; hangSeconds: number };
  defaults: { timezone: string; country: string };
  bridgeId: string;
  vaultKeys: string;
  signingKeys: string;
  oauth: { clientId: string; clientSecret: string } | null;
  adminToken: string | null;
  /**
   * The outcome poller's limits per cron invocation (docs/webhooks.md). With queues, the cron
   * only takes calls and deliveries `overdueSeconds` past due (their message was lost or late).
   */
  poller: { upstreamBudget: number; concurrency: number; sweepSeconds: number; overdueSeconds: number; queues: boolean };
  /** Webhook delivery: attempts per invocation; whether plain-http and loopback/private targets are allowed (dev). */
  webhooks: { deliveryBudget: number; allowLoopback: boolean };
}

export class ConfigError extends Error {}

const parsed = new WeakMap<object, Config>();

/** Parses the vars once per `env` object (one per isolate in production) and caches the result. */
export function config(env: Bindings): Config {
  const cached = parsed.get(env);
  if (cached) return cached;
  const result = ConfigSchema.safeParse(emptyAsMissing(env));
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`Configuration variable ${issue?.path.join(".")} is invalid: ${issue?.message}`);
  }
  const v = result.data;
  const queues = Boolean(env.POLL_QUEUE && env.DELIVERY_QUEUE);
  const local = v.BRIDGE_LOCAL_RUNNER !== undefined;
  if (v.BRIDGE_ENV === "development" && !local) {
    throw new ConfigError("BRIDGE_ENV is development outside `npm run dev` and the tests; a deployment must use BRIDGE_ENV=production with its own secrets (see README, \"Deploy\")");
  }
  const cfg: Config = {
    dev: v.BRIDGE_ENV === "development",
    upstream: { baseUrl: v.KALLYAI_API_BASE.replace(/\/+$/, ""), timeoutMs: v.UPSTREAM_TIMEOUT_MS },
    sandbox: {
      enabled: v.SANDBOX_ENABLED,
      callSeconds: v.SANDBOX_CALL_SECONDS,
      tokenTtlSeconds: v.SANDBOX_TOKEN_TTL_SECONDS,
      hangSeconds: v.SANDBOX_HANG_SECONDS,
    },
    defaults: { timezone: v.DEFAULT_TIMEZONE, country: v.DEFAULT_COUNTRY },
    bridgeId: v.BRIDGE_ID,
    vaultKeys: required(v.VAULT_KEYS, "VAULT_KEYS", v.BRIDGE_ENV, DEV_VAULT_KEYS, local),
    signingKeys: required(v.API_KEY_SIGNING_KEYS, "API_KEY_SIGNING_KEYS", v.BRIDGE_ENV, DEV_SIGNING_KEYS, local),
    oauth: v.OAUTH_CLIENT_ID && v.OAUTH_CLIENT_SECRET ? { clientId: v.OAUTH_CLIENT_ID, clientSecret: v.OAUTH_CLIENT_SECRET } : null,
    adminToken: v.ADMIN_TOKEN ?? null,
    poller: {
      upstreamBudget: v.POLLER_UPSTREAM_BUDGET,
      concurrency: v.POLLER_CONCURRENCY,
      // With queues the cron is the scheduler of last resort: one sweep a minute is enough.
      sweepSeconds: v.POLLER_SWEEP_SECONDS ?? (queues ? 0 : 58),
      overdueSeconds: v.POLLER_OVERDUE_SECONDS ?? (queues ? 30 : 0),
      queues,
    },
    webhooks: { deliveryBudget: v.WEBHOOKS_DELIVERY_BUDGET, allowLoopback: v.WEBHOOKS_ALLOW_LOOPBACK ?? v.BRIDGE_ENV === "development" },
  };
  parsed.set(env, cfg);
  return cfg;
}

/** A secret of this deployment: the public dev value only under `npm run dev` or the tests, in development. */
function required(value: string | undefined, name: string, environment: string, devDefault: string, local: boolean): string {
  const devAllowed = local && environment === "development";
  if (value && !devAllowed && DEV_KEY_MATERIAL.some((m) => value.includes(m))) throw new ConfigError(`the secret ${name} holds the public development value; generate this deployment's own with \`npm run secrets:generate\` (see README, "Deploy")`);
  if (value) return value;
  if (devAllowed) return devDefault;
  throw new ConfigError(`the secret ${name} is not set (see README, "Deploy")`);
}

function emptyAsMissing(env: Bindings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(env)) if (v !== "") out[k] = v;
  return out;
}
