import { ApiError } from "../errors";
import type { AttemptResult, DueDelivery, WebhookRow } from "../storage/webhooks";
import type { Deps } from "./deps";
import { type CallEvent, eventBody } from "./events";
import { type Budget, mapPool } from "./pool";
import { enqueueDeliveries, type Scheduled } from "./queues";
import { signedHeaders } from "./webhook-signatures";
import { checkTarget } from "./webhook-targets";

/**
 * Webhook delivery, after the Standard Webhooks specification (docs/webhooks.md, "Retries").
 * Delay before attempt n+1 after attempt n failed: immediately, 5 s, 5 min, 30 min, 2 h, 5 h,
 * 10 h, 14 h, 20 h, 24 h — ten attempts over about 3 days; delays of a minute or more get ±10 %
 * jitter, sub-minute ones happen at the next sweep. A Retry-After on 429/503 is honoured (up to 24 h).
 */
export const RETRY_SCHEDULE_MS = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3600_000,
  5 * 3600_000,
  10 * 3600_000,
  14 * 3600_000,
  20 * 3600_000,
  24 * 3600_000,
];
export const ATTEMPT_TIMEOUT_MS = 15_000;
/** A subscription whose deliveries have failed, without a success in between, for this long is disabled. */
export const DISABLE_AFTER_MS = 5 * 24 * 3600_000;
const DISABLED_REASON =
  "Deliveries failed for 5 days without a success; create the subscription again once the receiver works.";
const DELIVERY_LEASE_MS = 60_000;
/** A queue message may arrive this much before its due time and still be taken. */
const EARLY_SLACK_MS = 1_000;
const DEAD_LETTER_ERROR =
  "failed: the delivery queue gave up on this attempt after 5 tries (dead-letter queue); retry it with POST /v1/deliveries/{id}/retry";
const CHUNK = 50;
const MAX_ERROR = 300;
/** How much of each answer the delivery log keeps. */
export const RESPONSE_LOG_BYTES = 2048;
const IFTTT_BASE = "https://maker.ifttt.com/trigger";

/** When to try again after `attempt` (1-based) failed; null when the schedule is exhausted. */
export function nextAttemptAt(attempt: number, now: number, retryAfterSeconds?: number): number | null {
  const base = RETRY_SCHEDULE_MS[attempt];
  if (base === undefined) return null;
  const jitter = base >= 60_000 ? base * 0.1 * (Math.random() * 2 - 1) : 0;
  const wait = Math.max(
    base + jitter,
    retryAfterSeconds === undefined ? 0 : Math.min(retryAfterSeconds * 1000, 24 * 3600_000),
  );
  return Math.round(now + wait);
}

export const iftttUrl = (event: string, key: string) =>
  `${IFTTT_BASE}/${encodeURIComponent(event)}/with/key/${encodeURIComponent(key)}`;

/**
 * The body a delivery of the event sends: the event itself (signed), or for IFTTT its
 * value1..3. Shown in the delivery log; the headers, which carry the signature, never are.
 */
export function requestBodyOf(w: Pick<WebhookRow, "kind">, eventId: string, payload: string): string {
  const body = eventBody(eventId, payload);
  if (w.kind !== "ifttt") return body;
  const { data } = JSON.parse(body) as CallEvent;
  return JSON.stringify({ value1: data.status, value2: data.highlights ?? "", value3: data.next_steps ?? "" });
}

