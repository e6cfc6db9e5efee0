import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import type { Bindings } from "../../src/env";
import { type LinkedUser, linkedUser } from "../support/accounts";
import { placed, restaurant, upstreamIdOf } from "../support/calls";
import { faultyD1, signatureOf, type Target, targetOf } from "../support/faulty-d1";
import { BRIDGE_ORIGIN } from "../support/network";
import { consume, type Enqueued, holdPlacements, settlePlacements, takeEnqueued } from "../support/queues";
import { endSandboxCall, sandboxSignIn } from "../support/sandbox";
import { makeCallsDue, type Received, receiver, subscribe, tick } from "../support/webhooks";

/**
 * Storage faults. For each operation below, a dry run counts its D1 round trips (a statement, or a
 * batch: one transaction); then the operation runs once per round trip N with the Nth one failing.
 * For every N: a request answers a JSON 5xx with a request id, or does the whole work despite the
 * fault (never a hang, never a 4xx, never a half-done state a user can see); a consumer retries
 * its messages; a cron tick ends. Then, with the fault gone, what a client or the platform does
 * next (the retried request or message, the next cron tick, once the leases the failed run held
 * have run out) completes the work: one upstream call per idempotency key, one event per call and
 * type, every delivery delivered.
 *
 * Placing a call is two operations since calls are placed in the background (issue 19): the
 * request that accepts it, and the placement consumer that makes KallyAI's POST. Adding an
 * operation is one entry in CASES.
 */

/** What the operation under test did with the faulty database. */
type Acted =
  | { kind: "http"; res: Response; body: string }
  | { kind: "queue"; acked: number; retried: number }
  | { kind: "cron" };

interface Case<S> {
  name: string;
  /** The state the operation starts from, made with the healthy database. */
  setup(): Promise<S>;
  act(bindings: Bindings, s: S): Promise<Acted>;
  /** Keeps what a successful answer gave (e.g. the call's id). */
  answered?(s: S, body: string): void;
  /** After a failed run: what a user can see is all or nothing. */
  nothingHalfDone?(s: S): Promise<void>;
  /** With the fault gone: the client's retry, the retried message, the next tick. */
  recover(s: S): Promise<void>;
  /** The work is done, exactly once. */
  complete(s: S): Promise<void>;
}

const HANG_MS = 20_000;
/**
 * The round trips must be the same in every run, so none may depend on timing: the placing request
 * answers without waiting for the consumer's first word (which the test holds back anyway), and
 * the placement consumer's heartbeat (its first beat after the refusal grace; a failed beat is only
 * logged) does not beat during KallyAI's quick POST.
 */
const withDb = (db: D1Database): Bindings =>
  ({
    ...env,
    DB: db,
    UPSTREAM_TIMEOUT_MS: "10000",
    PLACEMENT_ANSWER_WINDOW_MS: "0",
    PLACEMENT_REFUSAL_GRACE_MS: "3000",
  }) as Bindings;

async function request(bindings: Bindings, path: string, init: RequestInit): Promise<Acted> {
  const ctx = createExecutionContext();
  const res = await app.request(BRIDGE_ORIGIN + path, init, bindings, ctx);
  const body = await res.text();
  await waitOnExecutionContext(ctx);
  return { kind: "http", res, body };
}

const jsonPost = (apiKey: string | null, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...headers },
  body: JSON.stringify(body),
});

/**
 * Time passes for the user: the leases a failed run held (placements, calls, deliveries) run out,
 * and the placements, polls and delivery attempts it rescheduled are long past due (the cron sends
 * a placement again a minute past due).
 */
async function timePasses(userId: string) {
  const now = Date.now() - 1;
  await env.DB.batch([
    env.DB.prepare("UPDATE call_placements SET due_at = ? WHERE user_id = ?").bind(now - 120_000, userId),
    env.DB.prepare(
      "UPDATE calls SET lease_until = NULL, next_poll_at = min(next_poll_at, ?) WHERE next_poll_at IS NOT NULL AND user_id = ?",
    ).bind(now, userId),
    env.DB.prepare(
      "UPDATE deliveries SET lease_until = NULL, next_attempt_at = ? WHERE state = 'pending' AND user_id = ?",
    ).bind(now, userId),
  ]);
}

const one = async <T>(sql: string, ...params: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...params)
    .first<T>()) as T;
const count = async (sql: string, ...params: unknown[]) => (await one<{ n: number }>(sql, ...params)).n;

