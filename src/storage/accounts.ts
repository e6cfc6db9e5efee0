import { countOf, writtenRow } from "./rows";
/** D1 queries for users and their vault row. Times are epoch milliseconds. */

export interface UserRow {
  id: string;
  kallyai_account: string | null;
  link_state: "linked" | "relink_required" | "unlinked";
  created_at: number;
  updated_at: number;
}

export interface VaultRow {
  user_id: string;
  key_id: string;
  refresh_token: string;
  access_token: string | null;
  access_expires_at: number | null;
  version: number;
  refresh_lease_until: number | null;
  /** Where the tokens refresh (KallyAI's reference): null for tokens stored before this was recorded. */
  refresh_grant: RefreshGrant | null;
}

/** 'cli': POST /v1/auth/refresh; 'oauth': POST /v1/auth/gpt/token with the bridge's OAuth client. */
export type RefreshGrant = "cli" | "oauth";

export interface SealedTokens {
  keyId: string;
  refreshToken: string;
  accessToken: string;
  accessExpiresAt: number;
  grant: RefreshGrant | null;
}

/** A user and their vault row by id; also read in the caller batch (storage/caller.ts). */
export const selectUser = (db: D1Database, id: string) => db.prepare("SELECT * FROM users WHERE id = ?").bind(id);
export const selectVault = (db: D1Database, userId: string) =>
  db.prepare("SELECT * FROM vault WHERE user_id = ?").bind(userId);

export class Accounts {
  constructor(private readonly db: D1Database) {}

  user(id: string) {
    return selectUser(this.db, id).first<UserRow>();
  }

  userByAccount(account: string) {
    return this.db.prepare("SELECT * FROM users WHERE kallyai_account = ?").bind(account).first<UserRow>();
  }

  /** Creates the user, or takes over the row of the same KallyAI account (relinking). */
  async upsertUser(id: string, account: string | null): Promise<UserRow> {
    const now = Date.now();
    if (account) {
      await this.db
        .prepare(
          `INSERT INTO users (id, kallyai_account, link_state, created_at, updated_at) VALUES (?1, ?2, 'linked', ?3, ?3)
           ON CONFLICT (kallyai_account) DO UPDATE SET link_state = 'linked', updated_at = ?3`,
        )
        .bind(id, account, now)
        .run();
      return writtenRow(await this.userByAccount(account), "the user");
    }
    await this.db
      .prepare(
        `INSERT INTO users (id, link_state, created_at, updated_at) VALUES (?1, 'linked', ?2, ?2)
         ON CONFLICT (id) DO UPDATE SET link_state = 'linked', updated_at = ?2`,
      )
      .bind(id, now)
      .run();
    return writtenRow(await this.user(id), "the user");
  }

  setAccount(userId: string, account: string) {
    return this.db
      .prepare("UPDATE users SET kallyai_account = ? WHERE id = ? AND kallyai_account IS NULL")
      .bind(account, userId)
      .run();
  }

  setLinkState(userId: string, state: UserRow["link_state"]) {
    return this.db
      .prepare("UPDATE users SET link_state = ?, updated_at = ? WHERE id = ?")
      .bind(state, Date.now(), userId)
      .run();
  }

  vault(userId: string) {
    return selectVault(this.db, userId).first<VaultRow>();
  }

  /** Stores a fresh token pair whatever was there (linking). */
  putTokens(userId: string, t: SealedTokens) {
    return this.db
      .prepare(
        `INSERT INTO vault (user_id, key_id, refresh_token, access_token, access_expires_at, version, updated_at, refresh_grant)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7)
         ON CONFLICT (user_id) DO UPDATE SET key_id = ?2, refresh_token = ?3, access_token = ?4, access_expires_at = ?5,
           version = version + 1, refresh_lease_until = NULL, updated_at = ?6, refresh_grant = ?7`,
      )
      .bind(userId, t.keyId, t.refreshToken, t.accessToken, t.accessExpiresAt, Date.now(), t.grant)
      .run();
  }

  /** Takes the refresh lease if nobody holds it and the tokens are still at `version`. */
  async claimRefresh(userId: string, version: number, leaseMs: number): Promise<boolean> {
    const now = Date.now();
    const result = await this.db
      .prepare(
        "UPDATE vault SET refresh_lease_until = ? WHERE user_id = ? AND version = ? AND (refresh_lease_until IS NULL OR refresh_lease_until < ?)",
      )
      .bind(now + leaseMs, userId, version, now)
      .run();
    return result.meta.changes === 1;
  }

  /** Commits refreshed tokens if the row is still at `version`; false when someone else won. */
  async commitRefresh(userId: string, version: number, t: SealedTokens): Promise<boolean> {
    const result = await this.db
      .prepare(
        `UPDATE vault SET key_id = ?, refresh_token = ?, access_token = ?, access_expires_at = ?, version = version + 1,
           refresh_lease_until = NULL, updated_at = ?, refresh_grant = coalesce(?, refresh_grant) WHERE user_id = ? AND version = ?`,
      )
      .bind(t.keyId, t.refreshToken, t.accessToken, t.accessExpiresAt, Date.now(), t.grant, userId, version)
      .run();
    return result.meta.changes === 1;
  }

  releaseRefresh(userId: string, version: number) {
    return this.db
      .prepare("UPDATE vault SET refresh_lease_until = NULL WHERE user_id = ? AND version = ?")
      .bind(userId, version)
      .run();
  }

  /** Unlink: the tokens are deleted, not just flagged. */
  deleteTokens(userId: string) {
    return this.db.prepare("DELETE FROM vault WHERE user_id = ?").bind(userId).run();
  }

  vaultRowsNotOnKey(keyId: string, afterUserId: string, limit: number) {
    return this.db
      .prepare("SELECT * FROM vault WHERE key_id != ? AND user_id > ? ORDER BY user_id LIMIT ?")
      .bind(keyId, afterUserId, limit)
      .all<VaultRow>();
  }

  async countNotOnKey(keyId: string): Promise<number> {
    return countOf(this.db.prepare("SELECT count(*) AS n FROM vault WHERE key_id != ?").bind(keyId));
  }

  /** Re-encryption writes back only if the row did not change meanwhile. */
  async rewrap(
    userId: string,
    version: number,
    t: { keyId: string; refreshToken: string; accessToken: string | null },
  ): Promise<boolean> {
    const result = await this.db
      .prepare("UPDATE vault SET key_id = ?, refresh_token = ?, access_token = ? WHERE user_id = ? AND version = ?")
      .bind(t.keyId, t.refreshToken, t.accessToken, userId, version)
      .run();
    return result.meta.changes === 1;
  }
}