/** The request one delivery makes, and the subscription's secret (kept out of what is recorded). */
export async function buildRequest(
  d: Deps,
  w: WebhookRow,
  eventId: string,
  payload: string,
  now: number,
): Promise<{ url: string; init: RequestInit; secret: string }> {
  const body = requestBodyOf(w, eventId, payload);
  const secret = await (await d.vault()).open(w.user_id, { keyId: w.key_id, ciphertext: w.secret });
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "KallyAI-Bridge-Webhooks/1",
  };
  if (w.kind === "ifttt") {
    // Every IFTTT subscription is created with its event name (storage/webhooks.ts, insert).
    if (w.ifttt_event === null) throw new TypeError(`the IFTTT subscription ${w.id} has no event name`);
    return {
      url: iftttUrl(w.ifttt_event, secret),
      init: { method: "POST", headers: { ...headers, "webhook-id": eventId }, body },
      secret,
    };
  }
  checkTarget(w.url, d.cfg.webhooks.allowLoopback);
  return {
    url: w.url,
    init: {
      method: "POST",
      headers: { ...headers, ...(await signedHeaders(secret, eventId, Math.floor(now / 1000), body)) },
      body,
    },
    secret,
  };
}

/**
 * About the first RESPONSE_LOG_BYTES of an answer as text, for the delivery log: the rest is not read,
 * and the subscription's secret is blanked out should the receiver echo it (an IFTTT key is in the URL).
 */
export async function responseStart(res: Response, secret: string): Promise<string | null> {
  if (!res.body) return null;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_LOG_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  // Blanked out before the cut, so that no whole secret survives in what is kept.
  const text = new TextDecoder().decode(bytes);
  return (secret ? text.replaceAll(secret, "[secret]") : text).slice(0, RESPONSE_LOG_BYTES);
}

export interface Sent {
  status: number | null;
  error: string | null;
  /** The start of the answer's body (responseStart), null when none came. */
  responseBody: string | null;
  retryAfter?: number;
  durationMs: number;
}

