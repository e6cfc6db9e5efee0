import { type Bindings, type Config, config } from "../env";
import { KallyAIClient } from "../kallyai/client";
import { Accounts } from "../storage/accounts";
import { Calls } from "../storage/calls";
import { ConsoleSessions } from "../storage/console-sessions";
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
  consoleSessions: ConsoleSessions;
  keys: ApiKeys;
  loginStates: LoginStates;
  counters: Counters;
  events: Events;
  webhooks: Webhooks;
  triggers: Triggers;
  db: D1Database;
  vault(): Promise<Vault>;
  signer(): Promise<KeySigner>;
}

const built = new WeakMap<object, Deps>();

export function deps(env: Bindings): Deps {
  let d = built.get(env);
  if (!d) {
    const cfg = config(env);
    d = {
      cfg,
      upstream: KallyAIClient.fromConfig(cfg),
      accounts: new Accounts(env.DB),
      calls: new Calls(env.DB),
      consoleSessions: new ConsoleSessions(env.DB),
      keys: new ApiKeys(env.DB),
      loginStates: new LoginStates(env.DB),
      counters: new Counters(env.DB),
      events: new Events(env.DB),
      webhooks: new Webhooks(env.DB),
      triggers: new Triggers(env.DB),
      db: env.DB,
      vault: () => vaultFor(cfg.vaultKeys),
      signer: () => signerFor(cfg.signingKeys, cfg.bridgeId),
    };
    built.set(env, d);
  }
  return d;
}
