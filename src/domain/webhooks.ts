import { ApiError, notFound } from "../errors";
import { SAMPLE_FINISHED_CALL } from "../shared/call-view";
import { decodeCursor, pageOf } from "../shared/cursor";
import { iso } from "../shared/time";
import type { WebhookRow } from "../storage/webhooks";
import { iftttUrl, requestBodyOf, send } from "./deliveries";
import type { Deps } from "./deps";
import type { CallEvent, EventType } from "./events";
import { newSigningSecret } from "./webhook-signatures";
import { checkTarget } from "./webhook-targets";

/** Subscriptions (REST hooks, as Zapier and n8n use them). */
export const MAX_ACTIVE_WEBHOOKS = 25;

export interface NewWebhook {
  kind: "webhook" | "ifttt";
  url?: string;
  event?: string;
  key?: string;
  events: EventType[];
  description?: string;
}

const IFTTT_EVENT = /^[A-Za-z0-9_-]{1,100}$/;
const IFTTT_KEY = /^[A-Za-z0-9_-]{8,200}$/;

const invalid = (field: string, message: string) =>
  new ApiError(422, "validation_error", `${field}: ${message}`, { field });

export function viewOf(w: WebhookRow) {
  return {
    id: w.id,
    kind: w.kind,
    url: w.url,
    events: JSON.parse(w.events) as string[],
    description: w.description,
    state: w.state,
    disabled_reason: w.disabled_reason,
    disabled_at: w.disabled_at === null ? null : new Date(w.disabled_at).toISOString(),
    created_at: new Date(w.created_at).toISOString(),
  };
}

export async function createWebhook(d: Deps, userId: string, input: NewWebhook) {
  const events = [...new Set(input.events)];
  let url: string;
  let secret: string;
  let iftttEvent: string | null = null;
  if (input.kind === "ifttt") {
    if (!input.event || !IFTTT_EVENT.test(input.event))
      throw invalid("event", "the IFTTT event name (letters, digits, _ and -), as in your applet's Webhooks trigger.");
    if (!input.key || !IFTTT_KEY.test(input.key))
      throw invalid("key", "your IFTTT Webhooks key, from https://ifttt.com/maker_webhooks/settings.");
    iftttEvent = input.event;
    secret = input.key;
    // Shown without the key, which is a secret.
    url = iftttUrl(input.event, "…").replace("%E2%80%A6", "…");
  } else {
    if (!input.url) throw invalid("url", "the address to send events to, e.g. https://hooks.zapier.com/….");
    url = checkTarget(input.url, d.cfg.webhooks.allowLoopback).toString();
    secret = newSigningSecret();
  }
  await assertRoomForAnother(d, userId);
  const sealed = await (await d.vault()).seal(userId, secret);
  const row = {
    id: `wh_${crypto.randomUUID().replace(/-/g, "")}`,
    user_id: userId,
    kind: input.kind,
    url,
    ifttt_event: iftttEvent,
    events: JSON.stringify(events),
    description: input.description ?? null,
    key_id: sealed.keyId,
    secret: sealed.ciphertext,
    created_at: Date.now(),
  };
  await d.webhooks.insert(row);
  const view = viewOf({
    ...row,
    state: "active",
    disabled_reason: null,
    disabled_at: null,
    failing_since: null,
    updated_at: row.created_at,
  });
  return input.kind === "ifttt" ? view : { ...view, secret };
}

export async function ownWebhook(d: Deps, userId: string, id: string): Promise<WebhookRow> {
  const w = await d.webhooks.get(id);
  if (!w || w.user_id !== userId) throw notFound(`Webhook ${id}`, "List your subscriptions with GET /v1/webhooks.");
  return w;
}

export async function listWebhooks(d: Deps, userId: string) {
  return { items: (await d.webhooks.list(userId)).results.map(viewOf) };
}

/** Re-enables a subscription that was disabled (failing for days, or by unlinking); events after now are sent again. */
export async function enableWebhook(d: Deps, userId: string, id: string) {
  const w = await ownWebhook(d, userId, id);
  if (w.state === "active") return viewOf(w);
  await assertRoomForAnother(d, userId);
  // Null only if another request enabled it meanwhile: then it is active as asked.
  return viewOf((await d.webhooks.enable(id, userId, Date.now())) ?? (await ownWebhook(d, userId, id)));
}

