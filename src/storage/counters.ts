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

  /** Gives back a slot taken for work that did not happen (e.g. the upstream refused the call). */
  give(bucket: string) {
    return this.giveStatement(bucket).run();
  }

  /**
   * The same, as a statement for a batch; with `whileRecordable`, only if that call is still to be
   * recorded in the batch (not finalised, no placement left), so two racing settlements of one
   * call give back one slot.
   */
  giveStatement(bucket: string, whileRecordable?: string) {
    if (!whileRecordable)
      return this.db.prepare("UPDATE rate_counters SET count = count - 1 WHERE bucket = ? AND count > 0").bind(bucket);
    return this.db
      .prepare(
        `UPDATE rate_counters SET count = count - 1 WHERE bucket = ?1 AND count > 0
         AND EXISTS (SELECT 1 FROM calls c WHERE c.id = ?2 AND c.next_poll_at IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM call_placements p WHERE p.call_id = c.id))`,
      )
      .bind(bucket, whileRecordable);
  }

  deleteExpired(now: number) {
    return this.db.prepare("DELETE FROM rate_counters WHERE expires_at < ?").bind(now).run();
  }
}
