// The CLI type-checks the shared src/ modules it bundles against Node's types, not the Workers'.
// src/env.ts names the D1 binding's type in an interface the CLI never uses; this stands in for it.
type D1Database = unknown;
// Likewise for wrangler.toml's generated bindings (worker-configuration.d.ts, `npm run types`).
interface WranglerEnv {
  DB: D1Database;
}