/** Creating or re-enabling a subscription needs room under the per-account cap of active ones. */
async function assertRoomForAnother(d: Deps, userId: string): Promise<void> {
  if ((await d.webhooks.countActive(userId)) >= MAX_ACTIVE_WEBHOOKS) {
    throw new ApiError(
      422,
      "too_many_webhooks",
      `An account may have ${MAX_ACTIVE_WEBHOOKS} active subscriptions. Delete unused ones with DELETE /v1/webhooks/{id}.`,
    );
  }
}

/**
 * Unsubscribing is idempotent: a subscription that is already gone (or was never this account's)
 * answers success too, because Zapier and others repeat unsubscribes and treat a 404 as failure.
 */
export async function deleteWebhook(d: Deps, userId: string, id: string) {
  const w = await d.webhooks.get(id);
  if (w && w.user_id === userId) await d.webhooks.delete([id]);
}

/** A sample event of each type, its call having the status that type carries. */
export function sampleEvent(type: EventType, id: string, now = Date.now()): CallEvent {
  const status = type === "call.failed" ? "no_answer" : type === "call.expired" ? "expired" : "success";
  const data =
    status === "success"
      ? SAMPLE_FINISHED_CALL
      : {
          ...SAMPLE_FINISHED_CALL,
          status,
          highlights: status === "no_answer" ? "Nobody at Italian Bistro answered." : null,
          next_steps: status === "no_answer" ? "Try again at another time of day." : null,
          duration_seconds: status === "no_answer" ? 0 : null,
          ended_at: status === "expired" ? null : SAMPLE_FINISHED_CALL.ended_at,
        };
  return { id, type, timestamp: new Date(now).toISOString(), data };
}

/** How many test deliveries of a subscription the log keeps. */
export const TESTS_KEPT = 5;

/**
 * POST /v1/webhooks/{id}/test: one signed delivery of a sample event, now. Not retried, and kept
 * apart from real deliveries (the console's log lists the newest TESTS_KEPT, marked as tests).
 */
export async function testWebhook(d: Deps, userId: string, id: string) {
  const w = await ownWebhook(d, userId, id);
  const type = (JSON.parse(w.events) as EventType[])[0] ?? "call.completed";
  const eventId = `evt_test_${crypto.randomUUID().replace(/-/g, "")}`;
  const payload = JSON.stringify({ ...sampleEvent(type, eventId), test: true } satisfies CallEvent);
  const sent = await send(d, w, eventId, payload);
  await d.webhooks.recordTest(
    {
      id: eventId,
      webhook_id: w.id,
      event_type: type,
      request_body: requestBodyOf(w, eventId, payload),
      status_code: sent.status,
      error: sent.error,
      response_body: sent.responseBody,
      duration_ms: sent.durationMs,
      at: Date.now(),
    },
    TESTS_KEPT,
  );
  return {
    delivered: sent.status !== null && sent.status >= 200 && sent.status < 300,
    event_id: eventId,
    type,
    status_code: sent.status,
    error: sent.error,
    duration_ms: sent.durationMs,
  };
}

/** The test deliveries of a subscription, newest first. */
export async function listTests(d: Deps, userId: string, id: string) {
  await ownWebhook(d, userId, id);
  const { results } = await d.webhooks.tests(id);
  return results.map((t) => ({
    event_id: t.id,
    event_type: t.event_type,
    delivered: t.status_code !== null && t.status_code >= 200 && t.status_code < 300,
    at: new Date(t.at).toISOString(),
    request_body: t.request_body,
    status_code: t.status_code,
    error: t.error,
    response_body: t.response_body,
    duration_ms: t.duration_ms,
  }));
}

export async function listDeliveries(d: Deps, userId: string, id: string, page: { limit: number; cursor?: string }) {
  const w = await ownWebhook(d, userId, id);
  const before = page.cursor ? decodeCursor(page.cursor) : undefined;
  const { rows, next_cursor } = pageOf(await d.webhooks.deliveries(id, page.limit + 1, before), page.limit);
  const items = rows.map((dl) => ({
    id: dl.id,
    event_id: dl.event_id,
    event_type: dl.event_type,
    state: dl.state,
    attempts: dl.attempts,
    next_attempt_at: iso(dl.next_attempt_at),
    last_status: dl.last_status,
    last_error: dl.last_error,
    created_at: iso(dl.created_at),
    updated_at: iso(dl.updated_at),
    request_body: requestBodyOf(w, dl.event_id, dl.payload),
    attempt_log: dl.attempt_log.map((a) => ({
      attempt: a.attempt,
      at: iso(a.at),
      status_code: a.status_code,
      error: a.error,
      duration_ms: a.duration_ms,
      response_body: a.response_body,
    })),
  }));
  return { items, next_cursor };
}
