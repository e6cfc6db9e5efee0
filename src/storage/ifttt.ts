/**
 * D1 queries of the IFTTT service (docs/ifttt.md): the trigger identities IFTTT polls, the items
 * a trigger lists (rows of the events feed), and the realtime notifications owed to IFTTT.
 */
import type { EventRow } from "./events";

export interface TriggerIdentity {
  id: string;
  user_id: string;
  trigger_slug: string;
  event_type: string;
  phone: string | null;
}

export interface DueNotification {
  user_id: string;
  due_at: number;
  attempts: number;
}

/** The statement, in the events' recording batch, that owes IFTTT a notification for each user a new event concerns. */
export function owedNotifications(db: D1Database, eventIds: string[], now: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO ifttt_notifications (user_id, due_at, attempts, created_at)
       SELECT DISTINCT e.user_id, ?2, 0, ?2 FROM events e
       WHERE e.id IN (SELECT value FROM json_each(?1)) AND e.created_at = ?2
         AND EXISTS (SELECT 1 FROM ifttt_trigger_identities t WHERE t.user_id = e.user_id AND t.event_type = e.type
                     AND (t.phone IS NULL OR t.phone = json_extract(e.payload, '$.data.phone')))
       ON CONFLICT (user_id) DO UPDATE SET due_at = excluded.due_at, attempts = 0
       RETURNING user_id AS id, due_at AS due`,
    )
    .bind(JSON.stringify(eventIds), now);
}

export class Ifttt {
  constructor(private readonly db: D1Database) {}

  /** Records (or refreshes) a trigger identity as IFTTT polls it; an identity never moves to another user. */
  rememberIdentity(identity: TriggerIdentity, now: number) {
    return this.db
      .prepare(
        `INSERT INTO ifttt_trigger_identities (id, user_id, trigger_slug, event_type, phone, created_at, last_polled_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT (id) DO UPDATE SET trigger_slug = excluded.trigger_slug, event_type = excluded.event_type,
           phone = excluded.phone, last_polled_at = excluded.last_polled_at
         WHERE ifttt_trigger_identities.user_id = excluded.user_id`,
      )
      .bind(identity.id, identity.user_id, identity.trigger_slug, identity.event_type, identity.phone, now)
      .run();
  }

  forgetIdentity(id: string, slug: string) {
    return this.db
      .prepare("DELETE FROM ifttt_trigger_identities WHERE id = ? AND trigger_slug = ?")
      .bind(id, slug)
      .run();
  }

  /** A user's newest events of one type, optionally only calls to one number. */
  async recentEvents(userId: string, type: string, phone: string | null, limit: number): Promise<EventRow[]> {
    const { results } = await this.db
      .prepare(
        `SELECT * FROM events WHERE user_id = ?1 AND type = ?2 AND (?3 IS NULL OR json_extract(payload, '$.data.phone') = ?3)
         ORDER BY created_at DESC, id DESC LIMIT ?4`,
      )
      .bind(userId, type, phone, limit)
      .all<EventRow>();
    return results;
  }

  /** Leases up to `limit` notifications due by `dueBy` (one statement, so two senders never take the same). */
  async claimDue(now: number, limit: number, leaseMs: number, dueBy = now): Promise<DueNotification[]> {
    const { results } = await this.db
      .prepare(
        `UPDATE ifttt_notifications SET lease_until = ?1 + ?2
         WHERE user_id IN (SELECT user_id FROM ifttt_notifications WHERE due_at <= ?4 AND (lease_until IS NULL OR lease_until < ?1)
                           ORDER BY due_at LIMIT ?3)
         RETURNING user_id, due_at, attempts`,
      )
      .bind(now, leaseMs, limit, dueBy)
      .all<DueNotification>();
    return results;
  }

  /** Sent: the rows go, unless a new event made one due again meanwhile (its due_at changed). */
  settle(sent: DueNotification[]) {
    return this.db
      .prepare(
        `DELETE FROM ifttt_notifications WHERE EXISTS (SELECT 1 FROM json_each(?1)
           WHERE json_extract(value, '$.user_id') = ifttt_notifications.user_id AND json_extract(value, '$.due_at') = ifttt_notifications.due_at)`,
      )
      .bind(JSON.stringify(sent.map((n) => ({ user_id: n.user_id, due_at: n.due_at }))))
      .run();
  }

  /** Not sent: each is tried again at its `retry_at`, or dropped when null (IFTTT still polls on its own). */
  reschedule(failed: Array<{ user_id: string; retry_at: number | null }>) {
    return this.db.batch([
      this.db
        .prepare(
          `UPDATE ifttt_notifications SET due_at = r.retry_at, attempts = attempts + 1, lease_until = NULL
           FROM (SELECT json_extract(value, '$.user_id') AS user_id, json_extract(value, '$.retry_at') AS retry_at FROM json_each(?1)) AS r
           WHERE ifttt_notifications.user_id = r.user_id AND r.retry_at IS NOT NULL`,
        )
        .bind(JSON.stringify(failed)),
      this.db
        .prepare(
          `DELETE FROM ifttt_notifications WHERE user_id IN
             (SELECT json_extract(value, '$.user_id') FROM json_each(?1) WHERE json_extract(value, '$.retry_at') IS NULL)`,
        )
        .bind(JSON.stringify(failed)),
    ]);
  }
}
