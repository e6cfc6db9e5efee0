import type { Bindings } from "../env";
import { logError, logEvent } from "../shared/log";
import { metered } from "../storage/metered";
import { deadLettered, deliverScheduled } from "./deliveries";
import { build } from "./deps";
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
  const polls: Array<Parsed<PollMessage>> = [];
  const deliveries: Array<Parsed<DeliveryMessage>> = [];
  const placements: Array<Parsed<PlacementMessage>> = [];
  const realtime: Array<Parsed<RealtimeMessage>> = [];
  let invalid = 0;
  for (const message of batch.messages) {
    const parsed = QueueMessage.safeParse(message.body);
    if (!parsed.success) {
      invalid++;
      message.ack();
    } else if (parsed.data.kind === "poll") polls.push({ message, body: parsed.data });
    else if (parsed.data.kind === "placement") placements.push({ message, body: parsed.data });
    else if (parsed.data.kind === "delivery") deliveries.push({ message, body: parsed.data });
    else realtime.push({ message, body: parsed.data });
  }
  const result = { placed: 0, polled: 0, upstream_requests: 0, delivered: 0, notified: 0, dead_lettered: 0 };
  const handle = async <M extends Parsed<QueueMessage>>(messages: M[], work: (messages: M[]) => Promise<unknown>) => {
    if (messages.length === 0) return;
    try {
      await work(messages);
      for (const m of messages) m.message.ack();
    } catch (err) {
      logError({ event: "queue_batch_failed", queue: batch.queue, messages: messages.length }, err);
      for (const m of messages) m.message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
    }
  };
  if (batch.queue === QUEUE_NAMES.deadLetters) {
    // A lost poll needs nothing here: the call stays due in D1 and the cron polls it.
    await handle(deliveries, async (ms) => {
      await deadLettered(
        d,
        ms.map((m) => ({ id: m.body.delivery, due: m.body.due })),
      );
      result.dead_lettered += ms.length;
    });
    // A lost placement needs nothing here either: it stays queued in D1 and the cron sends it again;
    // nor a lost realtime wake-up: the notifications stay owed in D1 and the cron sends them.
    for (const m of [...polls, ...placements, ...realtime]) m.message.ack();
  } else {
    await Promise.all([
      handle(placements, async (ms) => {
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
      handle(polls, async (ms) => {
        const r = await pollScheduled(
          d,
          ms.map((m) => ({ id: m.body.call, due: m.body.due })),
        );
        result.polled += r.polled;
        result.upstream_requests += r.upstream_requests;
      }),
      handle(deliveries, async (ms) => {
        result.delivered += await deliverScheduled(
          d,
          ms.map((m) => ({ id: m.body.delivery, due: m.body.due })),
        );
      }),
      handle(realtime, async () => {
        result.notified += await sendRealtime(d, undefined, Date.now() + 1_000);
      }),
    ]);
  }
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
