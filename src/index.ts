import { app } from "./app";
import { consume } from "./domain/consumers";
import { deps } from "./domain/deps";
import { configProblem } from "./domain/health";
import { runTick } from "./domain/poller";
import type { Bindings } from "./env";
import { logError } from "./shared/log";

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    // A misconfigured deployment does no work in the background either; GET /health says why.
    if (await misconfigured(env)) return;
    // The outcome poller's last resort, and clean-up (src/domain/poller.ts, docs/webhooks.md).
    await runTick(deps(env), (p) => ctx.waitUntil(p));
  },
  async queue(batch, env, _ctx) {
    // Misconfigured: the messages come back later (the state is in D1; the cron takes over once fixed).
    if (await misconfigured(env)) return batch.retryAll({ delaySeconds: 60 });
    // Polls and webhook deliveries, each on time (src/domain/consumers.ts, wrangler.toml).
    await consume(env, batch);
  },
} satisfies ExportedHandler<Bindings>;

async function misconfigured(env: Bindings): Promise<boolean> {
  const problem = await configProblem(env);
  // A ConfigError's message is the bridge's own: it names the settings, never their values.
  if (problem) logError({ code: "misconfigured", message: problem.message }, problem);
  return problem !== null;
}
