import { countOf } from "./rows";
/** D1 queries for trigger URLs. */

export interface TriggerRow {
  id: string;
  user_id: string;
  key_id: string;
  name: string;
  token_hash: string;
  template: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  /** The call fields a hit may set beyond the placeholders (JSON array); null: any (made before 0012). */
  open_fields: string | null;
}

export class Triggers {
  constructor(private readonly db: D1Database) {}

  insert(row: Omit<TriggerRow, "last_used_at" | "revoked_at">) {
    return this.db
      .prepare(
        "INSERT INTO triggers (id, user_id, key_id, name, token_hash, template, created_at, open_fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .bind(row.id, row.user_id, row.key_id, row.name, row.token_hash, row.template, row.created_at, row.open_fields)
      .run();
  }

  /** Edits an active trigger; the row as it now is, or null when there is none. */
  update(id: string, userId: string, changes: Pick<TriggerRow, "name" | "template" | "open_fields">) {
    return this.db
      .prepare(
        "UPDATE triggers SET name = ?, template = ?, open_fields = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL RETURNING *",
      )
      .bind(changes.name, changes.template, changes.open_fields, id, userId)
      .first<TriggerRow>();
  }

  byTokenHash(hash: string) {
    return this.db
      .prepare("SELECT * FROM triggers WHERE token_hash = ? AND revoked_at IS NULL")
      .bind(hash)
      .first<TriggerRow>();
  }

  get(id: string, userId: string) {
    return this.db
      .prepare("SELECT * FROM triggers WHERE id = ? AND user_id = ? AND revoked_at IS NULL")
      .bind(id, userId)
      .first<TriggerRow>();
  }

  list(userId: string) {
    return this.db
      .prepare("SELECT * FROM triggers WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC")
      .bind(userId)
      .all<TriggerRow>();
  }

  async countActive(userId: string): Promise<number> {
    return countOf(
      this.db.prepare("SELECT count(*) AS n FROM triggers WHERE user_id = ? AND revoked_at IS NULL").bind(userId),
    );
  }

  async revoke(id: string, userId: string): Promise<boolean> {
    const r = await this.db
      .prepare("UPDATE triggers SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL")
      .bind(Date.now(), id, userId)
      .run();
    return r.meta.changes === 1;
  }

  touch(id: string, now: number) {
    return this.db.prepare("UPDATE triggers SET last_used_at = ? WHERE id = ?").bind(now, id).run();
  }
}
