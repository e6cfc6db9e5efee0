import { countOf } from "./rows";
/** D1 queries for API keys. The key itself (a signed JWT) is never stored; its id is the row. */

export interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  scopes: string;
  calls_per_hour: number;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  /** Set on the key an OAuth grant acts through (the connected app's client id); null for an API key. */
  oauth_client_id: string | null;
}

/** One key of one user; also read in the caller batch (storage/caller.ts). */
export const selectKey = (db: D1Database, id: string, userId: string) =>
  db.prepare("SELECT * FROM api_keys WHERE id = ? AND user_id = ?").bind(id, userId);

/** A user's API keys that still work (binds userId, now); the keys behind OAuth grants are not API keys. */
const WORKING =
  "user_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND oauth_client_id IS NULL";

export class ApiKeys {
  constructor(private readonly db: D1Database) {}

  insert(row: Omit<ApiKeyRow, "last_used_at" | "revoked_at" | "oauth_client_id"> & { oauth_client_id?: string }) {
    return this.db
      .prepare(
        "INSERT INTO api_keys (id, user_id, name, scopes, calls_per_hour, created_at, expires_at, oauth_client_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .bind(
        row.id,
        row.user_id,
        row.name,
        row.scopes,
        row.calls_per_hour,
        row.created_at,
        row.expires_at,
        row.oauth_client_id ?? null,
      )
      .run();
  }

  get(id: string, userId: string) {
    return selectKey(this.db, id, userId).first<ApiKeyRow>();
  }

  /** Several keys of one user, in one round trip. */
  async getMany(ids: string[], userId: string): Promise<ApiKeyRow[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.batch(ids.map((id) => selectKey(this.db, id, userId)));
    return rows.flatMap((r) => r.results as ApiKeyRow[]);
  }

  listActive(userId: string) {
    return this.db
      .prepare(
        "SELECT * FROM api_keys WHERE user_id = ? AND revoked_at IS NULL AND oauth_client_id IS NULL ORDER BY created_at DESC",
      )
      .bind(userId)
      .all<ApiKeyRow>();
  }

  /** Keys that still work: not revoked, not expired. */
  listWorking(userId: string, now: number) {
    return this.db
      .prepare(`SELECT * FROM api_keys WHERE ${WORKING} ORDER BY created_at DESC`)
      .bind(userId, now)
      .all<ApiKeyRow>();
  }

  /** How many keys still work: not revoked, not expired. */
  async countActive(userId: string, now: number): Promise<number> {
    return countOf(this.db.prepare(`SELECT count(*) AS n FROM api_keys WHERE ${WORKING}`).bind(userId, now));
  }

  /** Revokes an API key (not the key behind an OAuth grant: revokeGrantKeys ends those). */
  async revoke(id: string, userId: string): Promise<boolean> {
    const r = await this.db
      .prepare(
        "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL AND oauth_client_id IS NULL",
      )
      .bind(Date.now(), id, userId)
      .run();
    return r.meta.changes === 1;
  }

  /** Revokes the keys OAuth grants act through; how many were still live. */
  async revokeGrantKeys(userId: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const results = await this.db.batch(
      ids.map((id) =>
        this.db
          .prepare(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL AND oauth_client_id IS NOT NULL",
          )
          .bind(Date.now(), id, userId),
      ),
    );
    return results.reduce((n, r) => n + r.meta.changes, 0);
  }

  /** Every key of the user, the keys of OAuth grants included (unlinking ends those grants too). */
  async revokeAll(userId: string): Promise<number> {
    const r = await this.db
      .prepare("UPDATE api_keys SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
      .bind(Date.now(), userId)
      .run();
    return r.meta.changes;
  }

  /** Records use at most once per `intervalMs` per key, also when isolates race. */
  touch(id: string, now: number, intervalMs: number) {
    return this.db
      .prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)")
      .bind(now, id, now - intervalMs)
      .run();
  }
}
