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
 *
 * PLACEMENT_QUEUE is consumed at once, in the background, as Cloudflare would (the request that
 * placed the call waits for the consumer's first word): `holdPlacements()` records its messages
 * instead, for a test to consume (or not) itself. Each test ends once the background consumers it
 * started have finished (test/support/setup.ts).
 */
export interface Enqueued {
  queue: keyof typeof QUEUE_NAMES;
  body: { kind: string; call?: string; delivery?: string; due: number };
  delaySeconds: number;
  at: number;
}

let enqueued: Enqueued[] = [];
let placementsHeld = false;
let placementEnv: Bindings = env;
const running = new Set<Promise<unknown>>();
/** Placement messages sent, waiting for the pump (below) to hand them to the consumer. */
const sent: Array<Enqueued["body"]> = [];
let pump: ReturnType<typeof setInterval> | undefined;

export function interceptQueues() {
  enqueued = [];
  placementsHeld = false;
  placementEnv = env;
  sent.length = 0;
  // The consumer must not run inside the request that sent the message: that request's timers and
  // I/O end with it (workerd), as a real consumer's do not. The pump starts it from the test's own
  // context instead, as Cloudflare would deliver the message on its own.
  clearInterval(pump);
  pump = setInterval(() => {
    while (sent.length > 0) startConsumer(sent.shift() as Enqueued["body"]);
  }, 5);
  for (const [queue, binding] of [
    ["polls", env.POLL_QUEUE],
    ["deliveries", env.DELIVERY_QUEUE],
    ["placements", env.PLACEMENT_QUEUE],
  ] as const) {
    if (!binding) continue;
    const record = (body: unknown, delaySeconds = 0) => {
      const message = { queue, body: body as Enqueued["body"], delaySeconds, at: Date.now() };
      // A delayed placement (a retry) waits for the test, like every other delayed message.
      if (queue === "placements" && !placementsHeld && delaySeconds === 0) return void sent.push(message.body);
      enqueued.push(message);
    };
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

function startConsumer(body: Enqueued["body"]) {
  const run = consume("placements", [body], 1, placementEnv).catch((err) => {
    console.error("background placement consumer failed", err);
  });
  running.add(run);
  void run.finally(() => running.delete(run));
}

/** Placement messages are recorded, not consumed: the test takes and consumes them itself. */
export function holdPlacements() {
  placementsHeld = true;
}

/** The background placement consumer runs with this configuration (e.g. a synchronous sandbox). */
export function consumePlacementsWith(custom: Bindings) {
  placementEnv = custom;
}

/** Waits for the background placement consumers started so far (and those the pump is about to start). */
export async function settlePlacements() {
  while (running.size > 0 || sent.length > 0) {
    await Promise.all([...running]);
    if (sent.length > 0) await new Promise((r) => setTimeout(r, 10));
  }
}

/** Stops the pump (after the test). */
export function stopPump() {
  clearInterval(pump);
  pump = undefined;
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
export async function consumeEnqueued(queue: Enqueued["queue"], bindings: Bindings = env) {
  const messages = takeEnqueued(queue);
  return {
    messages,
    result: messages.length
      ? await consume(
          queue,
          messages.map((m) => m.body),
          1,
          bindings,
        )
      : null,
  };
}
