/** D1 queries for webhook subscriptions, their deliveries and delivery attempts. Times are epoch milliseconds. */
import type { Scheduled } from "./events";
import { countOf } from "./rows";

export interface WebhookRow {
  id: string;
  user_id: string;
  kind: "webhook" | "ifttt";
  url: string;
  ifttt_event: string | null;
  events: string;
  description: string | null;
  key_id: string;
  secret: string;
  state: "active" | "disabled";
  disabled_reason: string | null;
  disabled_at: number | null;
  failing_since: number | null;
  created_at: number;
  updated_at: number;
}

export interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  user_id: string;
  state: "pending" | "succeeded" | "failed";
  attempts: number;
  next_attempt_at: number | null;
  lease_until: number | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  at: number;
  status_code: number | null;
  error: string | null;
  /** The start of the receiver's answer (domain/deliveries.ts, responseStart). */
  response_body: string | null;
  duration_ms: number;
}

/** A test delivery ("Send a test event"): one attempt, recorded apart from real deliveries. */
export interface WebhookTestRow {
  id: string;
  webhook_id: string;
  event_type: string;
  request_body: string;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
  duration_ms: number;
  at: number;
}

/** A delivery with what sending it needs: its subscription and its event. */
export interface DueDelivery extends DeliveryRow {
  event_type: string;
  payload: string;
  webhook: WebhookRow;
}

/** The result of one attempt, as recorded. */
export interface AttemptResult extends AttemptRow {
  webhook_id: string;
  state: DeliveryRow["state"];
  next_attempt_at: number | null;
  /** ok: clears the failure streak; failed: starts or continues it; gone (410): removes the subscription. */
  verdict: "ok" | "failed" | "gone";
}

const DELIVERY_WITH = `SELECT d.*, e.type AS event_type, e.payload AS payload, json_object(
    'id', w.id, 'user_id', w.user_id, 'kind', w.kind, 'url', w.url, 'ifttt_event', w.ifttt_event, 'events', w.events,
    'description', w.description, 'key_id', w.key_id, 'secret', w.secret, 'state', w.state, 'disabled_reason', w.disabled_reason,
    'disabled_at', w.disabled_at, 'failing_since', w.failing_since, 'created_at', w.created_at, 'updated_at', w.updated_at) AS webhook_json
  FROM deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id`;

const withWebhook = (r: DeliveryRow & { event_type: string; payload: string; webhook_json: string }): DueDelivery => {
  const { webhook_json, ...rest } = r;
  return { ...rest, webhook: JSON.parse(webhook_json) as WebhookRow };
};

export class Webhooks {
  constructor(private readonly db: D1Database) {}

  insert(row: Omit<WebhookRow, "state" | "disabled_reason" | "disabled_at" | "failing_since" | "updated_at">) {
    return this.db
      .prepare(
        `INSERT INTO webhooks (id, user_id, kind, url, ifttt_event, events, description, key_id, secret, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)`,
      )
      .bind(
        row.id,
        row.user_id,
        row.kind,
        row.url,
        row.ifttt_event,
        row.events,
        row.description,
        row.key_id,
        row.secret,
        row.created_at,
      )
      .run();
  }

  get(id: string) {
    return this.db.prepare("SELECT * FROM webhooks WHERE id = ?").bind(id).first<WebhookRow>();
  }

  list(userId: string) {
    return this.db
      .prepare("SELECT * FROM webhooks WHERE user_id = ? ORDER BY created_at DESC, id DESC")
      .bind(userId)
      .all<WebhookRow>();
  }

  async countActive(userId: string): Promise<number> {
    return countOf(
      this.db.prepare("SELECT count(*) AS n FROM webhooks WHERE user_id = ? AND state = 'active'").bind(userId),
    );
  }

