/** Fixed-window counters in D1: exact under concurrency, across isolates and locations. */
export class Counters {
  constructor(private readonly db: D1Database) {}

  /**
   * Counts one hit in `bucket` unless it already holds `limit`. One statement, so concurrent
   * requests cannot both take the last slot.
   */
  async take(bucket: string, limit: number, expiresAt: number): Promise<boolean> {
    const r = await this.db
      .prepare(
        `INSERT INTO rate_counters (bucket, count, expires_at) VALUES (?1, 1, ?3)
         ON CONFLICT (bucket) DO UPDATE SET count = count + 1 WHERE count < ?2`,
      )
      .bind(bucket, limit, expiresAt)
      .run();
    return r.meta.changes === 1 && limit > 0;
  }

  /**
   * Counts one hit in every bucket, or in none when any already holds its limit: one statement
   * (its SELECT reads the counters before anything is written), so two requests can never both
   * take a last slot, and a request refused by one bucket takes nothing from the others.
   */
  async takeAll(buckets: Array<{ bucket: string; limit: number }>, expiresAt: number): Promise<boolean> {
    const r = await this.db
      .prepare(
        `INSERT INTO rate_counters (bucket, count, expires_at)
         SELECT json_extract(value, '$.bucket'), 1, ?2 FROM json_each(?1)
         WHERE NOT EXISTS (
           SELECT 1 FROM json_each(?1) AS wanted
           LEFT JOIN rate_counters AS held ON held.bucket = json_extract(wanted.value, '$.bucket')
           WHERE coalesce(held.count, 0) >= json_extract(wanted.value, '$.limit'))
         ON CONFLICT (bucket) DO UPDATE SET count = count + 1`,
      )
      .bind(JSON.stringify(buckets), expiresAt)
      .run();
    return buckets.length > 0 && r.meta.changes === buckets.length;
  }

  /** Which of the buckets are at their limit (to say which limit refused a call). */
  async spent(buckets: Array<{ bucket: string; limit: number }>): Promise<boolean[]> {
    const { results } = await this.db
      .prepare(
        `SELECT coalesce(held.count, 0) >= json_extract(wanted.value, '$.limit') AS spent
         FROM json_each(?1) AS wanted LEFT JOIN rate_counters AS held ON held.bucket = json_extract(wanted.value, '$.bucket')
         ORDER BY wanted.key`,
      )
      .bind(JSON.stringify(buckets))
      .all<{ spent: number }>();
    return results.map((r) => r.spent === 1);
  }

  /** Gives back the slots taken for work that did not happen (e.g. the upstream refused the call). */
  give(buckets: string) {
    return this.giveStatement(buckets).run();
  }

  /**
   * The same, as a statement for a batch; `buckets` is one bucket or several, space-separated (a
   * call's, one per limit of its chain: domain/guard.ts). With `whileRecordable`, only if that call
   * is still to be recorded in the batch (not finalised, no placement left), so two racing
   * settlements of one call give back one slot.
   */
  giveStatement(buckets: string, whileRecordable?: string) {
    const list = JSON.stringify(buckets.split(" ").filter(Boolean));
    if (!whileRecordable)
      return this.db
        .prepare(
          "UPDATE rate_counters SET count = count - 1 WHERE bucket IN (SELECT value FROM json_each(?)) AND count > 0",
        )
        .bind(list);
    return this.db
      .prepare(
        `UPDATE rate_counters SET count = count - 1 WHERE bucket IN (SELECT value FROM json_each(?1)) AND count > 0
         AND EXISTS (SELECT 1 FROM calls c WHERE c.id = ?2 AND c.next_poll_at IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM call_placements p WHERE p.call_id = c.id))`,
      )
      .bind(list, whileRecordable);
  }

  deleteExpired(now: number) {
    return this.db.prepare("DELETE FROM rate_counters WHERE expires_at < ?").bind(now).run();
  }
}