/** Upstream calls KallyAI (the sandbox) holds under an idempotency key (the bridge sends `bridge-<call id>`). */
const upstreamCallsWithKey = (key: string) =>
  count("SELECT count(*) AS n FROM sandbox_calls WHERE idempotency_key = ?", key);

/** A user whose webhook receiver records every delivery. */
async function subscribedUser(): Promise<{ user: LinkedUser; hook: { received: Received[] } }> {
  const user = await linkedUser();
  const hook = receiver();
  await subscribe(user.apiKey, { url: hook.url, events: ["call.completed", "call.succeeded"] });
  return { user, hook };
}

/** Every event of the call once, each delivered (its webhook-id received at least once). */
async function eventsDelivered(callId: string, userId: string, hook: { received: Received[] }) {
  const events = await env.DB.prepare("SELECT id, type FROM events WHERE call_id = ? ORDER BY type")
    .bind(callId)
    .all<{ id: string; type: string }>();
  expect(events.results.map((e) => e.type)).toEqual(["call.completed", "call.succeeded"]);
  const deliveries = await env.DB.prepare("SELECT event_id, state FROM deliveries WHERE user_id = ? ORDER BY event_id")
    .bind(userId)
    .all<{ event_id: string; state: string }>();
  expect(deliveries.results).toEqual(
    events.results
      .map((e) => ({ event_id: e.id, state: "succeeded" }))
      .sort((a, b) => a.event_id.localeCompare(b.event_id)),
  );
  const received = new Set(hook.received.map((r) => r.headers["webhook-id"]));
  for (const e of events.results) expect(received.has(e.id), `delivery of ${e.type}`).toBe(true);
}

/** Runs the cron and the queue consumers until nothing is left to do (a few rounds). */
async function drain() {
  for (let round = 0; round < 3; round++) {
    await tick();
    for (const queue of ["placements", "polls", "deliveries"] as const) {
      const messages = takeEnqueued(queue).filter((m) => m.body.due <= Date.now() + 1000);
      if (messages.length)
        await consume(
          queue,
          messages.map((m) => m.body),
        );
    }
  }
}

/** A call that ended upstream and is due for a poll, its message ready for the poll consumer. */
async function endedCallDue(apiKey: string): Promise<{ id: string; message: Enqueued["body"] }> {
  const call = await placed(apiKey);
  // Placed now, whether or not an earlier run of the sweep holds placement messages back.
  const held = takeEnqueued("placements");
  if (held.length)
    await consume(
      "placements",
      held.map((m) => m.body),
    );
  await settlePlacements();
  await endSandboxCall(await upstreamIdOf(call.id));
  takeEnqueued("polls");
  await makeCallsDue([call.id]);
  const due = await one<{ next_poll_at: number }>("SELECT next_poll_at FROM calls WHERE id = ?", call.id);
  return { id: call.id, message: { kind: "poll", call: call.id, due: due.next_poll_at } };
}

/** The user's calls, and what KallyAI holds for each (by the upstream key the bridge sends). */
async function callsAndUpstream(userId: string) {
  const calls = await env.DB.prepare("SELECT id, upstream_id FROM calls WHERE user_id = ?")
    .bind(userId)
    .all<{ id: string; upstream_id: string | null }>();
  return Promise.all(
    calls.results.map(async (c) => ({ ...c, upstream: await upstreamCallsWithKey(`bridge-${c.id}`) })),
  );
}

/** The hourly allowance a user's sign-in key has spent (one slot per call placed). */
const allowanceSpent = async (user: LinkedUser) =>
  (
    await one<{ count: number } | null>(
      "SELECT count FROM rate_counters WHERE bucket = ?",
      `calls:${user.keyId}:${Math.floor(Date.now() / 3600_000)}`,
    )
  )?.count ?? 0;

