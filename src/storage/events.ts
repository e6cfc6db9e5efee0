/**
 * D1 queries of the outcome poller and the events feed: claiming due calls, recording outcomes
 * together with their events and deliveries, listing events. Times are epoch milliseconds.
 * Work on many calls is one statement each (rows passed as one JSON parameter), never one per call.
 */
import type { CallRow } from "./calls";
import { owedNotifications } from "./ifttt";

/** A call or delivery and when its next poll or attempt is due (epoch ms). */
export interface Scheduled {
  id: string;
  due: number;
}

export interface EventRow {
  id: string;
  user_id: string;
  call_id: string;
  type: string;
  payload: string;
  created_at: number;
}

/** What to write to a call after looking at it. `next_poll_at` NULL finalises the outcome. */
export interface CallWrite {
  id: string;
  status: string;
  highlights: string | null;
  next_steps: string | null;
  duration_seconds: number | null;
  ended_at: number | null;
  next_poll_at: number | null;
  /** KallyAI's call_id, when this write is the placement's answer (kept as it is otherwise). */
  upstream_id?: string | null;
}

const callsOf = (json: string) => `SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.status') AS status,
  json_extract(value, '$.highlights') AS highlights, json_extract(value, '$.next_steps') AS next_steps,
  json_extract(value, '$.duration_seconds') AS duration_seconds, json_extract(value, '$.ended_at') AS ended_at,
  json_extract(value, '$.next_poll_at') AS next_poll_at, json_extract(value, '$.upstream_id') AS upstream_id
  FROM json_each(${json})`;

/**
 * Whether call `c` may be recorded: not finalised yet, and no placement holds it (the placement's
 * own answer deletes the placement first, in the same batch: docs/architecture.md).
 */
const RECORDABLE = (c: string) =>
  `${c}.next_poll_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM call_placements p WHERE p.call_id = ${c}.id)`;

export class Events {
  constructor(private readonly db: D1Database) {}

  /**
   * Takes up to `limit` calls due for a poll at `dueBy` or earlier, oldest-due first, and leases
   * them: one statement, so two overlapping ticks can never take the same call (a lease that ran
   * out is taken again).
   */
  async claimDueCalls(now: number, limit: number, leaseMs: number, dueBy = now): Promise<CallRow[]> {
    const { results } = await this.db
      .prepare(
        `UPDATE calls SET lease_until = ?1 + ?2, polls = polls + 1
         WHERE id IN (SELECT id FROM calls WHERE next_poll_at IS NOT NULL AND next_poll_at <= ?4 AND (lease_until IS NULL OR lease_until < ?1)
                        AND upstream_id IS NOT NULL
                      ORDER BY next_poll_at LIMIT ?3)
         RETURNING *`,
      )
      .bind(now, leaseMs, limit, dueBy)
      .all<CallRow>();
    return results.sort((a, b) => (a.next_poll_at ?? 0) - (b.next_poll_at ?? 0));
  }

  /**
   * Takes the calls whose poll scheduled at `due` is still the next one (a queue message each),
   * under the same lease: a duplicate or stale message, or one for a call another consumer or
   * tick holds, takes nothing.
   */
  async claimScheduledCalls(items: Scheduled[], now: number, leaseMs: number): Promise<CallRow[]> {
    if (items.length === 0) return [];
    const { results } = await this.db
      .prepare(
        `UPDATE calls SET lease_until = ?2 + ?3, polls = polls + 1
         WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1)) AND (lease_until IS NULL OR lease_until < ?2)
           AND upstream_id IS NOT NULL AND next_poll_at IN (SELECT json_extract(value, '$.due') FROM json_each(?1) WHERE json_extract(value, '$.id') = calls.id)
         RETURNING *`,
      )
      .bind(JSON.stringify(items), now, leaseMs)
      .all<CallRow>();
    return results;
  }

