import { type Bindings, type Config, config } from "../env";
import { KallyAIClient } from "../kallyai/client";
import { ownSandboxFetch } from "../sandbox/upstream";
import { Accounts } from "../storage/accounts";
import { ApiKeys } from "../storage/api-keys";
import { CallPlacements } from "../storage/call-placements";
import { CallerReads } from "../storage/caller";
import { Calls } from "../storage/calls";
import { ConsoleSessions } from "../storage/console-sessions";
import { Counters } from "../storage/counters";
import { countingD1 } from "../storage/d1-tally";
import { Events } from "../storage/events";
import { Ifttt } from "../storage/ifttt";
import { LoginStates } from "../storage/login-states";
import { Triggers } from "../storage/triggers";
import { Webhooks } from "../storage/webhooks";
import { type KeySigner, signerFor } from "./key-signing";
import { type Vault, vaultFor } from "./vault";

/** What the domain modules work with, built once per `env` (one per isolate in production). */
export interface Deps {
  cfg: Config;
  upstream: KallyAIClient;
  /** How requests reach KallyAI: fetch(), or (test mode) this Worker's own sandbox in-process. */
  upstreamFetch: typeof fetch | undefined;
  accounts: Accounts;
  calls: Calls;
  placements: CallPlacements;
  consoleSessions: ConsoleSessions;
  callers: CallerReads;
  keys: ApiKeys;
  loginStates: LoginStates;
  counters: Counters;
  events: Events;
  webhooks: Webhooks;
  triggers: Triggers;
  ifttt: Ifttt;
  db: D1Database;
  /** Cloudflare Queues for polls, deliveries and placements; absent, the cron does that work. */
  queues: { polls?: Queue<unknown>; deliveries?: Queue<unknown>; placements?: Queue<unknown> };
  vault(): Promise<Vault>;
  signer(): Promise<KeySigner>;
}

const built = new WeakMap<object, Deps>();

export function deps(env: Bindings): Deps {
  let d = built.get(env);
  if (!d) {
    // In development every query is counted per request (X-D1-Round-Trips, bench/overhead.mjs).
    d = build(env, config(env).dev ? countingD1(env.DB) : env.DB);
    built.set(env, d);
  }
  return d;
}

/** Deps over another handle on the same database (e.g. one that counts statements), not cached. */
export function build(env: Bindings, db: D1Database): Deps {
  const cfg = config(env);
  const upstreamFetch = cfg.upstream.ownSandbox ? ownSandboxFetch(env) : undefined;
  return {
    cfg,
    upstream: KallyAIClient.fromConfig(cfg, upstreamFetch),
    upstreamFetch,
    accounts: new Accounts(db),
    calls: new Calls(db),
    placements: new CallPlacements(db),
    consoleSessions: new ConsoleSessions(db),
    callers: new CallerReads(db),
    keys: new ApiKeys(db),
    loginStates: new LoginStates(db),
    counters: new Counters(db),
    events: new Events(db),
    webhooks: new Webhooks(db),
    triggers: new Triggers(db),
    ifttt: new Ifttt(db),
    db,
    queues: {
      ...(cfg.poller.queues ? { polls: env.POLL_QUEUE, deliveries: env.DELIVERY_QUEUE } : {}),
      placements: env.PLACEMENT_QUEUE,
    },
    vault: () => vaultFor(cfg.vaultKeys),
    signer: () => signerFor(cfg.signingKeys, cfg.bridgeId),
  };
}
