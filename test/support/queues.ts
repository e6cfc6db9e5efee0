import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { QUEUE_NAMES } from "../../src/domain/queues";
import type { Bindings } from "../../src/env";
import worker from "../../src/index";

/**
 * The tests' queues: what the Worker sends to POLL_QUEUE and DELIVERY_QUEUE is recorded here
 * instead of being consumed by the pool on its own schedule, and a test hands it to the Worker's
 * `queue` handler when it chooses (like test/support/network.ts does for fetch).
 */
export interface Enqueued {
  queue: keyof typeof QUEUE_NAMES;
  body: { kind: string; call?: string; delivery?: string; due: number };
  delaySeconds: number;
  at: number;
}

let enqueued: Enqueued[] = [];

export function interceptQueues() {
  enqueued = [];
  for (const [queue, binding] of [
    ["polls", env.POLL_QUEUE],
    ["deliveries", env.DELIVERY_QUEUE],
  ] as const) {
    if (!binding) continue;
    const record = (body: unknown, delaySeconds = 0) =>
      void enqueued.push({ queue, body: body as Enqueued["body"], delaySeconds, at: Date.now() });
    const metadata = { metrics: { backlogCount: 0, backlogBytes: 0, oldestMessageTimestamp: new Date(0) } };
    vi.spyOn(binding, "send").mockImplementation(async (body, options) => {
      record(body, options?.delaySeconds);
      return { metadata };
    });
    vi.spyOn(binding, "sendBatch").mockImplementation(async (messages, options) => {
      for (const m of messages) record(m.body, m.delaySeconds ?? options?.delaySeconds);
      return { metadata };
    });
  }
}

/** The messages sent so far to `queue` (and forgets them). */
export function takeEnqueued(queue: Enqueued["queue"]): Enqueued[] {
  const taken = enqueued.filter((m) => m.queue === queue);
  enqueued = enqueued.filter((m) => m.queue !== queue);
  return taken;
}

/** Runs the Worker's queue handler on one batch of `bodies` from `queue`, as Cloudflare would; answers what it acked and retried. */
export async function consume(queue: Enqueued["queue"], bodies: unknown[], attempts = 1, bindings: Bindings = env) {
  const batch = createMessageBatch(
    QUEUE_NAMES[queue],
    bodies.map((body, i) => ({ id: `msg-${crypto.randomUUID()}-${i}`, timestamp: new Date(), body, attempts })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, bindings, ctx);
  const result = await getQueueResult(batch, ctx);
  return {
    acked: result.explicitAcks.length,
    retried: result.retryMessages.length,
    retryMessages: result.retryMessages,
    ackAll: result.ackAll,
  };
}

/** Sends each recorded message of `queue` to its consumer, in one batch. */
export async function consumeEnqueued(queue: Enqueued["queue"]) {
  const messages = takeEnqueued(queue);
  return {
    messages,
    result: messages.length
      ? await consume(
          queue,
          messages.map((m) => m.body),
        )
      : null,
  };
}
