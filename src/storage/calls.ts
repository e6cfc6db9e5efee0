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

/** A call by id; also read in the caller batch (storage/caller.ts). */
export const selectCall = (db: D1Database, id: string) => db.prepare("SELECT * FROM calls WHERE id = ?").bind(id);

export class Calls {
  constructor(private readonly db: D1Database) {}

  /** Claims the idempotency key; false when it exists already (then read it with `placement`). */
  async claimPlacement(row: Omit<PlacementRow, "state" | "call_id" | "response">): Promise<boolean> {
    const r = await this.db
      .prepare(
        `INSERT INTO placements (user_id, idempotency_key, request_hash, request, key_id, state, lease_until, created_at)
         VALUES (?, ?, ?, ?, ?, 'placing', ?, ?) ON CONFLICT (user_id, idempotency_key) DO NOTHING`,
      )
      .bind(
        row.user_id,
        row.idempotency_key,
        row.request_hash,
        row.request,
        row.key_id,
        row.lease_until,
        row.created_at,
      )
      .run();
    return r.meta.changes === 1;
  }

  placement(userId: string, key: string) {
    return this.db
      .prepare("SELECT * FROM placements WHERE user_id = ? AND idempotency_key = ?")
      .bind(userId, key)
      .first<PlacementRow>();
  }

  /** Takes over a placement whose placer stopped (crashed or timed out) before recording it. */
  async retakePlacement(userId: string, key: string, now: number, leaseMs: number): Promise<boolean> {
    const r = await this.db
      .prepare(
        "UPDATE placements SET lease_until = ? WHERE user_id = ? AND idempotency_key = ? AND state = 'placing' AND lease_until < ?",
      )
      .bind(now + leaseMs, userId, key, now)
      .run();
    return r.meta.changes === 1;
  }

  /** Ends a placement's lease now: whoever comes next (a retry with the key, the cron) takes it over at once. */
  endPlacementLease(userId: string, key: string) {
    return this.db
      .prepare("UPDATE placements SET lease_until = 0 WHERE user_id = ? AND idempotency_key = ? AND state = 'placing'")
      .bind(userId, key)
      .run();
  }

  releasePlacement(userId: string, key: string) {
    return this.db
      .prepare("DELETE FROM placements WHERE user_id = ? AND idempotency_key = ? AND state = 'placing'")
      .bind(userId, key)
      .run();
  }

  stalePlacements(now: number, limit: number) {
    return this.db
      .prepare("SELECT * FROM placements WHERE state = 'placing' AND lease_until < ? ORDER BY lease_until LIMIT ?")
      .bind(now, limit)
      .all<PlacementRow>();
  }

  /** Records the placed call and closes its placement in one transaction. */
  async recordPlaced(
    p: { userId: string; key: string; response: string },
    call: Omit<CallRow, "polls" | "lease_until" | "updated_at">,
  ): Promise<void> {
    const now = Date.now();
    await this.db.batch([
      this.db
        .prepare(
          `INSERT INTO calls (id, user_id, key_id, status, request, highlights, next_steps, duration_seconds, created_at, ended_at, updated_at, next_poll_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        )
        .bind(
          call.id,
          call.user_id,
          call.key_id,
          call.status,
          call.request,
          call.highlights,
          call.next_steps,
          call.duration_seconds,
          call.created_at,
          call.ended_at,
          now,
          call.next_poll_at,
        ),
      this.db
        .prepare(
          "UPDATE placements SET state = 'placed', call_id = ?, response = ? WHERE user_id = ? AND idempotency_key = ?",
        )
        .bind(call.id, p.response, p.userId, p.key),
    ]);
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
