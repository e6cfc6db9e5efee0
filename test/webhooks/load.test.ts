import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import type { Bindings } from "../../src/env";
import { linkedUser } from "../support/accounts";
import { route } from "../support/network";
import { receiver, subscribe, tick } from "../support/webhooks";

const N = 2_000;
const BUDGET = 500;

/** Seeds N finished sandbox calls and their pending bridge rows for one user, in a few statements. */
async function seed(userId: string, email: string) {
  const sandboxUser = (await env.DB.prepare("SELECT id FROM sandbox_users WHERE email = ?")
    .bind(email)
    .first<{ id: string }>())!.id;
  const now = Date.now();
  const request = JSON.stringify({
    submission: {
      task_category: "general",
      task_description: "Ask about store hours today",
      respondent_phone: "+14155551234",
    },
    timezone: "America/New_York",
  });
  const rows = Array.from({ length: N }, (_, i) => ({ id: `load-${crypto.randomUUID()}`, due: now - 60_000 + i }));
  for (let i = 0; i < N; i += 500) {
    const chunk = JSON.stringify(rows.slice(i, i + 500));
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO sandbox_calls (id, user_id, request, outcome, duration_seconds, created_at, ends_at, request_hash)
           SELECT json_extract(value, '$.id'), ?2, ?3, 'success', 60, ?4 - 120000, ?4 - 5000, 'x' FROM json_each(?1)`,
      ).bind(chunk, sandboxUser, request, now),
      env.DB.prepare(
        `INSERT INTO calls (id, user_id, status, request, created_at, updated_at, next_poll_at, upstream_id)
           SELECT json_extract(value, '$.id'), ?2, 'in_progress', ?3, ?4 - 120000, ?4, json_extract(value, '$.due'),
                  json_extract(value, '$.id') FROM json_each(?1)`,
      ).bind(chunk, userId, request, now),
    ]);
  }
  return rows.map((r) => r.id);
}

const pollsOf = async (ids: string[]) =>
  (
    await env.DB.prepare(
      "SELECT path, count(*) AS n FROM sandbox_requests WHERE method = 'GET' AND path LIKE '/v1/calls/load-%' GROUP BY path",
    ).all<{ path: string; n: number }>()
  ).results.filter((r) => ids.includes(r.path.slice("/v1/calls/".length)));

describe("the poller under load", () => {
  it(`${N} pending calls with a budget of ${BUDGET} upstream requests per tick: all resolved in ${N / BUDGET} ticks, oldest-due first, none skipped, none polled twice`, async () => {
    const user = await linkedUser();
    const hook = receiver();
    await subscribe(user.apiKey, { url: hook.url, events: ["call.completed"] });
    const ids = await seed(user.userId, user.email);
    // The sandbox in-process: the pool's self-binding (exports.default.fetch) gets slower with every
    // request it has served, which thousands of polls would feel; the bridge's code is the same.
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    route("http://bridge.test", (req) => app.fetch(req, env as unknown as Bindings, ctx));

    for (let t = 1; t <= N / BUDGET; t++) {
      await tick({ POLLER_UPSTREAM_BUDGET: String(BUDGET), WEBHOOKS_DELIVERY_BUDGET: String(BUDGET) });
      const polls = await pollsOf(ids);
      expect(polls).toHaveLength(t * BUDGET);
      expect(polls.every((p) => p.n === 1)).toBe(true);
      // Oldest-due first: exactly the first t * BUDGET calls (seeded in due order) are done.
      const done = await env.DB.prepare(
        "SELECT id FROM calls WHERE id LIKE 'load-%' AND next_poll_at IS NULL AND user_id = ?",
      )
        .bind(user.userId)
        .all<{ id: string }>();
      expect(new Set(done.results.map((r) => r.id))).toEqual(new Set(ids.slice(0, t * BUDGET)));
    }
    const left = await env.DB.prepare("SELECT count(*) AS n FROM calls WHERE user_id = ? AND next_poll_at IS NOT NULL")
      .bind(user.userId)
      .first<{ n: number }>();
    expect(left!.n).toBe(0);
    const events = await env.DB.prepare(
      "SELECT count(*) AS n FROM events WHERE user_id = ? AND type = 'call.completed'",
    )
      .bind(user.userId)
      .first<{ n: number }>();
    expect(events!.n).toBe(N);
    expect(new Set(hook.received.map((r) => JSON.parse(r.body).data.id)).size).toBe(N);
    expect(hook.received).toHaveLength(N);
  }, 180_000);
});
