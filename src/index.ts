import { app } from "./app";
import type { Bindings } from "./env";

export default {
  fetch: app.fetch,
  async scheduled(_controller, _env, _ctx) {
    // The outcome poller runs here (see src/domain/outcomes.ts once it exists).
  },
} satisfies ExportedHandler<Bindings>;
