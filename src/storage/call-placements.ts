/**
 * D1 queries of background placement (docs/architecture.md): one `call_placements` row per call not
 * yet handed over to KallyAI for good. Times are epoch milliseconds. Each step of a placement is
 * one statement or one batch, so a crash between two steps leaves a row the cron completes.
 */
import type { CallRow } from "./calls";

export type PlacementState = "queued" | "sending" | "refused";

export interface CallPlacementRow {
  call_id: string;
  user_id: string;
  upstream_key: string;
  state: PlacementState;
  attempts: number;
  due_at: number;
  answered: number;
  allowance_bucket: string | null;
  refusal: string | null;
  created_at: number;
}

/** A placement a consumer took, with its call. */
export type TakenPlacement = CallPlacementRow & { call: CallRow };

/** What the placing request sees while it waits: the placement (gone once settled) and the call's status. */
export interface PlacementProgress {
  state: PlacementState | null;
  refusal: string | null;
  status: string | null;
}

/** KallyAI's refusal, as stored while the placing request is still to answer it. */
export interface StoredRefusal {
  status: number;
  code: string;
  message: string;
  upgrade_url?: string;
}

const ids = (callIds: string[]) => JSON.stringify(callIds);

/** The whole calls row `c` as one JSON value (RETURNING can only name the updated table's columns). */
const CALL_AS_JSON = `json_object('id', c.id, 'user_id', c.user_id, 'key_id', c.key_id, 'status', c.status,
  'request', c.request, 'highlights', c.highlights, 'next_steps', c.next_steps, 'duration_seconds', c.duration_seconds,
  'created_at', c.created_at, 'ended_at', c.ended_at, 'updated_at', c.updated_at, 'next_poll_at', c.next_poll_at,
  'polls', c.polls, 'lease_until', c.lease_until, 'upstream_id', c.upstream_id)`;

export class CallPlacements {
  constructor(private readonly db: D1Database) {}

  /** The new row, written in the same batch as its call (Calls.accept). */
  insertStatement(row: Omit<CallPlacementRow, "attempts" | "answered" | "refusal" | "state">, claimedBy: string) {
    return this.db
      .prepare(
        `INSERT INTO call_placements (call_id, user_id, upstream_key, state, due_at, allowance_bucket, created_at)
         SELECT ?1, ?2, ?3, 'queued', ?4, ?5, ?6
         WHERE EXISTS (SELECT 1 FROM placements WHERE user_id = ?2 AND idempotency_key = ?7 AND call_id = ?1)`,
      )
      .bind(row.call_id, row.user_id, row.upstream_key, row.due_at, row.allowance_bucket, row.created_at, claimedBy);
  }

  /** What the placing request polls while it waits for the first word. */
  progress(callId: string) {
    return this.db
      .prepare(
        `SELECT p.state, p.refusal, c.status FROM calls c LEFT JOIN call_placements p ON p.call_id = c.id WHERE c.id = ?`,
      )
      .bind(callId)
      .first<PlacementProgress>();
  }

  /**
   * The placing request is about to answer 202: from now on a refusal ends the call `failed`.
   * Does nothing to a refused placement, whose refusal the request answers instead.
   */
  async markAnswered(callId: string): Promise<PlacementProgress | null> {
    const [, read] = await this.db.batch([
      this.db.prepare("UPDATE call_placements SET answered = 1 WHERE call_id = ? AND state != 'refused'").bind(callId),
      this.db
        .prepare(
          "SELECT p.state, p.refusal, c.status FROM calls c LEFT JOIN call_placements p ON p.call_id = c.id WHERE c.id = ?",
        )
        .bind(callId),
    ]);
    return (read?.results[0] as PlacementProgress | undefined) ?? null;
  }