const placeCall: Case<{ user: LinkedUser; key: string; task: string; answer?: { id: string } }> = {
  name: "placing a call (POST /v1/calls with an Idempotency-Key: the request that accepts it)",
  async setup() {
    holdPlacements(); // the placement consumer runs when the test says (recover, complete)
    return {
      user: await linkedUser(),
      key: `sweep-${crypto.randomUUID()}`,
      task: `Reserve a table (${crypto.randomUUID()})`,
    };
  },
  act: (b, s) =>
    request(b, "/v1/calls", jsonPost(s.user.apiKey, { ...restaurant, task: s.task }, { "idempotency-key": s.key })),
  answered(s, body) {
    s.answer = JSON.parse(body);
  },
  async nothingHalfDone(s) {
    // A call the user can see is one the bridge will place: it still has its placement, or KallyAI has it.
    const orphans = await count(
      `SELECT count(*) AS n FROM calls c WHERE c.user_id = ? AND c.upstream_id IS NULL
       AND NOT EXISTS (SELECT 1 FROM call_placements p WHERE p.call_id = c.id)`,
      s.user.userId,
    );
    expect(orphans).toBe(0);
  },
  async recover(s) {
    const again = await request(
      env,
      "/v1/calls",
      jsonPost(s.user.apiKey, { ...restaurant, task: s.task }, { "idempotency-key": s.key }),
    );
    if (again.kind === "http") {
      expect(again.res.status, again.body).toBe(202);
      placeCall.answered?.(s, again.body);
    }
  },
  async complete(s) {
    await timePasses(s.user.userId);
    await drain();
    const calls = await callsAndUpstream(s.user.userId);
    expect(calls).toEqual([{ id: expect.any(String), upstream_id: expect.any(String), upstream: 1 }]);
    if (s.answer) expect(s.answer.id).toBe(calls[0]?.id);
    expect(await allowanceSpent(s.user)).toBe(1);
  },
};

const placementBatch: Case<{ user: LinkedUser; callId: string; message: Enqueued["body"] }> = {
  name: "a placement consumer's batch (KallyAI's POST for an accepted call)",
  async setup() {
    holdPlacements();
    const user = await linkedUser();
    const call = await placed(user.apiKey);
    const [message] = takeEnqueued("placements");
    if (!message) throw new Error("no placement was enqueued");
    return { user, callId: call.id, message: message.body };
  },
  async act(b, s) {
    const r = await consume("placements", [s.message], 1, b);
    return { kind: "queue", acked: r.acked, retried: r.retried };
  },
  async nothingHalfDone(s) {
    // KallyAI's answer and the end of the placement are one step: the call has one or the other.
    const row = await one<{ upstream_id: string | null; placements: number }>(
      "SELECT upstream_id, (SELECT count(*) FROM call_placements WHERE call_id = ?1) AS placements FROM calls WHERE id = ?1",
      s.callId,
    );
    expect(row.upstream_id === null).toBe(row.placements === 1);
  },
  async recover(s) {
    // The queue retries the message; once its lease runs out, the cron sends it again.
    await consume("placements", [s.message]);
    await timePasses(s.user.userId);
    await drain();
  },
  async complete(s) {
    await drain();
    expect(await callsAndUpstream(s.user.userId)).toEqual([
      { id: s.callId, upstream_id: expect.any(String), upstream: 1 },
    ]);
    expect(await count("SELECT count(*) AS n FROM call_placements WHERE call_id = ?", s.callId)).toBe(0);
    expect(await allowanceSpent(s.user)).toBe(1);
  },
};

const pollBatch: Case<{
  user: LinkedUser;
  hook: { received: Received[] };
  call: { id: string; message: Enqueued["body"] };
}> = {
  name: "a poll consumer's batch (the call has ended; its events and deliveries are made)",
  async setup() {
    const { user, hook } = await subscribedUser();
    return { user, hook, call: await endedCallDue(user.apiKey) };
  },
  async act(b, s) {
    const r = await consume("polls", [s.call.message], 1, b);
    return { kind: "queue", acked: r.acked, retried: r.retried };
  },
  async nothingHalfDone(s) {
    const row = await one<{ next_poll_at: number | null }>("SELECT next_poll_at FROM calls WHERE id = ?", s.call.id);
    const events = await count("SELECT count(*) AS n FROM events WHERE call_id = ?", s.call.id);
    // The outcome and its events are one transaction: both or neither.
    expect(events === 0).toBe(row.next_poll_at !== null);
  },
  async recover(s) {
    // The queue retries the message; once leases run out, the cron takes over what it could not.
    await consume("polls", [s.call.message]);
    await timePasses(s.user.userId);
    await drain();
  },
  async complete(s) {
    await drain();
    expect(await one("SELECT status, next_poll_at FROM calls WHERE id = ?", s.call.id)).toEqual({
      status: "success",
      next_poll_at: null,
    });
    await eventsDelivered(s.call.id, s.user.userId, s.hook);
  },
};

