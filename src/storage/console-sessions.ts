import type { ApiKeyRow } from "./api-keys";

/** D1 queries for console sessions (the cookie's token is stored as its SHA-256 only). */

export interface ConsoleSessionRow {
  token_hash: string;
  user_id: string;
  key_id: string;
  created_at: number;
  expires_at: number;
  flash: string | null;
  flash_key_id: string | null;
}

export class ConsoleSessions {
  constructor(private readonly db: D1Database) {}

  insert(row: Omit<ConsoleSessionRow, "flash" | "flash_key_id">) {
    return this.db
      .prepare(
        "INSERT INTO console_sessions (token_hash, user_id, key_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
      )
      .bind(row.token_hash, row.user_id, row.key_id, row.created_at, row.expires_at)
      .run();
  }

  /** The live session (unexpired, its key neither revoked nor expired) and its key, in one round trip. */
  async live(tokenHash: string, now: number): Promise<{ session: ConsoleSessionRow; key: ApiKeyRow } | null> {
    const [sessions, keys] = await this.db.batch([
      this.db
        .prepare(
          `SELECT s.* FROM console_sessions s JOIN api_keys k ON k.id = s.key_id
           WHERE s.token_hash = ? AND s.expires_at > ? AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?)`,
        )
        .bind(tokenHash, now, now),
      this.db
        .prepare(
          "SELECT k.* FROM console_sessions s JOIN api_keys k ON k.id = s.key_id AND k.user_id = s.user_id WHERE s.token_hash = ?",
        )
        .bind(tokenHash),
    ]);
    const session = sessions?.results[0] as ConsoleSessionRow | undefined;
    const key = keys?.results[0] as ApiKeyRow | undefined;
    return session && key ? { session, key } : null;
  }

  delete(tokenHash: string) {
    return this.db.prepare("DELETE FROM console_sessions WHERE token_hash = ?").bind(tokenHash).run();
  }

  async deleteForUser(userId: string): Promise<number> {
    const r = await this.db.prepare("DELETE FROM console_sessions WHERE user_id = ?").bind(userId).run();
    return r.meta.changes;
  }

  setFlash(tokenHash: string, sealed: { keyId: string; ciphertext: string } | null) {
    return this.db
      .prepare("UPDATE console_sessions SET flash = ?, flash_key_id = ? WHERE token_hash = ?")
      .bind(sealed?.ciphertext ?? null, sealed?.keyId ?? null, tokenHash)
      .run();
  }

  /** Takes the flash once: only the request that clears it gets it back. */
  async takeFlash(tokenHash: string): Promise<{ keyId: string; ciphertext: string } | null> {
    const row = await this.db
      .prepare("SELECT flash, flash_key_id FROM console_sessions WHERE token_hash = ? AND flash IS NOT NULL")
      .bind(tokenHash)
      .first<{ flash: string; flash_key_id: string }>();
    if (!row) return null;
    const cleared = await this.db
      .prepare("UPDATE console_sessions SET flash = NULL, flash_key_id = NULL WHERE token_hash = ? AND flash = ?")
      .bind(tokenHash, row.flash)
      .run();
    return cleared.meta.changes === 1 ? { keyId: row.flash_key_id, ciphertext: row.flash } : null;
  }

  deleteExpired(now: number) {
    return this.db.prepare("DELETE FROM console_sessions WHERE expires_at < ?").bind(now).run();
  }
}