  /** Removes subscriptions with their deliveries and attempts. */
  delete(ids: string[]) {
    const json = JSON.stringify(ids);
    return this.db.batch([
      this.db
        .prepare(
          "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE webhook_id IN (SELECT value FROM json_each(?)))",
        )
        .bind(json),
      this.db.prepare("DELETE FROM deliveries WHERE webhook_id IN (SELECT value FROM json_each(?))").bind(json),
      this.db.prepare("DELETE FROM webhook_tests WHERE webhook_id IN (SELECT value FROM json_each(?))").bind(json),
      this.db.prepare("DELETE FROM webhooks WHERE id IN (SELECT value FROM json_each(?))").bind(json),
    ]);
  }

  /** Disables every active subscription of the user (e.g. on unlink); their pending deliveries end failed. */
  disableAll(userId: string, reason: string, now: number) {
    return this.db.batch([
      this.db
        .prepare(
          "UPDATE webhooks SET state = 'disabled', disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE user_id = ? AND state = 'active'",
        )
        .bind(reason, now, now, userId),
      this.db
        .prepare(
          "UPDATE deliveries SET state = 'failed', next_attempt_at = NULL, last_error = ?, updated_at = ? WHERE user_id = ? AND state = 'pending'",
        )
        .bind(`not sent: ${reason}`, now, userId),
    ]);
  }

  /**
   * Turns a disabled subscription back on, with a clean failure streak: the row as enabled now, or
   * null if it was not disabled.
   */
  enable(id: string, userId: string, now: number) {
    return this.db
      .prepare(
        "UPDATE webhooks SET state = 'active', disabled_reason = NULL, disabled_at = NULL, failing_since = NULL, updated_at = ? WHERE id = ? AND user_id = ? AND state = 'disabled' RETURNING *",
      )
      .bind(now, id, userId)
      .first<WebhookRow>();
  }

  /** Subscriptions whose secret is sealed with another vault key (for re-encryption), by id. */
  notOnKey(keyId: string, afterId: string, limit: number) {
    return this.db
      .prepare("SELECT id, user_id, key_id, secret FROM webhooks WHERE key_id != ? AND id > ? ORDER BY id LIMIT ?")
      .bind(keyId, afterId, limit)
      .all<Pick<WebhookRow, "id" | "user_id" | "key_id" | "secret">>();
  }

  async countNotOnKey(keyId: string): Promise<number> {
    return countOf(this.db.prepare("SELECT count(*) AS n FROM webhooks WHERE key_id != ?").bind(keyId));
  }

  /** Replaces a sealed secret if it is still the one that was read. */
  async rewrap(
    id: string,
    old: { keyId: string; secret: string },
    sealed: { keyId: string; ciphertext: string },
  ): Promise<boolean> {
    const r = await this.db
      .prepare("UPDATE webhooks SET key_id = ?, secret = ? WHERE id = ? AND key_id = ? AND secret = ?")
      .bind(sealed.keyId, sealed.ciphertext, id, old.keyId, old.secret)
      .run();
    return r.meta.changes === 1;
  }

  /** Takes up to `limit` deliveries due at `dueBy` or earlier, oldest-due first, under a lease (one statement). */
  async claimDue(now: number, limit: number, leaseMs: number, dueBy = now): Promise<DueDelivery[]> {
    const { results: ids } = await this.db
      .prepare(
        `UPDATE deliveries SET lease_until = ?1 + ?2
         WHERE id IN (SELECT id FROM deliveries WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ?4 AND (lease_until IS NULL OR lease_until < ?1)
                        AND webhook_id IN (SELECT id FROM webhooks WHERE state = 'active')
                      ORDER BY next_attempt_at LIMIT ?3)
         RETURNING id`,
      )
      .bind(now, leaseMs, limit, dueBy)
      .all<{ id: string }>();
    return this.withEvents(ids);
  }

  /**
   * Takes the deliveries whose attempt scheduled at `due` is still the next one (a queue message
   * each), under the same lease: a duplicate or stale message takes nothing.
   */
  async claimScheduled(items: Scheduled[], now: number, leaseMs: number): Promise<DueDelivery[]> {
    if (items.length === 0) return [];
    const { results: ids } = await this.db
      .prepare(
        `UPDATE deliveries SET lease_until = ?2 + ?3
         WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1)) AND (lease_until IS NULL OR lease_until < ?2)
           AND next_attempt_at IN (SELECT json_extract(value, '$.due') FROM json_each(?1) WHERE json_extract(value, '$.id') = deliveries.id)
           AND webhook_id IN (SELECT id FROM webhooks WHERE state = 'active')
         RETURNING id`,
      )
      .bind(JSON.stringify(items), now, leaseMs)
      .all<{ id: string }>();
    return this.withEvents(ids);
  }

