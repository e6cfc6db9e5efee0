import { writtenRow } from "../storage/rows";

/** The sandbox's D1 queries. Times are epoch milliseconds. */

export interface SandboxUser {
  id: string;
  email: string;
  calls_allocated: number;
  minutes_allocated: number;
  created_at: number;
}

export interface SandboxToken {
  kind: "access" | "refresh" | "code";
  user_id: string;
  expires_at: number;
  used_at: number | null;
  client_id: string | null;
  redirect_uri: string | null;
  /** What an OAuth client's code or tokens were granted (null for the CLI sign-in). */
  scope: string | null;
}

export interface SandboxCallRow {
  id: string;
  user_id: string;
  request: string;
  outcome: string;
  duration_seconds: number;
  created_at: number;
  ends_at: number;
  cancelled_at: number | null;
  idempotency_key: string | null;
  request_hash: string;
}

export async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class SandboxStore {
  constructor(private readonly db: D1Database) {}

  logRequest(method: string, path: string) {
    return this.db
      .prepare("INSERT INTO sandbox_requests (method, path, at) VALUES (?, ?, ?)")
      .bind(method, path, Date.now())
      .run();
  }

  async upsertUser(email: string, allocation: { calls: number; minutes: number }): Promise<SandboxUser> {
    await this.db
      .prepare(
        "INSERT INTO sandbox_users (id, email, calls_allocated, minutes_allocated, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING",
      )
      .bind(crypto.randomUUID(), email, allocation.calls, allocation.minutes, Date.now())
      .run();
    const user = await this.db.prepare("SELECT * FROM sandbox_users WHERE email = ?").bind(email).first<SandboxUser>();
    return writtenRow(user, "the sandbox user");
  }

  /** Test mode's free top-up: adds `extra` to the plan of the user with this email; false when unknown. */
  async topUp(email: string, extra: { calls: number; minutes: number }): Promise<boolean> {
    const r = await this.db
      .prepare(
        "UPDATE sandbox_users SET calls_allocated = calls_allocated + ?, minutes_allocated = minutes_allocated + ? WHERE email = ?",
      )
      .bind(extra.calls, extra.minutes, email)
      .run();
    return r.meta.changes === 1;
  }

  user(id: string) {
    return this.db.prepare("SELECT * FROM sandbox_users WHERE id = ?").bind(id).first<SandboxUser>();
  }

  async issueToken(token: string, t: Omit<SandboxToken, "used_at" | "scope"> & { scope?: string | null }) {
    await this.db
      .prepare(
        "INSERT INTO sandbox_tokens (token_hash, kind, user_id, expires_at, client_id, redirect_uri, created_at, scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .bind(
        await sha256(token),
        t.kind,
        t.user_id,
        t.expires_at,
        t.client_id,
        t.redirect_uri,
        Date.now(),
        t.scope ?? null,
      )
      .run();
  }

  async findToken(token: string, kind: SandboxToken["kind"]) {
    return this.db
      .prepare("SELECT * FROM sandbox_tokens WHERE token_hash = ? AND kind = ?")
      .bind(await sha256(token), kind)
      .first<SandboxToken>();
  }

  /** Marks a single-use token used; false when it was already used (or never existed). */
  async consumeToken(token: string, kind: SandboxToken["kind"]): Promise<boolean> {
    const result = await this.db
      .prepare(
        "UPDATE sandbox_tokens SET used_at = ? WHERE token_hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ?",
      )
      .bind(Date.now(), await sha256(token), kind, Date.now())
      .run();
    return result.meta.changes === 1;
  }

  /** Inserts the call unless the same idempotency key was used; returns the stored row either way. */
  async insertCall(row: Omit<SandboxCallRow, "cancelled_at">): Promise<{ row: SandboxCallRow; replayed: boolean }> {
    const result = await this.db
      .prepare(
        `INSERT INTO sandbox_calls (id, user_id, request, outcome, duration_seconds, created_at, ends_at, idempotency_key, request_hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, idempotency_key) DO NOTHING`,
      )
      .bind(
        row.id,
        row.user_id,
        row.request,
        row.outcome,
        row.duration_seconds,
        row.created_at,
        row.ends_at,
        row.idempotency_key,
        row.request_hash,
      )
      .run();
    if (result.meta.changes === 1) return { row: { ...row, cancelled_at: null }, replayed: false };
    // Not inserted: a call with this idempotency key exists, and is the answer.
    const placed = row.idempotency_key === null ? null : await this.callByKey(row.user_id, row.idempotency_key);
    return { row: writtenRow(placed, "the call placed with this idempotency key"), replayed: true };
  }

  callByKey(userId: string, key: string) {
    return this.db
      .prepare("SELECT * FROM sandbox_calls WHERE user_id = ? AND idempotency_key = ?")
      .bind(userId, key)
      .first<SandboxCallRow>();
  }

  call(id: string) {
    return this.db.prepare("SELECT * FROM sandbox_calls WHERE id = ?").bind(id).first<SandboxCallRow>();
  }

  /**
   * Newest first; calls placed in the same millisecond keep their insertion order (rowid), not their
   * random ids'. With `endedBy`, only the calls that had ended by then (synchronous placement).
   */
  async listCalls(userId: string, limit: number, offset: number, opts: { endedBy?: number } = {}) {
    const ended =
      opts.endedBy === undefined ? "" : " AND (cancelled_at IS NOT NULL OR (outcome != 'never' AND ends_at <= ?2))";
    const [page, count] = await this.db.batch([
      this.db
        .prepare(
          `SELECT * FROM sandbox_calls WHERE user_id = ?1${ended} ORDER BY created_at DESC, rowid DESC LIMIT ?3 OFFSET ?4`,
        )
        .bind(userId, opts.endedBy ?? 0, limit, offset),
      opts.endedBy === undefined
        ? this.db.prepare("SELECT count(*) AS total FROM sandbox_calls WHERE user_id = ?1").bind(userId)
        : this.db
            .prepare(`SELECT count(*) AS total FROM sandbox_calls WHERE user_id = ?1${ended}`)
            .bind(userId, opts.endedBy),
    ]);
    if (!page || !count) throw new Error("D1 answered a batch of two statements with fewer results");
    return { rows: page.results as SandboxCallRow[], total: (count.results[0] as { total: number }).total };
  }

  /** Cancels a call that has not ended by `now`; false when it had already ended. */
  async cancelCall(id: string, now: number): Promise<boolean> {
    const result = await this.db
      .prepare(
        "UPDATE sandbox_calls SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL AND (outcome = 'never' OR ends_at > ?)",
      )
      .bind(now, id, now)
      .run();
    return result.meta.changes === 1;
  }

  /** An aggregate: it answers one row, zeros for a user without calls. */
  async usage(userId: string): Promise<{ calls_used: number; minutes_used: number }> {
    const row = await this.db
      .prepare(
        `SELECT count(*) AS calls_used,
                coalesce(sum(CASE WHEN cancelled_at IS NULL AND outcome IN ('success', 'voicemail') AND ends_at <= ?1
                                  THEN (duration_seconds + 59) / 60 ELSE 0 END), 0) AS minutes_used
         FROM sandbox_calls WHERE user_id = ?2`,
      )
      .bind(Date.now(), userId)
      .first<{ calls_used: number; minutes_used: number }>();
    return row ?? { calls_used: 0, minutes_used: 0 };
  }
}
