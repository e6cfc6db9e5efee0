import { app } from "./app";
import { consume } from "./domain/consumers";
import { deps } from "./domain/deps";
import { runTick } from "./domain/poller";
import type { Bindings } from "./env";

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    // The outcome poller's last resort, and clean-up (src/domain/poller.ts, docs/webhooks.md).
    await runTick(deps(env), (p) => ctx.waitUntil(p));
  },
  async queue(batch, env, _ctx) {
    // Polls and webhook deliveries, each on time (src/domain/consumers.ts, wrangler.toml).
    await consume(env, batch);
  },
} satisfies ExportedHandler<Bindings>;
