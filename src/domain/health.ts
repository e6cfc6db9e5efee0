import { type Bindings, ConfigError } from "../env";
import { SchemaInfo } from "../storage/schema-info";
import { SCHEMA_VERSION } from "../storage/schema-version";
import { deps } from "./deps";

export type SchemaState = "current" | "ahead" | "behind" | "missing" | "unknown";

export interface HealthReport {
  status: "ok" | "misconfigured" | "unavailable";
  upstream: "kallyai" | "sandbox" | null;
  database: "ok" | "unreachable";
  schema: { expected: string; applied: string | null; state: SchemaState };
  /** What an operator must fix; names settings, never their values. Empty when status is ok. */
  problems: string[];
  time: string;
}

/** Whether the configuration (secrets included) is usable: the ConfigError saying why not, else null. */
export async function configProblem(env: Bindings): Promise<ConfigError | null> {
  try {
    const d = deps(env);
    await Promise.all([d.vault(), d.signer()]);
    return null;
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

/** GET /health: configuration, D1 and the schema version, each with what to do when it fails. */
export async function healthReport(env: Bindings): Promise<HealthReport> {
  const problems: string[] = [];
  const misconfigured = await configProblem(env);
  if (misconfigured) problems.push(`${misconfigured.message}.`);
  const cfg = misconfigured ? null : deps(env).cfg;
  const upstream = cfg ? (cfg.upstream.ownSandbox ? "sandbox" : "kallyai") : null;

  let database: HealthReport["database"] = "ok";
  let applied: string | null = null;
  let state: SchemaState = "unknown";
  try {
    applied = await new SchemaInfo(env.DB).latestMigration();
    state =
      applied === null
        ? "missing"
        : applied === SCHEMA_VERSION
          ? "current"
          : applied > SCHEMA_VERSION
            ? "ahead"
            : "behind";
  } catch {
    database = "unreachable";
    problems.push("The D1 database (binding DB) does not answer: check [[d1_databases]] in wrangler.toml.");
  }
  if (state === "missing" || state === "behind") {
    problems.push(
      `The database schema is ${applied ?? "not migrated"}, this code needs ${SCHEMA_VERSION}: run \`wrangler d1 migrations apply DB --remote\`.`,
    );
  }
  const status = misconfigured ? "misconfigured" : problems.length ? "unavailable" : "ok";
  return {
    status,
    upstream,
    database,
    schema: { expected: SCHEMA_VERSION, applied, state },
    problems,
    time: new Date().toISOString(),
  };
}
