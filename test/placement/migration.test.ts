import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

/**
 * Migrations 0008 and 0009 on a database written by the earlier bridge (the test's second, empty
 * database, SCHEMA_CHECK: storage is isolated per test file): calls keep their ids, and a
 * placement left half-done by the synchronous path becomes a background one under the same key.
 */
const migrations = env.TEST_MIGRATIONS as Array<{ name: string; queries: string[] }>;
const db = env.SCHEMA_CHECK;

async function apply(which: (name: string) => boolean) {
  for (const m of migrations.filter((m) => which(m.name))) for (const q of m.queries) await db.prepare(q).run();
}

describe("migrations 0008 and 0009", () => {
  it("keep every earlier call under its id (KallyAI's), and turn a half-done placement into a queued one", async () => {
    await apply((name) => name < "0008");
    const now = Date.now();
    await db.batch([
      db
        .prepare("INSERT INTO users (id, link_state, created_at, updated_at) VALUES ('usr_1', 'linked', ?, ?)")
        .bind(now, now),
      db
        .prepare(
          "INSERT INTO calls (id, user_id, status, request, created_at, updated_at, next_poll_at) VALUES ('kallyai-1', 'usr_1', 'in_progress', '{}', ?, ?, ?)",
        )
        .bind(now, now, now + 10_000),
      db
        .prepare(
          `INSERT INTO placements (user_id, idempotency_key, request_hash, request, state, call_id, response, lease_until, created_at)
           VALUES ('usr_1', 'done-key', 'h1', '{}', 'placed', 'kallyai-1', '{"id":"kallyai-1"}', ?, ?)`,
        )
        .bind(now, now),
      db
        .prepare(
          `INSERT INTO placements (user_id, idempotency_key, request_hash, request, key_id, state, lease_until, created_at)
           VALUES ('usr_1', 'half-done', 'h2', '{"submission":{"respondent_phone":"+14155551234"},"timezone":"UTC"}', 'key_1', 'placing', ?, ?)`,
        )
        .bind(now, now),
      db
        .prepare(
          "INSERT INTO vault (user_id, key_id, refresh_token, version, updated_at) VALUES ('usr_1', 'k1', 'sealed', 0, ?)",
        )
        .bind(now),
    ]);
    await apply((name) => name >= "0008");

    expect(await db.prepare("SELECT id, upstream_id FROM calls WHERE id = 'kallyai-1'").first()).toEqual({
      id: "kallyai-1",
      upstream_id: "kallyai-1",
    });
    const record = await db
      .prepare("SELECT state, call_id, response FROM placements WHERE idempotency_key = 'half-done'")
      .first<{ state: string; call_id: string; response: string }>();
    expect(record!.state).toBe("placed");
    expect(record!.call_id).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.parse(record!.response)).toEqual({
      id: record!.call_id,
      status: "queued",
      created_at: new Date(now).toISOString(),
      links: {
        self: `/v1/calls/${record!.call_id}`,
        transcript: `/v1/calls/${record!.call_id}/transcript`,
        recording: `/v1/calls/${record!.call_id}/recording`,
        cancel: `/v1/calls/${record!.call_id}/cancel`,
      },
    });
    expect(
      await db.prepare("SELECT status, upstream_id, key_id FROM calls WHERE id = ?").bind(record!.call_id).first(),
    ).toEqual({
      status: "queued",
      upstream_id: null,
      key_id: "key_1",
    });
    // Placed again under the key the old path sent KallyAI, so KallyAI answers the call it may have.
    expect(
      await db
        .prepare("SELECT upstream_key, state, answered FROM call_placements WHERE call_id = ?")
        .bind(record!.call_id)
        .first(),
    ).toEqual({ upstream_key: "half-done", state: "queued", answered: 1 });
    expect(await db.prepare("SELECT refresh_grant FROM vault WHERE user_id = 'usr_1'").first()).toEqual({
      refresh_grant: null,
    });
  });
});
