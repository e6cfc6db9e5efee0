import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { deps } from "../domain/deps";
import { EVENT_TYPES, type EventType, listEvents } from "../domain/events";
import { sampleEvent } from "../domain/webhooks";
import { requireKey } from "../http/auth";
import { errorResponses, json, keyAuth, noAuth, router } from "../http/openapi";
import { CallSchema } from "../shared/api-schemas";

const SAMPLE_TIME = Date.parse("2026-01-28T18:03:52.410Z");
const SAMPLE_IDS: Record<EventType, string> = {
  "call.completed": "evt_9b2f41c0d3e84a7f9c1e2d3b4a5f6e7d",
  "call.succeeded": "evt_1c7d0e9f8a2b4c3d5e6f7a8b9c0d1e2f",
  "call.failed": "evt_4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90",
  "call.expired": "evt_7a8b9c0d1e2f3a4b5c6d7e8f90a1b2c3",
};
/** The sample of each event type, as the document shows it (the same builder test deliveries use). */
const sample = (type: EventType) => sampleEvent(type, SAMPLE_IDS[type], SAMPLE_TIME);

const EventSchema = z
  .object({
    id: z.string().openapi({
      description: "Unique and stable: equal to the webhook-id header of every delivery of this event. Dedupe on it.",
    }),
    type: z.enum(EVENT_TYPES),
    timestamp: z.string().openapi({ description: "When the bridge recorded the outcome (ISO 8601)." }),
    data: CallSchema,
    test: z
      .literal(true)
      .optional()
      .openapi({ description: "Only on test deliveries (POST /v1/webhooks/{id}/test): skip these in automations." }),
  })
  .openapi("Event", {
    description:
      "One event shape everywhere: a webhook delivery's body, an item of GET /v1/events and a sample are this same object.",
    example: sample("call.completed"),
  });

const DELIVERY_HEADERS = z.object({
  "webhook-id": z.string().openapi({
    description: "The event's id (the body's `id`), the same on every retry: dedupe on it.",
    example: SAMPLE_IDS["call.completed"],
  }),
  "webhook-timestamp": z.string().openapi({
    description: "Unix seconds of this attempt; reject it when more than 5 minutes off.",
    example: "1769623432",
  }),
  "webhook-signature": z.string().openapi({
    description:
      "`v1,` + base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{raw body}` keyed with the subscription's secret (Standard Webhooks). Absent on IFTTT deliveries.",
    example: "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
  }),
});

/** A description's first clause: up to its first ";" or parenthesis (the summary line of an event). */
const firstClause = (text: string) => text.replace(/;[\s\S]*$/, "").replace(/ \([\s\S]*$/, "");

const WHEN: Record<EventType, string> = {
  "call.completed": "A call finished, however it ended (`data.status` says how); exactly one per call.",
  "call.succeeded": "A call reached its goal (`data.status` is `success`).",
  "call.failed": "A call did not reach its goal (`data.status` is failed, busy, no_answer, voicemail or cancelled).",
  "call.expired":
    "No outcome came within 6 hours of placing the call; the bridge stopped waiting (`data.status` is `expired`).",
};

export const events = router();
events.use("/v1/events", requireKey("calls:read"));

events.openapi(
  createRoute({
    method: "get",
    path: "/v1/events",
    operationId: "listEvents",
    tags: ["events"],
    summary: "Call events, newest first (for polling triggers)",
    description:
      "The same events webhooks deliver, for Zapier's polling triggers and performList, IFTTT trigger endpoints and anything that prefers polling. Each item is deep-equal to the body of that event's webhook deliveries.",
    security: keyAuth,
    request: {
      query: z.object({
        type: z.enum(EVENT_TYPES).optional().openapi({ description: "Only this event type" }),
        limit: z.coerce.number().int().min(1).max(100).default(50),
        cursor: z.string().max(200).optional().openapi({ description: "next_cursor of the previous page" }),
      }),
    },
    responses: {
      200: json(z.object({ items: z.array(EventSchema), next_cursor: z.string().nullable() }), "A page of events", {
        items: [sample("call.completed"), sample("call.succeeded")],
        next_cursor: null,
      }),
      ...errorResponses(403, 422),
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    return c.json(await listEvents(deps(c.env), c.get("auth").userId, q), 200);
  },
);

/**
 * The `webhooks` section: what the bridge POSTs to a subscription's URL, one entry per event type.
 * Registered on the top-level app (a sub-app's webhooks would get its path prefix).
 */
export function registerEventWebhooks(registry: OpenAPIHono["openAPIRegistry"]) {
  for (const type of EVENT_TYPES) {
    registry.registerWebhook({
      method: "post",
      path: type,
      operationId: `on${type
        .split(".")
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
        .join("")}`,
      tags: ["webhooks"],
      summary: `${type}: ${firstClause(WHEN[type])}`,
      description: `${WHEN[type]} Sent to subscriptions (POST /v1/webhooks) that asked for \`${type}\`, signed per Standard Webhooks and retried for about 3 days until your URL answers 2xx. Kind \`ifttt\` subscriptions get IFTTT's \`{value1: status, value2: highlights, value3: next_steps}\` instead.`,
      security: noAuth,
      request: {
        headers: DELIVERY_HEADERS,
        body: { required: true, content: { "application/json": { schema: EventSchema, example: sample(type) } } },
      },
      responses: {
        200: { description: "Received. Any 2xx counts; answer within 15 s." },
        410: { description: "Gone: the bridge removes the subscription and sends nothing more." },
      },
    });
  }
}
