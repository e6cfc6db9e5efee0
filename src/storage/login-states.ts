/** D1 queries for sign-in states (hashed, single-use, short-lived). */

export interface LoginStateRow {
  state_hash: string;
  flow: "cli" | "oauth";
  redirect_uri: string;
  expires_at: number;
  used_at: number | null;
}

export class LoginStates {
  constructor(private readonly db: D1Database) {}

  insert(row: Omit<LoginStateRow, "used_at">) {
    return this.db
      .prepare("INSERT INTO login_states (state_hash, flow, redirect_uri, expires_at) VALUES (?, ?, ?, ?)")
      .bind(row.state_hash, row.flow, row.redirect_uri, row.expires_at)
      .run();
  }

  get(hash: string) {
    return this.db.prepare("SELECT * FROM login_states WHERE state_hash = ?").bind(hash).first<LoginStateRow>();
  }

  /** Marks the state used; false when it was used already or has expired (the race is decided here). */
  async consume(hash: string, now: number): Promise<boolean> {
    const r = await this.db
      .prepare("UPDATE login_states SET used_at = ? WHERE state_hash = ? AND used_at IS NULL AND expires_at > ?")
      .bind(now, hash, now)
      .run();
    return r.meta.changes === 1;
  }

  deleteExpired(now: number) {
    return this.db
      .prepare("DELETE FROM login_states WHERE expires_at < ?")
      .bind(now - 24 * 3600 * 1000)
      .run();
  }
}
