import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Bindings } from "../../src/env";
import worker from "../../src/index";
import { withKey } from "./accounts";
import { bridge, json } from "./bridge";
import { route } from "./network";

/**
 * Runs the Worker's cron handler once, as Cloudflare would, with one sweep per tick by default
 * (POLLER_SWEEP_SECONDS=0) so a test decides when time moves, taking every call and delivery
 * due (POLLER_OVERDUE_SECONDS=0) rather than only those whose queue message is 30 s late.
 */
export async function tick(vars: Partial<Bindings> = {}) {
  const custom = { ...env, POLLER_SWEEP_SECONDS: "0", POLLER_OVERDUE_SECONDS: "0", ...vars } as Bindings;
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), custom, ctx);
  await waitOnExecutionContext(ctx);
}

export interface Received {
  at: number;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A fake receiver on `origin` that records every request and answers with `answer(n)` (n = 1, 2, …). */
export function receiver(
  origin = `https://receiver-${crypto.randomUUID().slice(0, 8)}.test`,
  answer: (n: number, req: Request) => Response | Promise<Response> = () => new Response("ok"),
) {
  const received: Received[] = [];
  route(origin, async (req) => {
    received.push({ at: Date.now(), url: req.url, headers: Object.fromEntries(req.headers), body: await req.text() });
    return answer(received.length, req);
  });
  return { received, url: `${origin}/hooks/kallyai` };
}

export async function subscribe(apiKey: string, body: Record<string, unknown>) {
  const res = await json("/v1/webhooks", body, withKey(apiKey));
  if (res.status !== 201) throw new Error(`subscribing answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { id: string; url: string; events: string[]; secret: string; kind: string };
}

export const getJson = async <T = Record<string, unknown>>(apiKey: string, path: string): Promise<T> => {
  const res = await bridge(path, withKey(apiKey));
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
};

/** Makes the user's pending deliveries due now, as if their backoff had passed. */
export const makeDeliveriesDue = (userId: string) =>
  env.DB.prepare("UPDATE deliveries SET next_attempt_at = ? WHERE next_attempt_at IS NOT NULL AND user_id = ?")
    .bind(Date.now() - 1, userId)
    .run();

/** Makes calls due for a poll now. */
export const makeCallsDue = (ids?: string[]) =>
  ids
    ? env.DB.prepare(
        "UPDATE calls SET next_poll_at = ? WHERE next_poll_at IS NOT NULL AND id IN (SELECT value FROM json_each(?))",
      )
        .bind(Date.now() - 1, JSON.stringify(ids))
        .run()
    : env.DB.prepare("UPDATE calls SET next_poll_at = ? WHERE next_poll_at IS NOT NULL")
        .bind(Date.now() - 1)
        .run();

export const callRow = (id: string) =>
  env.DB.prepare("SELECT * FROM calls WHERE id = ?").bind(id).first<{
    id: string;
    status: string;
    next_poll_at: number | null;
    polls: number;
    lease_until: number | null;
    highlights: string | null;
    created_at: number;
  }>();

export const eventsOf = async (callId: string) =>
  (
    await env.DB.prepare("SELECT id, type, payload FROM events WHERE call_id = ? ORDER BY type")
      .bind(callId)
      .all<{ id: string; type: string; payload: string }>()
  ).results;

/** KallyAI's GETs of a call (the bridge's id, or KallyAI's), or of every call. */
export const upstreamPolls = async (callId?: string) => {
  const upstreamId = callId
    ? ((
        await env.DB.prepare("SELECT upstream_id FROM calls WHERE id = ?")
          .bind(callId)
          .first<{ upstream_id: string | null }>()
      )?.upstream_id ?? callId)
    : undefined;
  return (await env.DB.prepare(
    `SELECT count(*) AS n FROM sandbox_requests WHERE method = 'GET' AND path ${upstreamId ? "= ?" : "LIKE '/v1/calls/%'"}`,
  )
    .bind(...(upstreamId ? [`/v1/calls/${upstreamId}`] : []))
    .first<{ n: number }>())!.n;
};
