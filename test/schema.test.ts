import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import schemaSql from "../schema.sql?raw";

/** Splits a SQL file into statements (comments dropped; statements end with ";" at a line's end). */
function statements(sql: string): string[] {
  const withoutComments = sql
    .split("\n")
    .map((line) => line.replace(/--.*$/, ""))
    .join("\n");
  return withoutComments
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** What a database's schema is, in terms that do not depend on how the SQL was written. */
async function shape(db: D1Database) {
  const objects = await db
    .prepare(
      "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations' ORDER BY type, name",
    )
    .all<{ type: string; name: string; tbl_name: string }>();
  const out: Record<string, unknown> = {};
  for (const o of objects.results) {
    if (o.type === "table") out[`table ${o.name}`] = (await db.prepare(`PRAGMA table_info("${o.name}")`).all()).results;
    if (o.type === "index")
      out[`index ${o.name}`] = {
        on: o.tbl_name,
        columns: (await db.prepare(`PRAGMA index_xinfo("${o.name}")`).all()).results,
      };
  }
  return out;
}

describe("schema.sql", () => {
  it("is exactly the schema the migrations build", async () => {
    for (const statement of statements(schemaSql)) await env.SCHEMA_CHECK.prepare(statement).run();
    const fromSchema = await shape(env.SCHEMA_CHECK);
    const fromMigrations = await shape(env.DB);
    expect(Object.keys(fromSchema).sort()).toEqual(Object.keys(fromMigrations).sort());
    expect(fromSchema).toEqual(fromMigrations);
  });
});