const deliveryAttempt: Case<{
  user: LinkedUser;
  hook: { received: Received[] };
  callId: string;
  message: Enqueued["body"];
}> = {
  name: "a delivery attempt (the delivery consumer sends one event)",
  async setup() {
    const { user, hook } = await subscribedUser();
    const call = await endedCallDue(user.apiKey);
    await consume("polls", [call.message]);
    const [message, ...more] = takeEnqueued("deliveries");
    if (!message) throw new Error("no delivery was enqueued");
    // One delivery per sweep run: the other is sent now.
    for (const m of more) await consume("deliveries", [m.body]);
    return { user, hook, callId: call.id, message: message.body };
  },
  async act(b, s) {
    const r = await consume("deliveries", [s.message], 1, b);
    return { kind: "queue", acked: r.acked, retried: r.retried };
  },
  async recover(s) {
    await consume("deliveries", [s.message]);
    await timePasses(s.user.userId);
    await drain();
  },
  complete: (s) => drain().then(() => eventsDelivered(s.callId, s.user.userId, s.hook)),
};

const cronTick: Case<{ user: LinkedUser; hook: { received: Received[] }; callId: string; lostId: string }> = {
  name: "a cron tick (a placement whose message was lost, an ended call due, its deliveries)",
  async setup() {
    const { user, hook } = await subscribedUser();
    const call = await endedCallDue(user.apiKey);
    // A call accepted whose placement message was lost: a minute past due, the cron sends it again.
    holdPlacements();
    const lost = await placed(user.apiKey, {
      ...restaurant,
      task: `Ask about a lost message (${crypto.randomUUID()})`,
    });
    takeEnqueued("placements");
    await env.DB.prepare("UPDATE call_placements SET due_at = ? WHERE call_id = ?")
      .bind(Date.now() - 61_000, lost.id)
      .run();
    takeEnqueued("polls");
    return { user, hook, callId: call.id, lostId: lost.id };
  },
  async act(b) {
    await tick({ DB: b.DB, UPSTREAM_TIMEOUT_MS: "10000" });
    return { kind: "cron" };
  },
  async recover(s) {
    await timePasses(s.user.userId);
    await drain();
  },
  async complete(s) {
    await drain();
    expect(await upstreamCallsWithKey(`bridge-${s.lostId}`)).toBe(1);
    expect(await count("SELECT count(*) AS n FROM call_placements WHERE call_id = ?", s.lostId)).toBe(0);
    await eventsDelivered(s.callId, s.user.userId, s.hook);
  },
};

const createKey: Case<{ user: LinkedUser; name: string; made?: number }> = {
  name: "a key creation (POST /v1/keys)",
  setup: async () => ({ user: await linkedUser(), name: `sweep ${crypto.randomUUID()}` }),
  act: (b, s) => request(b, "/v1/keys", jsonPost(s.user.apiKey, { name: s.name, scopes: ["calls:read"] })),
  async nothingHalfDone(s) {
    expect(
      await count("SELECT count(*) AS n FROM api_keys WHERE user_id = ? AND name = ?", s.user.userId, s.name),
    ).toBe(0);
  },
  async recover(s) {
    const again = await request(env, "/v1/keys", jsonPost(s.user.apiKey, { name: s.name, scopes: ["calls:read"] }));
    if (again.kind === "http") expect(again.res.status, again.body).toBe(201);
  },
  async complete(s) {
    expect(
      await count("SELECT count(*) AS n FROM api_keys WHERE user_id = ? AND name = ?", s.user.userId, s.name),
    ).toBe(1);
    // The mint slot of a failed attempt was given back: one per key made.
    const hour = Math.floor(Date.now() / 3600_000);
    expect(await one("SELECT count FROM rate_counters WHERE bucket = ?", `mint:${s.user.userId}:${hour}`)).toEqual({
      count: 1,
    });
  },
};

/** The bridge's user linked to the sandbox account of an email (?1). */
const USERS_OF = "SELECT u.id FROM users u JOIN sandbox_users su ON su.id = u.kallyai_account WHERE su.email = ?1";

