import { type Bindings, type Config, config } from "../env";
import { KallyAIClient } from "../kallyai/client";
import { Accounts } from "../storage/accounts";
import { Calls } from "../storage/calls";
import { Counters } from "../storage/counters";
import { Events } from "../storage/events";
import { ApiKeys } from "../storage/keys";
import { LoginStates } from "../storage/login-states";
import { Webhooks } from "../storage/webhooks";
import { Triggers } from "../storage/triggers";
import { type KeySigner, signerFor } from "./keys";
import { type Vault, vaultFor } from "./vault";

/** What the domain modules work with, built once per `env` (one per isolate in production). */
export interface Deps {
  cfg: Config;
  upstream: KallyAIClient;
  accounts: Accounts;
  calls: Calls;
  keys: ApiKeys;
  loginStates: LoginStates;
  counters: Counters;
  events: Events;
  webhooks: Webhooks;
  triggers: Triggers;
  db: D1Database;
  /** Cloudflare Queues for polls and deliveries; absent, the cron does all the work. */
  queues: { polls?: Queue<unknown>; deliveries?: Queue<unknown> };
  vault(): Promise<Vault>;
  signer(): Promise<KeySigner>;
}

const built = new WeakMap<object, Deps>();

export function deps(env: Bindings): Deps {
  let d = built.get(env);
  if (!d) {
    d = build(env, env.DB);
    built.set(env, d);
  }
  return d;
}

/** Deps over another handle on the same database (e.g. one that counts statements), not cached. */
export function build(env: Bindings, db: D1Database): Deps {
  const cfg = config(env);
  return {
    cfg,
    upstream: KallyAIClient.fromConfig(cfg),
    accounts: new Accounts(db),
    calls: new Calls(db),
    keys: new ApiKeys(db),
    loginStates: new LoginStates(db),
    counters: new Counters(db),
    events: new Events(db),
    webhooks: new Webhooks(db),
    triggers: new Triggers(db),
    db,
    queues: cfg.poller.queues ? { polls: env.POLL_QUEUE, deliveries: env.DELIVERY_QUEUE } : {},
    vault: () => vaultFor(cfg.vaultKeys),
    signer: () => signerFor(cfg.signingKeys, cfg.bridgeId),
  };
}