  /**
   * Takes placements for a consumer: queued ones due by `dueBy`, and sending ones whose consumer's
   * lease ran out. One statement (a new lease, one more attempt, and the call read with it), so two
   * consumers can never hold the same placement.
   */
  async take(callIds: string[], now: number, leaseUntil: number, dueBy = now): Promise<TakenPlacement[]> {
    if (callIds.length === 0) return [];
    const { results } = await this.db
      .prepare(
        `UPDATE call_placements SET state = 'sending', attempts = attempts + 1, due_at = ?2
         WHERE call_id IN (SELECT value FROM json_each(?1))
           AND ((state = 'queued' AND due_at <= ?4) OR (state = 'sending' AND due_at < ?3))
         RETURNING *, (SELECT ${CALL_AS_JSON} FROM calls c WHERE c.id = call_placements.call_id) AS call`,
      )
      .bind(ids(callIds), leaseUntil, now, dueBy)
      .all<CallPlacementRow & { call: string | null }>();
    return results.flatMap((row) => (row.call ? [{ ...row, call: JSON.parse(row.call) as CallRow }] : []));
  }

  /**
   * KallyAI has not refused within the grace: the call is with KallyAI (`in_progress`), and the
   * consumers' leases are renewed. Also the heartbeat while the POSTs wait.
   */
  heartbeat(callIds: string[], leaseUntil: number, now: number, firstWord: boolean) {
    const statements = [
      this.db
        .prepare(
          "UPDATE call_placements SET due_at = ?2 WHERE call_id IN (SELECT value FROM json_each(?1)) AND state = 'sending'",
        )
        .bind(ids(callIds), leaseUntil),
    ];
    if (firstWord) {
      statements.push(
        this.db
          .prepare(
            `UPDATE calls SET status = 'in_progress', updated_at = ?2
             WHERE id IN (SELECT value FROM json_each(?1)) AND status = 'queued'
               AND EXISTS (SELECT 1 FROM call_placements p WHERE p.call_id = calls.id AND p.state = 'sending')`,
          )
          .bind(ids(callIds), now),
      );
    }
    return this.db.batch(statements);
  }

  /**
   * A refusal while the placing request still waits: stored for that request to answer. False when
   * the request has answered 202 already (then the refusal ends the call `failed`).
   */
  async refuseUnanswered(callId: string, refusal: StoredRefusal, collectBy: number): Promise<boolean> {
    const r = await this.db
      .prepare(
        "UPDATE call_placements SET state = 'refused', refusal = ?2, due_at = ?3 WHERE call_id = ?1 AND state = 'sending' AND answered = 0",
      )
      .bind(callId, JSON.stringify(refusal), collectBy)
      .run();
    return r.meta.changes === 1;
  }

  /**
   * Queued again for \`due\`: after a failed attempt (KallyAI unreachable, slow, 5xx), or (with
   * \`leaseBefore\`) when the consumer holding it vanished and its lease ran out before then.
   */
  async requeue(callId: string, due: number, leaseBefore = Number.MAX_SAFE_INTEGER): Promise<boolean> {
    const r = await this.db
      .prepare(
        "UPDATE call_placements SET state = 'queued', due_at = ? WHERE call_id = ? AND state = 'sending' AND due_at < ?",
      )
      .bind(due, callId, leaseBefore)
      .run();
    return r.meta.changes === 1;
  }

  /** Settles a placement: written first in the batch that records its call (Events.record's `before`). */
  deleteStatement(callId: string, state?: PlacementState) {
    return state
      ? this.db.prepare("DELETE FROM call_placements WHERE call_id = ? AND state = ?").bind(callId, state)
      : this.db.prepare("DELETE FROM call_placements WHERE call_id = ?").bind(callId);
  }

  /** Placements past their `due_at` (oldest first): lost messages, vanished consumers, uncollected refusals. */
  overdue(state: PlacementState, before: number, limit: number) {
    return this.db
      .prepare("SELECT * FROM call_placements WHERE state = ? AND due_at < ? ORDER BY due_at LIMIT ?")
      .bind(state, before, limit)
      .all<CallPlacementRow>();
  }

  get(callId: string) {
    return this.db.prepare("SELECT * FROM call_placements WHERE call_id = ?").bind(callId).first<CallPlacementRow>();
  }
}