const link: Case<{ email: string; refreshToken: string; ip: string; linked?: { key_id: string; user_id: string } }> = {
  name: "a link (POST /v1/link with a refresh token)",
  async setup() {
    const email = `sweep-${crypto.randomUUID()}@example.com`;
    const { refreshToken } = await sandboxSignIn(email);
    return { email, refreshToken, ip: crypto.randomUUID() };
  },
  act: (b, s) =>
    request(b, "/v1/link", jsonPost(null, { refresh_token: s.refreshToken }, { "cf-connecting-ip": s.ip })),
  answered(s, body) {
    s.linked = JSON.parse(body);
  },
  async nothingHalfDone(s) {
    // The account, its tokens and its first key: all or nothing.
    const row = await one<{ users: number; vaults: number; keys: number }>(
      `SELECT (SELECT count(*) FROM users WHERE id IN (${USERS_OF})) AS users,
              (SELECT count(*) FROM vault WHERE user_id IN (${USERS_OF})) AS vaults,
              (SELECT count(*) FROM api_keys WHERE user_id IN (${USERS_OF})) AS keys`,
      s.email,
    );
    expect([
      { users: 0, vaults: 0, keys: 0 },
      { users: 1, vaults: 1, keys: 1 },
    ]).toContainEqual(row);
  },
  async recover(s) {
    const again = await request(
      env,
      "/v1/link",
      jsonPost(null, { refresh_token: s.refreshToken }, { "cf-connecting-ip": s.ip }),
    );
    if (again.kind === "http") {
      expect(again.res.status, again.body).toBe(201);
      link.answered?.(s, again.body);
    }
  },
  async complete(s) {
    if (!s.linked) throw new Error("the link answered no key");
    const key = await one<{ user_id: string } | null>("SELECT user_id FROM api_keys WHERE id = ?", s.linked.key_id);
    expect(key?.user_id).toBe(s.linked.user_id);
    expect(await count("SELECT count(*) AS n FROM vault WHERE user_id = ?", s.linked.user_id)).toBe(1);
  },
};

const CASES: Array<Case<unknown>> = [placeCall, placementBatch, pollBatch, deliveryAttempt, cronTick, createKey, link];

async function runOnce<S>(c: Case<S>, target: Target | null) {
  const s = await c.setup();
  const { db, steps } = faultyD1(env.DB, target);
  const acted = await Promise.race([
    c.act(withDb(db), s),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`hung for ${HANG_MS} ms`)), HANG_MS)),
  ]);
  return { s, acted, steps };
}

describe("D1 storage faults, swept over every round trip", () => {
  for (const c of CASES) {
    it(c.name, { timeout: 600_000 }, async () => {
      const dry = await runOnce(c, null);
      if (dry.acted.kind === "http") c.answered?.(dry.s, dry.acted.body);
      await c.complete(dry.s);
      const absorbed: string[] = [];
      const total = dry.steps.length;
      expect(total).toBeGreaterThan(0);
      const unreached: string[] = [];
      for (let n = 1; n <= total; n++) {
        const target = targetOf(dry.steps, n);
        const { s, acted, steps } = await runOnce(c, target);
        const failed = steps.find((step) => step.failed);
        const what = `${c.name}, round trip ${n} of ${total} failing (${target.signature} #${target.occurrence})`;
        // A round trip a run did not reach (its work went another way) is reported, not skipped silently.
        if (!failed) unreached.push(`${n}: ${target.signature}`);
        if (acted.kind === "http") {
          const { res, body } = acted;
          expect(res.headers.get("x-request-id"), what).toBeTruthy();
          expect(res.status, `${what}: ${body}`).not.toBeLessThan(200);
          if (res.status >= 500) {
            expect(res.headers.get("content-type"), what).toMatch(/^application\/json/);
            expect(JSON.parse(body).error?.code, `${what}: ${body}`).toBe("storage_unavailable");
            expect(res.status, what).toBe(503);
            expect(Number(res.headers.get("retry-after")), what).toBeGreaterThan(0);
            await c.nothingHalfDone?.(s);
            await c.recover(s);
          } else {
            // The fault was absorbed (a retry, or a write after the answer): the work is done already.
            expect(res.status, `${what}: ${body}`).toBeLessThan(300);
            c.answered?.(s, body);
            if (failed) absorbed.push(signatureOf(failed));
          }
        } else {
          if (acted.kind === "queue") expect(acted.acked + acted.retried, what).toBe(1);
          await c.nothingHalfDone?.(s);
          await c.recover(s);
        }
        try {
          await c.complete(s);
        } catch (err) {
          throw new Error(`${what}: ${(err as Error).message}`);
        }
      }
      expect(unreached, "round trips of the dry run that no faulty run reached").toEqual([]);
      console.log(
        `D1 fault sweep — ${c.name}: ${total} round trips, each failed once; absorbed without an error: ${absorbed.length}\n  ${dry.steps.map(signatureOf).join("\n  ")}`,
      );
    });
  }
});