/** One HTTP attempt: 15 s timeout, redirects not followed, the answer's first 2 KB kept for the log. */
export async function send(d: Deps, w: WebhookRow, eventId: string, payload: string): Promise<Sent> {
  const started = Date.now();
  let request: Awaited<ReturnType<typeof buildRequest>>;
  try {
    request = await buildRequest(d, w, eventId, payload, started);
  } catch (err) {
    return {
      status: null,
      error: err instanceof ApiError ? `refused: ${err.message}` : "could not build the request",
      responseBody: null,
      durationMs: 0,
    };
  }
  try {
    const res = await fetch(request.url, {
      ...request.init,
      redirect: "manual",
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
    const responseBody = await responseStart(res, request.secret).catch(() => null);
    const ok = res.status >= 200 && res.status < 300;
    return {
      status: res.status,
      error: ok
        ? null
        : `HTTP ${res.status}${res.status >= 300 && res.status < 400 ? " (redirects are not followed)" : ""}`,
      retryAfter:
        res.status === 429 || res.status === 503
          ? parseRetryAfter(res.headers.get("retry-after"), Date.now())
          : undefined,
      responseBody,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    const timeout = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    return {
      status: null,
      error: timeout
        ? `no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s`
        : `connection failed: ${String(err instanceof Error ? err.message : err).slice(0, MAX_ERROR)}`,
      responseBody: null,
      durationMs: Date.now() - started,
    };
  }
}

export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** What an attempt means for the delivery. `keepSchedule` false: a manual retry that fails leaves a failed delivery failed. */
export function resultOf(dl: DueDelivery, sent: Sent, at: number, keepSchedule = true): AttemptResult {
  const attempt = dl.attempts + 1;
  const base = {
    delivery_id: dl.id,
    webhook_id: dl.webhook_id,
    attempt,
    at,
    status_code: sent.status,
    error: sent.error?.slice(0, MAX_ERROR) ?? null,
    response_body: sent.responseBody,
    duration_ms: sent.durationMs,
  };
  if (sent.status !== null && sent.status >= 200 && sent.status < 300)
    return { ...base, state: "succeeded", next_attempt_at: null, verdict: "ok" };
  if (sent.status === 410)
    return {
      ...base,
      error: "410 Gone: the subscription was removed",
      state: "failed",
      next_attempt_at: null,
      verdict: "gone",
    };
  const next = keepSchedule ? nextAttemptAt(attempt, Date.now(), sent.retryAfter) : null;
  return { ...base, state: next === null ? "failed" : "pending", next_attempt_at: next, verdict: "failed" };
}

/**
 * Sends deliveries a tick or a consumer has leased (bounded concurrency) and records their
 * attempts in one batch; each delivery still pending is enqueued for its next attempt.
 */
export async function attempt(d: Deps, due: DueDelivery[]): Promise<number> {
  if (due.length === 0) return 0;
  const results = await mapPool(due, d.cfg.poller.concurrency, async (dl) =>
    resultOf(dl, await send(d, dl.webhook, dl.event_id, dl.payload), Date.now()),
  );
  await record(d, results);
  return due.length;
}

async function record(d: Deps, results: AttemptResult[]) {
  await d.webhooks.recordAttempts(results, Date.now(), DISABLE_AFTER_MS, DISABLED_REASON);
  await enqueueDeliveries(
    d,
    results.flatMap((r) =>
      r.state === "pending" && r.next_attempt_at !== null ? [{ id: r.delivery_id, due: r.next_attempt_at }] : [],
    ),
  );
}

/**
 * The cron's sweep: sends deliveries due at `dueBy` or earlier (with queues: overdue, their
 * message lost or late), oldest-due first, bounded by the budget.
 */
export async function deliverDue(d: Deps, budget: Budget, dueBy = Date.now()): Promise<number> {
  let sent = 0;
  while (!budget.spent) {
    const limit = Math.min(CHUNK, budget.left);
    const now = Date.now();
    const due = await d.webhooks.claimDue(now, limit, DELIVERY_LEASE_MS, Math.min(dueBy, now));
    if (due.length === 0) break;
    budget.take(due.length);
    sent += await attempt(d, due);
    if (due.length < limit) break;
  }
  return sent;
}

/**
 * The delivery queue's consumer: sends the deliveries whose messages are due and still match
 * their D1 schedule (duplicates and stale messages send nothing). A message due later than
 * Queues' 24-h maximum delay (the last step's +10 % jitter) arrives early and is sent on for the rest.
 */
export async function deliverScheduled(d: Deps, messages: Scheduled[]): Promise<number> {
  const now = Date.now();
  const early = messages.filter((m) => m.due > now + EARLY_SLACK_MS);
  await enqueueDeliveries(d, early);
  const due = messages.filter((m) => m.due <= now + EARLY_SLACK_MS);
  return attempt(d, await d.webhooks.claimScheduled(due, now, DELIVERY_LEASE_MS));
}

/** The dead-letter queue: deliveries whose message failed every try end failed, saying so in their log. */
export async function deadLettered(d: Deps, messages: Scheduled[]): Promise<void> {
  if (messages.length > 0) await d.webhooks.failScheduled(messages, Date.now(), DEAD_LETTER_ERROR);
}

/** POST /v1/deliveries/{id}/retry: one attempt now, with the same webhook-id. */
export async function retryDelivery(d: Deps, userId: string, id: string) {
  const dl = await d.webhooks.delivery(id);
  if (!dl || dl.user_id !== userId)
    throw new ApiError(
      404,
      "delivery_not_found",
      `No delivery ${id} on your account. List them with GET /v1/webhooks/{id}/deliveries.`,
    );
  if (dl.webhook.state !== "active")
    throw new ApiError(
      409,
      "webhook_disabled",
      `The subscription is disabled (${dl.webhook.disabled_reason ?? "no reason recorded"}); create it again to receive events.`,
    );
  if (!(await d.webhooks.lease(id, Date.now(), DELIVERY_LEASE_MS)))
    throw new ApiError(
      409,
      "delivery_in_progress",
      "This delivery is being sent right now. Look at it again in a few seconds.",
      { retryAfter: 15 },
    );
  const result = resultOf(dl, await send(d, dl.webhook, dl.event_id, dl.payload), Date.now(), dl.state === "pending");
  await record(d, [result]);
  return {
    id,
    state: result.state,
    attempts: result.attempt,
    last_status: result.status_code,
    last_error: result.error,
    subscription_removed: result.verdict === "gone",
  };
}