  /**
   * One transaction: `before` (e.g. settling the placement whose answer this is), the events
   * (only for calls not finalised yet, so a late tick cannot emit a second, different outcome), one
   * delivery per matching active subscription, the realtime notifications owed to IFTTT for users
   * whose trigger identities would list a new event, then the calls' new state and the release of
   * their leases. Returns the deliveries and notifications it created, and what `before` did.
   */
  async record(
    writes: CallWrite[],
    events: EventRow[],
    now: number,
    before: D1PreparedStatement[] = [],
  ): Promise<{ deliveries: Scheduled[]; notifications: Scheduled[]; before: D1Result[] }> {
    if (writes.length === 0) return { deliveries: [], notifications: [], before: [] };
    const statements: D1PreparedStatement[] = [...before];
    if (events.length > 0) {
      statements.push(
        this.db
          .prepare(
            `INSERT OR IGNORE INTO events (id, user_id, call_id, type, payload, created_at)
             SELECT json_extract(value, '$.id'), json_extract(value, '$.user_id'), json_extract(value, '$.call_id'), json_extract(value, '$.type'),
                    json_extract(value, '$.payload'), json_extract(value, '$.created_at')
             FROM json_each(?1)
             WHERE EXISTS (SELECT 1 FROM calls WHERE calls.id = json_extract(value, '$.call_id') AND ${RECORDABLE("calls")})`,
          )
          .bind(JSON.stringify(events)),
        this.db
          .prepare(
            `INSERT OR IGNORE INTO deliveries (id, webhook_id, event_id, user_id, state, attempts, next_attempt_at, created_at, updated_at)
             SELECT 'dlv_' || lower(hex(randomblob(12))), w.id, e.id, e.user_id, 'pending', 0, ?2, ?2, ?2
             FROM events e JOIN webhooks w ON w.user_id = e.user_id AND w.state = 'active'
             WHERE e.id IN (SELECT value FROM json_each(?1)) AND e.created_at = ?2
               AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE json_each.value = e.type)
             RETURNING id, next_attempt_at AS due`,
          )
          .bind(JSON.stringify(events.map((e) => e.id)), now),
        owedNotifications(
          this.db,
          events.map((e) => e.id),
          now,
        ),
      );
    }
    statements.push(
      this.db
        .prepare(
          `UPDATE calls SET status = u.status, highlights = u.highlights, next_steps = u.next_steps, duration_seconds = u.duration_seconds,
             ended_at = u.ended_at, next_poll_at = u.next_poll_at, lease_until = NULL, updated_at = ?2,
             upstream_id = coalesce(u.upstream_id, calls.upstream_id)
           FROM (${callsOf("?1")}) AS u
           WHERE calls.id = u.id AND ${RECORDABLE("calls")}`,
        )
        .bind(JSON.stringify(writes), now),
    );
    const results = await this.db.batch<Scheduled>(statements);
    // With events, the second and third statements after `before` return (RETURNING) the deliveries and notifications they scheduled.
    const deliveries = events.length > 0 ? (results[before.length + 1]?.results ?? []) : [];
    const notifications = events.length > 0 ? (results[before.length + 2]?.results ?? []) : [];
    return { deliveries, notifications, before: results.slice(0, before.length) };
  }

  /** When the next call or delivery falls due (not leased by another tick), or null. */
  async nextDue(now: number): Promise<number | null> {
    const row = await this.db
      .prepare(
        `SELECT (SELECT min(next_poll_at) FROM calls WHERE next_poll_at IS NOT NULL AND (lease_until IS NULL OR lease_until < ?1)
                   AND upstream_id IS NOT NULL) AS calls,
         (SELECT min(next_attempt_at) FROM deliveries WHERE next_attempt_at IS NOT NULL AND (lease_until IS NULL OR lease_until < ?1)) AS deliveries`,
      )
      .bind(now)
      .first<{ calls: number | null; deliveries: number | null }>();
    const times = [row?.calls, row?.deliveries].filter((t): t is number => typeof t === "number");
    return times.length ? Math.min(...times) : null;
  }

  /** Newest first; `before` is the last item's (created_at, id) of the previous page. */
  list(userId: string, opts: { limit: number; type?: string; before?: { createdAt: number; id: string } }) {
    const where = ["user_id = ?"];
    const params: unknown[] = [userId];
    if (opts.type) {
      where.push("type = ?");
      params.push(opts.type);
    }
    if (opts.before) {
      where.push("(created_at < ? OR (created_at = ? AND id < ?))");
      params.push(opts.before.createdAt, opts.before.createdAt, opts.before.id);
    }
    params.push(opts.limit);
    return this.db
      .prepare(`SELECT * FROM events WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT ?`)
      .bind(...params)
      .all<EventRow>();
  }

  forCall(callId: string) {
    return this.db
      .prepare("SELECT * FROM events WHERE call_id = ? ORDER BY created_at, id")
      .bind(callId)
      .all<EventRow>();
  }

  /** Events (and their deliveries) older than `cutoff`. */
  deleteOlderThan(cutoff: number) {
    return this.db.batch([
      this.db
        .prepare(
          "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT d.id FROM deliveries d JOIN events e ON e.id = d.event_id WHERE e.created_at < ?)",
        )
        .bind(cutoff),
      this.db
        .prepare("DELETE FROM deliveries WHERE event_id IN (SELECT id FROM events WHERE created_at < ?)")
        .bind(cutoff),
      this.db.prepare("DELETE FROM events WHERE created_at < ?").bind(cutoff),
    ]);
  }
}
