import { app } from "./app";
import { deps } from "./domain/deps";
import { runTick } from "./domain/poller";
import type { Bindings } from "./env";

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    // The outcome poller and webhook deliveries (src/domain/poller.ts, docs/webhooks.md).
    await runTick(deps(env), (p) => ctx.waitUntil(p));
  },
} satisfies ExportedHandler<Bindings>;
