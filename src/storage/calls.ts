import type { Outcome } from "../shared/call-view";

export type { Outcome };

/** D1 queries for calls and placements (idempotency records). Times are epoch milliseconds. */

export interface CallRow {
  id: string;
  user_id: string;
  key_id: string | null;
  status: string;
  request: string;
  highlights: string | null;
  next_steps: string | null;
  duration_seconds: number | null;
  created_at: number;
  ended_at: number | null;
  updated_at: number;
  next_poll_at: number | null;
  polls: number;
  lease_until: number | null;
  /** KallyAI's call_id, once KallyAI answered the placement (docs/architecture.md). */
  upstream_id: string | null;
}

export interface PlacementRow {
  user_id: string;
  idempotency_key: string;
  request_hash: string;
  request: string;
  key_id: string | null;
  state: "placing" | "placed";
  call_id: string | null;
  response: string | null;
  lease_until: number;
  created_at: number;
}

/**
 * A call by the bridge's id, or by KallyAI's (someone who saw the call in KallyAI's app); also
 * read in the caller batch (storage/caller.ts).
 */
export const selectCall = (db: D1Database, id: string) =>
  db.prepare("SELECT * FROM calls WHERE id = ?1 OR upstream_id = ?1 ORDER BY id = ?1 DESC LIMIT 1").bind(id);

/** A call accepted for background placement: its idempotency record, its row and its placement, written together. */
export interface Acceptance {
  userId: string;
  keyId: string | null;
  idempotencyKey: string;
  requestHash: string;
  request: string;
  callId: string;
  /** The 202 answer, replayed to a retry with the same Idempotency-Key. */
  response: string;
  /** The placeholder poll time that marks the call as not finalised (its expiry). */
  expiresAt: number;
  now: number;
}

export class Calls {
  constructor(private readonly db: D1Database) {}

  /**
   * Accepts a call for placement in one transaction: claims the idempotency key and, only if this
   * request claimed it, writes the call (status queued) and the statements in \`alsoIfClaimed\`
   * (its placement row). Answers the key's record: this call's, or the earlier request's.
   */
  async accept(a: Acceptance, alsoIfClaimed: D1PreparedStatement[]): Promise<PlacementRow> {
    const results = await this.db.batch([
      this.db
        .prepare(
          `INSERT INTO placements (user_id, idempotency_key, request_hash, request, key_id, state, call_id, response, lease_until, created_at)
           VALUES (?1, ?2, ?3, ?4, ?5, 'placed', ?6, ?7, ?8, ?8) ON CONFLICT (user_id, idempotency_key) DO NOTHING`,
        )
        .bind(a.userId, a.idempotencyKey, a.requestHash, a.request, a.keyId, a.callId, a.response, a.now),
      this.db
        .prepare(
          `INSERT INTO calls (id, user_id, key_id, status, request, created_at, updated_at, next_poll_at)
           SELECT ?1, ?2, ?3, 'queued', ?4, ?5, ?5, ?6
           WHERE EXISTS (SELECT 1 FROM placements WHERE user_id = ?2 AND idempotency_key = ?7 AND call_id = ?1)`,
        )
        .bind(a.callId, a.userId, a.keyId, a.request, a.now, a.expiresAt, a.idempotencyKey),
      ...alsoIfClaimed,
      this.db
        .prepare("SELECT * FROM placements WHERE user_id = ? AND idempotency_key = ?")
        .bind(a.userId, a.idempotencyKey),
    ]);
    return results[results.length - 1]?.results[0] as PlacementRow;
  }

  /**
   * Undoes an acceptance (the hourly allowance refused it, or KallyAI refused it while the request
   * waited): the call, its placement and its idempotency record go, so a retry starts afresh.
   */
  forget(userId: string, idempotencyKey: string, callId: string, also: D1PreparedStatement[] = []) {
    return this.db.batch([
      this.db.prepare("DELETE FROM call_placements WHERE call_id = ?").bind(callId),
      this.db.prepare("DELETE FROM calls WHERE id = ? AND user_id = ?").bind(callId, userId),
      this.db
        .prepare("DELETE FROM placements WHERE user_id = ? AND idempotency_key = ? AND call_id = ?")
        .bind(userId, idempotencyKey, callId),
      ...also,
    ]);
  }

  placement(userId: string, key: string) {
    return this.db
      .prepare("SELECT * FROM placements WHERE user_id = ? AND idempotency_key = ?")
      .bind(userId, key)
      .first<PlacementRow>();
  }

  get(id: string) {
    return selectCall(this.db, id).first<CallRow>();
  }

  /** Newest first; the cursor is the last row's (created_at, id). */
  list(
    userId: string,
    opts: { limit: number; before?: { createdAt: number; id: string }; offset?: number; status?: string[] },
  ) {
    const where = ["user_id = ?"];
    const params: unknown[] = [userId];
    if (opts.before) {
      where.push("(created_at < ? OR (created_at = ? AND id < ?))");
      params.push(opts.before.createdAt, opts.before.createdAt, opts.before.id);
    }
    if (opts.status?.length) {
      where.push(`status IN (${opts.status.map(() => "?").join(", ")})`);
      params.push(...opts.status);
    }
    params.push(opts.limit, opts.offset ?? 0);
    return this.db
      .prepare(`SELECT * FROM calls WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`)
      .bind(...params)
      .all<CallRow>();
  }

  /** Stores what KallyAI says of a call that has not been finalised by the poller yet. */
  updateProgress(id: string, o: Outcome) {
    return this.db
      .prepare(
        "UPDATE calls SET status = ?, highlights = ?, next_steps = ?, duration_seconds = ?, ended_at = ?, updated_at = ? WHERE id = ? AND next_poll_at IS NOT NULL",
      )
      .bind(o.status, o.highlights, o.next_steps, o.duration_seconds, o.ended_at, Date.now(), id)
      .run();
  }

  deletePlacedBefore(cutoff: number) {
    return this.db.prepare("DELETE FROM placements WHERE state = 'placed' AND created_at < ?").bind(cutoff).run();
  }
}
