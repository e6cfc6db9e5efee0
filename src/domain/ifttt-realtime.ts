import { logEvent } from "../shared/log";
import type { DueNotification } from "../storage/ifttt";
import { ATTEMPT_TIMEOUT_MS, nextAttemptAt } from "./deliveries";
import type { Deps } from "./deps";
import type { Budget } from "./pool";

/**
 * IFTTT's Realtime API (docs/ifttt.md): when an event a trigger identity would list is recorded,
 * the recording batch owes IFTTT a notification for that user (storage/ifttt.ts). This sends them:
 * up to 1,000 users per request, with the service key, retried on the webhook schedule. A
 * notification only makes IFTTT poll sooner, so one that keeps failing is dropped: nothing is lost.
 */
export const REALTIME_BATCH = 1_000;
const LEASE_MS = ATTEMPT_TIMEOUT_MS + 15_000;

/**
 * Sends the notifications due by `dueBy` (the cron, with queues: overdue ones; the queue's consumer:
 * those due now, allowing for a message that came a little early), a request per
 * 1,000 users; returns how many users were notified.
 */
export async function sendRealtime(d: Deps, budget?: Budget, dueBy = Date.now()): Promise<number> {
  const ifttt = d.cfg.ifttt;
  if (!ifttt) return 0;
  let notified = 0;
  while (!budget?.spent) {
    const now = Date.now();
    const due = await d.ifttt.claimDue(now, REALTIME_BATCH, LEASE_MS, dueBy);
    if (due.length === 0) break;
    budget?.take(1);
    const status = await post(ifttt.realtimeUrl, ifttt.serviceKey, due);
    if (status !== null && status >= 200 && status < 300) {
      await d.ifttt.settle(due);
      notified += due.length;
    } else {
      await d.ifttt.reschedule(due.map((n) => ({ user_id: n.user_id, retry_at: retryAt(n, Date.now()) })));
    }
    logEvent("ifttt_realtime", { users: due.length, status });
    if (due.length < REALTIME_BATCH) break;
  }
  return notified;
}

const retryAt = (n: DueNotification, now: number) => nextAttemptAt(n.attempts + 1, now);

async function post(url: string, serviceKey: string, due: DueNotification[]): Promise<number | null> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "ifttt-service-key": serviceKey,
        "x-request-id": crypto.randomUUID(),
        "user-agent": "KallyAI-Bridge-Webhooks/1",
      },
      body: JSON.stringify({ data: due.map((n) => ({ user_id: n.user_id })) }),
      redirect: "manual",
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
    await res.body?.cancel().catch(() => undefined);
    return res.status;
  } catch {
    return null;
  }
}