  private async withEvents(ids: Array<{ id: string }>): Promise<DueDelivery[]> {
    if (ids.length === 0) return [];
    const { results } = await this.db
      .prepare(`${DELIVERY_WITH} WHERE d.id IN (SELECT value FROM json_each(?)) ORDER BY d.next_attempt_at`)
      .bind(JSON.stringify(ids.map((r) => r.id)))
      .all<DeliveryRow & { event_type: string; payload: string; webhook_json: string }>();
    return results.map(withWebhook);
  }

  /** Ends failed the deliveries whose message the queue gave up on, if that attempt is still the next one. */
  failScheduled(items: Scheduled[], now: number, error: string) {
    return this.db
      .prepare(
        `UPDATE deliveries SET state = 'failed', next_attempt_at = NULL, lease_until = NULL, last_error = ?3, updated_at = ?2
         WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1)) AND state = 'pending'
           AND next_attempt_at IN (SELECT json_extract(value, '$.due') FROM json_each(?1) WHERE json_extract(value, '$.id') = deliveries.id)`,
      )
      .bind(JSON.stringify(items), now, error)
      .run();
  }

  /** One delivery with its subscription and event, for a manual retry. */
  async delivery(id: string): Promise<DueDelivery | null> {
    const row = await this.db
      .prepare(`${DELIVERY_WITH} WHERE d.id = ?`)
      .bind(id)
      .first<DeliveryRow & { event_type: string; payload: string; webhook_json: string }>();
    return row ? withWebhook(row) : null;
  }

  /** Leases one delivery for a manual retry; false while a tick is sending it. */
  async lease(id: string, now: number, leaseMs: number): Promise<boolean> {
    const r = await this.db
      .prepare("UPDATE deliveries SET lease_until = ? WHERE id = ? AND (lease_until IS NULL OR lease_until < ?)")
      .bind(now + leaseMs, id, now)
      .run();
    return r.meta.changes === 1;
  }

  /**
   * Records attempts in one transaction: the attempts, the deliveries' new state, the failure
   * streaks of the subscriptions, disabling those failing for `disableAfterMs`, and removing
   * those that answered 410 Gone.
   */
  async recordAttempts(
    results: AttemptResult[],
    now: number,
    disableAfterMs: number,
    disabledReason: string,
  ): Promise<void> {
    if (results.length === 0) return;
    const kept = results.filter((r) => r.verdict !== "gone");
    const webhookIds = (verdict: AttemptResult["verdict"]) => [
      ...new Set(results.filter((r) => r.verdict === verdict).map((r) => r.webhook_id)),
    ];
    const failing = JSON.stringify(webhookIds("failed"));
    const statements: D1PreparedStatement[] = [];
    if (kept.length > 0) {
      const json = JSON.stringify(kept);
      statements.push(
        this.db
          .prepare(
            `INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, error, duration_ms, response_body)
             SELECT json_extract(value, '$.delivery_id'), json_extract(value, '$.attempt'), json_extract(value, '$.at'),
                    json_extract(value, '$.status_code'), json_extract(value, '$.error'), json_extract(value, '$.duration_ms'),
                    json_extract(value, '$.response_body')
             FROM json_each(?1) WHERE EXISTS (SELECT 1 FROM deliveries WHERE deliveries.id = json_extract(value, '$.delivery_id'))`,
          )
          .bind(json),
        this.db
          .prepare(
            `UPDATE deliveries SET state = u.state, attempts = u.attempt, next_attempt_at = u.next_attempt_at, lease_until = NULL,
               last_status = u.status_code, last_error = u.error, updated_at = ?2
             FROM (SELECT json_extract(value, '$.delivery_id') AS id, json_extract(value, '$.state') AS state, json_extract(value, '$.attempt') AS attempt,
                          json_extract(value, '$.next_attempt_at') AS next_attempt_at, json_extract(value, '$.status_code') AS status_code,
                          json_extract(value, '$.error') AS error FROM json_each(?1)) AS u
             WHERE deliveries.id = u.id`,
          )
          .bind(json, now),
        this.db
          .prepare(
            "UPDATE webhooks SET failing_since = NULL, updated_at = ?2 WHERE id IN (SELECT value FROM json_each(?1)) AND failing_since IS NOT NULL",
          )
          .bind(JSON.stringify(webhookIds("ok")), now),
        this.db
          .prepare(
            "UPDATE webhooks SET failing_since = coalesce(failing_since, ?2), updated_at = ?2 WHERE id IN (SELECT value FROM json_each(?1))",
          )
          .bind(failing, now),
        this.db
          .prepare(
            `UPDATE webhooks SET state = 'disabled', disabled_reason = ?3, disabled_at = ?2, updated_at = ?2
             WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'active' AND failing_since <= ?2 - ?4`,
          )
          .bind(failing, now, disabledReason, disableAfterMs),
        this.db
          .prepare(
            `UPDATE deliveries SET state = 'failed', next_attempt_at = NULL, last_error = coalesce(last_error, 'not sent: subscription disabled'), updated_at = ?2
             WHERE state = 'pending' AND webhook_id IN (SELECT id FROM webhooks WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'disabled')`,
          )
          .bind(failing, now),
      );
    }
    if (statements.length > 0) await this.db.batch(statements);
    const gone = webhookIds("gone");
    if (gone.length > 0) await this.delete(gone);
  }

