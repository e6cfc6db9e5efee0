// The CLI type-checks the shared src/ modules it bundles against Node's types, not the Workers'.
// src/env.ts names the D1, Queues and KV bindings' types in an interface the CLI never uses; these stand in for them.
type D1Database = unknown;
type Queue<Body = unknown> = { body?: Body };
type KVNamespace = unknown;
// Likewise for wrangler.toml's generated bindings (worker-configuration.d.ts, `npm run types`).
interface WranglerEnv {
  DB: D1Database;
}
