import { app } from "./app";
import { deps } from "./domain/deps";
import { configProblem } from "./domain/health";
import { runTick } from "./domain/poller";
import type { Bindings } from "./env";

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    // A misconfigured deployment does no work in the background either; GET /health says why.
    const problem = await configProblem(env);
    if (problem) {
      console.error(JSON.stringify({ level: "error", code: "misconfigured", message: problem.message }));
      return;
    }
    // The outcome poller and webhook deliveries (src/domain/poller.ts, docs/webhooks.md).
    await runTick(deps(env), (p) => ctx.waitUntil(p));
  },
} satisfies ExportedHandler<Bindings>;