  /** A page of a subscription's deliveries, newest first, with their attempts; `before` is the last row of the previous page. */
  async deliveries(
    webhookId: string,
    limit: number,
    before?: { createdAt: number; id: string },
  ): Promise<Array<DeliveryRow & { event_type: string; payload: string; attempt_log: AttemptRow[] }>> {
    const { results } = await this.db
      .prepare(
        `SELECT d.*, e.type AS event_type, e.payload AS payload FROM deliveries d JOIN events e ON e.id = d.event_id
         WHERE d.webhook_id = ?1 AND (?2 IS NULL OR d.created_at < ?2 OR (d.created_at = ?2 AND d.id < ?3))
         ORDER BY d.created_at DESC, d.id DESC LIMIT ?4`,
      )
      .bind(webhookId, before?.createdAt ?? null, before?.id ?? null, limit)
      .all<DeliveryRow & { event_type: string; payload: string }>();
    if (results.length === 0) return [];
    const { results: attempts } = await this.db
      .prepare("SELECT * FROM delivery_attempts WHERE delivery_id IN (SELECT value FROM json_each(?)) ORDER BY attempt")
      .bind(JSON.stringify(results.map((r) => r.id)))
      .all<AttemptRow>();
    return results.map((d) => ({ ...d, attempt_log: attempts.filter((a) => a.delivery_id === d.id) }));
  }

  /** Records a test delivery and keeps only the newest `keep` of its subscription. */
  recordTest(row: WebhookTestRow, keep: number) {
    return this.db.batch([
      this.db
        .prepare(
          `INSERT INTO webhook_tests (id, webhook_id, event_type, request_body, status_code, error, response_body, duration_ms, at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .bind(
          row.id,
          row.webhook_id,
          row.event_type,
          row.request_body,
          row.status_code,
          row.error,
          row.response_body,
          row.duration_ms,
          row.at,
        ),
      this.db
        .prepare(
          `DELETE FROM webhook_tests WHERE webhook_id = ?1 AND id NOT IN
             (SELECT id FROM webhook_tests WHERE webhook_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2)`,
        )
        .bind(row.webhook_id, keep),
    ]);
  }

  /** A subscription's test deliveries, newest first. */
  tests(webhookId: string) {
    return this.db
      .prepare("SELECT * FROM webhook_tests WHERE webhook_id = ? ORDER BY at DESC, id DESC")
      .bind(webhookId)
      .all<WebhookTestRow>();
  }
}
