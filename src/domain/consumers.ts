import type { Bindings } from "../env";
import { logError, logEvent } from "../shared/log";
import { metered } from "../storage/metered";
import { deadLettered, deliverScheduled } from "./deliveries";
import { build, type Deps } from "./deps";
import { sendRealtime } from "./ifttt-realtime";
import { placeScheduled } from "./placement";
import { pollScheduled } from "./poller";
import {
  type DeliveryMessage,
  type PlacementMessage,
  type PollMessage,
  QUEUE_NAMES,
  QueueMessage,
  type RealtimeMessage,
} from "./queues";

interface Parsed<B> {
  message: Message<unknown>;
  body: B;
}

/** A batch that failed (D1 or the code, not KallyAI or a receiver) is tried again this much later. */
const RETRY_DELAY_SECONDS = 10;

/** A batch's messages by kind (messages that are none of them are acknowledged and counted). */
interface Sorted {
  polls: Array<Parsed<PollMessage>>;
  deliveries: Array<Parsed<DeliveryMessage>>;
  placements: Array<Parsed<PlacementMessage>>;
  realtime: Array<Parsed<RealtimeMessage>>;
  invalid: number;
}

/** What an invocation did, for its log line. */
type Result = Record<"placed" | "polled" | "upstream_requests" | "delivered" | "notified" | "dead_lettered", number>;

/** Runs the work on these messages, then acknowledges them all, or retries them all if it threw. */
type Settle = <M extends Parsed<QueueMessage>>(
  messages: M[],
  work: (messages: M[]) => Promise<unknown>,
) => Promise<void>;

/**
 * The Worker's `queue` handler (wrangler.toml's consumers): placements, polls, deliveries, and the
 * dead-letter queue. Every message is acknowledged once handled, whether or not it still had
 * work to do; a batch whose work threw is retried, and after 5 tries goes to the dead-letter queue.
 * Logs one line per invocation with what it did and the D1 statements it took.
 */
export async function consume(env: Bindings, batch: MessageBatch<unknown>) {
  const started = Date.now();
  const { db, meter } = metered(env.DB);
  const d = build(env, db);
  const sorted = sortBatch(batch);
  const result: Result = { placed: 0, polled: 0, upstream_requests: 0, delivered: 0, notified: 0, dead_lettered: 0 };
  const settle: Settle = async (messages, work) => {
    if (messages.length === 0) return;
    try {
      await work(messages);
      for (const m of messages) m.message.ack();
    } catch (err) {
      logError({ event: "queue_batch_failed", queue: batch.queue, messages: messages.length }, err);
      for (const m of messages) m.message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
    }
  };
  if (batch.queue === QUEUE_NAMES.deadLetters) await consumeDeadLetters(d, sorted, result, settle);
  else await consumeWork(d, sorted, result, settle);
  const { polls, deliveries, placements, realtime, invalid } = sorted;
  // How late the batch came: the longest any of its messages waited past its due time (queue lag + batching).
  const lateMs = Math.max(0, ...[...polls, ...deliveries, ...placements, ...realtime].map((m) => started - m.body.due));
  return logEvent("queue_batch", {
    queue: batch.queue,
    messages: batch.messages.length,
    invalid,
    late_ms: lateMs,
    ...result,
    d1_statements: meter.statements,
    d1_round_trips: meter.roundTrips,
    ms: Date.now() - started,
  });
}

function sortBatch(batch: MessageBatch<unknown>): Sorted {
  const sorted: Sorted = { polls: [], deliveries: [], placements: [], realtime: [], invalid: 0 };
  for (const message of batch.messages) {
    const parsed = QueueMessage.safeParse(message.body);
    if (!parsed.success) {
      sorted.invalid++;
      message.ack();
    } else if (parsed.data.kind === "poll") sorted.polls.push({ message, body: parsed.data });
    else if (parsed.data.kind === "placement") sorted.placements.push({ message, body: parsed.data });
    else if (parsed.data.kind === "delivery") sorted.deliveries.push({ message, body: parsed.data });
    else sorted.realtime.push({ message, body: parsed.data });
  }
  return sorted;
}

async function consumeDeadLetters(d: Deps, sorted: Sorted, result: Result, settle: Settle) {
  // A lost poll needs nothing here: the call stays due in D1 and the cron polls it.
  await settle(sorted.deliveries, async (ms) => {
    await deadLettered(
      d,
      ms.map((m) => ({ id: m.body.delivery, due: m.body.due })),
    );
    result.dead_lettered += ms.length;
  });
  // A lost placement needs nothing here either: it stays queued in D1 and the cron sends it again;
  // nor a lost realtime wake-up: the notifications stay owed in D1 and the cron sends them.
  for (const m of [...sorted.polls, ...sorted.placements, ...sorted.realtime]) m.message.ack();
}

async function consumeWork(d: Deps, sorted: Sorted, result: Result, settle: Settle) {
  await Promise.all([
    settle(sorted.placements, async (ms) => {
      // Each message is acknowledged as its call settles, so a later crash of this long
      // invocation does not send the settled ones again.
      const byCall = new Map(ms.map((m) => [m.body.call, m.message]));
      result.placed += (
        await placeScheduled(
          d,
          ms.map((m) => m.body.call),
          (callId) => byCall.get(callId)?.ack(),
        )
      ).placed;
    }),
    settle(sorted.polls, async (ms) => {
      const r = await pollScheduled(
        d,
        ms.map((m) => ({ id: m.body.call, due: m.body.due })),
      );
      result.polled += r.polled;
      result.upstream_requests += r.upstream_requests;
    }),
    settle(sorted.deliveries, async (ms) => {
      result.delivered += await deliverScheduled(
        d,
        ms.map((m) => ({ id: m.body.delivery, due: m.body.due })),
      );
    }),
    settle(sorted.realtime, async () => {
      result.notified += await sendRealtime(d, undefined, Date.now() + 1_000);
    }),
  ]);
}
