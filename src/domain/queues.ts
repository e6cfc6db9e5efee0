import { z } from "zod";
import { logError } from "../shared/log";
import type { Scheduled } from "../storage/events";
import type { Deps } from "./deps";

export type { Scheduled };

/**
 * Cloudflare Queues carry the poller's and the deliveries' timing (docs/webhooks.md, "The outcome
 * poller"). A message is only a wake-up: "call X is due for the poll scheduled at `due`", or
 * "delivery Y is due for the attempt scheduled at `due`". Every state lives in D1; a consumer
 * takes a call or delivery only while its D1 schedule still says `due`, so a duplicate or stale
 * message finds nothing to do, and a lost one is found by the cron once it is overdue.
 */
export const QUEUE_NAMES = {
  polls: "kallyai-bridge-polls",
  deliveries: "kallyai-bridge-deliveries",
  deadLetters: "kallyai-bridge-dead-letters",
  placements: "kallyai-bridge-placements",
} as const;
/** Queues' longest delay for one send (24 h); a message due later is sent on again when it arrives. */
export const MAX_DELAY_SECONDS = 24 * 3600;
/** Messages per sendBatch (Queues' limit). */
const SEND_BATCH = 100;

const id = z.string().min(1).max(100);
const due = z.number().int().nonnegative();
export const PollMessage = z.object({ kind: z.literal("poll"), call: id, due });
export const DeliveryMessage = z.object({ kind: z.literal("delivery"), delivery: id, due });
/** "Place call X (its attempt due at `due`)": the placement consumer makes KallyAI's POST and waits for it. */
export const PlacementMessage = z.object({ kind: z.literal("placement"), call: id, due });
/** IFTTT's realtime notifications are due (all of them: one request carries up to 1,000 users). */
export const RealtimeMessage = z.object({ kind: z.literal("ifttt_realtime"), due });
export const QueueMessage = z.discriminatedUnion("kind", [
  PollMessage,
  DeliveryMessage,
  PlacementMessage,
  RealtimeMessage,
]);
export type PollMessage = z.infer<typeof PollMessage>;
export type DeliveryMessage = z.infer<typeof DeliveryMessage>;
export type PlacementMessage = z.infer<typeof PlacementMessage>;
export type RealtimeMessage = z.infer<typeof RealtimeMessage>;
export type QueueMessage = z.infer<typeof QueueMessage>;

/** Whole seconds (Queues' unit), rounded: a message may come up to 0.5 s early, which a consumer allows for. */
export const delaySecondsUntil = (due: number, now: number) =>
  Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round((due - now) / 1000)));

/** One message per call, delivered when its poll is due. */
export const enqueuePolls = (d: Deps, items: Scheduled[]) =>
  send(
    d.queues.polls,
    items.map((s): PollMessage => ({ kind: "poll", call: s.id, due: s.due })),
  );

/** One message per delivery, delivered when its attempt is due. */
export const enqueueDeliveries = (d: Deps, items: Scheduled[]) =>
  send(
    d.queues.deliveries,
    items.map((s): DeliveryMessage => ({ kind: "delivery", delivery: s.id, due: s.due })),
  );

/** One wake-up for the realtime notifications that fall due soonest (they are sent together, on the delivery queue). */
export const enqueueRealtime = (d: Deps, items: Scheduled[]) =>
  send(
    d.queues.deliveries,
    items.length === 0 ? [] : [{ kind: "ifttt_realtime", due: Math.min(...items.map((s) => s.due)) }],
  );

/** One message per placement attempt, delivered when it is due. */
export const enqueuePlacements = (d: Deps, items: Scheduled[]) =>
  send(
    d.queues.placements,
    items.map((s): PlacementMessage => ({ kind: "placement", call: s.id, due: s.due })),
  );

/**
 * Sends after the D1 write it follows, so D1 always knows more than the queue. A failed send is
 * logged and not thrown: the state is in D1, and the cron takes the call or delivery over once it
 * is overdue (e.g. a free plan's daily Queues operations are spent).
 */
async function send(queue: Queue<unknown> | undefined, bodies: QueueMessage[], now = Date.now()): Promise<void> {
  if (!queue || bodies.length === 0) return;
  try {
    for (let i = 0; i < bodies.length; i += SEND_BATCH) {
      await queue.sendBatch(
        bodies.slice(i, i + SEND_BATCH).map((body) => ({ body, delaySeconds: delaySecondsUntil(body.due, now) })),
      );
    }
  } catch (err) {
    logError({ event: "enqueue_failed", kind: bodies[0]?.kind, messages: bodies.length }, err);
  }
}
