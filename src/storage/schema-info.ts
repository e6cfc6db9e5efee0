/** What D1 says about its own schema: the migrations wrangler (or the test setup) applied. */
export class SchemaInfo {
  constructor(private readonly db: D1Database) {}

  /** The newest applied migration's file name; null when no migration was ever applied. */
  async latestMigration(): Promise<string | null> {
    const table = await this.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'd1_migrations'")
      .first<{ name: string }>();
    if (!table) return null;
    const row = await this.db
      .prepare("SELECT name FROM d1_migrations ORDER BY name DESC LIMIT 1")
      .first<{ name: string }>();
    return row?.name ?? null;
  }
}
