import { createRoute, z } from "@hono/zod-openapi";
import { retryDelivery } from "../domain/deliveries";
import { deps } from "../domain/deps";
import { EVENT_TYPES } from "../domain/events";
import {
  createWebhook,
  deleteWebhook,
  enableWebhook,
  listDeliveries,
  listWebhooks,
  ownWebhook,
  testWebhook,
  viewOf,
} from "../domain/webhooks";
import { requireKey } from "../http/auth";
import { errorResponses, json, keyAuth, router } from "../http/openapi";

const WebhookId = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: "id", in: "path" }, example: "wh_3f9c0d2b6a7e4f1b8c5d9e0a1b2c3d4e" }),
});
const EventTypes = z.array(z.enum(EVENT_TYPES)).min(1).max(EVENT_TYPES.length).openapi({
  description:
    "Which events to send. call.completed: every finished call (data.status says how it ended); call.succeeded: status success; call.failed: failed, busy, no_answer, voicemail or cancelled; call.expired: no outcome within 6 hours.",
});

const WEBHOOK_EXAMPLE = {
  id: "wh_3f9c0d2b6a7e4f1b8c5d9e0a1b2c3d4e",
  kind: "webhook",
  url: "https://hooks.zapier.com/hooks/standard/123/abc/",
  events: ["call.completed"],
  description: "Zap: log calls",
  state: "active",
  disabled_reason: null,
  disabled_at: null,
  created_at: "2026-01-28T18:00:00.000Z",
};

const WebhookSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["webhook", "ifttt"]),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    state: z.enum(["active", "disabled"]),
    disabled_reason: z.string().nullable(),
    disabled_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("Webhook", { example: WEBHOOK_EXAMPLE });

const CreatedSchema = WebhookSchema.extend({
  secret: z.string().optional().openapi({
    description:
      "whsec_…: verify the webhook-signature header with it (Standard Webhooks). Shown only now; IFTTT subscriptions have none.",
  }),
}).openapi("CreatedWebhook");

const DELIVERY_EXAMPLE = {
  id: "dlv_5e0f6c1d2a3b4c5d6e7f8a9b",
  event_id: "evt_9b2f41c0d3e84a7f9c1e2d3b4a5f6e7d",
  event_type: "call.completed",
  state: "succeeded",
  attempts: 2,
  next_attempt_at: null,
  last_status: 200,
  last_error: null,
  created_at: "2026-01-28T18:03:52.000Z",
  updated_at: "2026-01-28T18:04:00.000Z",
  request_body:
    '{"id":"evt_9b2f41c0d3e84a7f9c1e2d3b4a5f6e7d","type":"call.completed","timestamp":"2026-01-28T18:03:52.000Z","data":{"id":"call_…","status":"success"}}',
  attempt_log: [
    {
      attempt: 1,
      at: "2026-01-28T18:03:52.000Z",
      status_code: 503,
      error: "HTTP 503",
      duration_ms: 212,
      response_body: "Service Unavailable",
    },
    {
      attempt: 2,
      at: "2026-01-28T18:04:00.000Z",
      status_code: 200,
      error: null,
      duration_ms: 180,
      response_body: '{"status":"success"}',
    },
  ],
};

const DeliverySchema = z
  .object({
    id: z.string(),
    event_id: z.string().openapi({ description: "Sent as webhook-id, the same on every attempt." }),
    event_type: z.string(),
    state: z.enum(["pending", "succeeded", "failed"]),
    attempts: z.number(),
    next_attempt_at: z.string().nullable(),
    last_status: z.number().nullable(),
    last_error: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    request_body: z.string().openapi({
      description: "The body each attempt sends (the event; for IFTTT its value1..3). Headers are not shown.",
    }),
    attempt_log: z.array(
      z.object({
        attempt: z.number(),
        at: z.string(),
        status_code: z.number().nullable(),
        error: z.string().nullable(),
        duration_ms: z.number(),
        response_body: z.string().nullable().openapi({
          description:
            "The first 2 KB of the receiver's answer, as text; null when none came or for attempts before this was recorded.",
        }),
      }),
    ),
  })
  .openapi("Delivery");

export const webhooks = router();
// "/v1/webhooks/*" also matches "/v1/webhooks" itself: one key check per request.
webhooks.use("/v1/webhooks/*", requireKey("webhooks"));
webhooks.use("/v1/deliveries/*", requireKey("webhooks"));

webhooks.openapi(
  createRoute({
    method: "post",
    path: "/v1/webhooks",
    operationId: "createWebhook",
    tags: ["webhooks"],
    summary: "Subscribe to call events (REST hook)",
    description:
      "kind `webhook` (default): events are POSTed to `url` signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature with the returned `secret`). kind `ifttt`: events go to IFTTT's Webhooks trigger https://maker.ifttt.com/trigger/{event}/with/key/{key} as value1=status, value2=highlights, value3=next_steps. Answering 410 Gone to a delivery removes the subscription. What is sent is described under `webhooks` in this document.",
    security: keyAuth,
    request: {
      body: {
        content: {
          "application/json": {
            schema: z.object({
              kind: z.enum(["webhook", "ifttt"]).default("webhook"),
              url: z
                .string()
                .max(2000)
                .optional()
                .openapi({ description: "kind webhook: the https address to POST events to" }),
              event: z
                .string()
                .max(100)
                .optional()
                .openapi({ description: "kind ifttt: the event name of your applet's Webhooks trigger" }),
              key: z
                .string()
                .max(200)
                .optional()
                .openapi({ description: "kind ifttt: your IFTTT Webhooks key (stored encrypted)" }),
              events: EventTypes,
              description: z.string().max(200).optional(),
            }),
            example: {
              url: "https://hooks.zapier.com/hooks/standard/123/abc/",
              events: ["call.completed"],
              description: "Zap: log calls",
            },
          },
        },
      },
    },
    responses: { 201: json(CreatedSchema, "Subscribed"), ...errorResponses(403, 422) },
  }),
  async (c) => c.json(await createWebhook(deps(c.env), c.get("auth").userId, c.req.valid("json")), 201),
);

webhooks.openapi(
  createRoute({
    method: "get",
    path: "/v1/webhooks",
    operationId: "listWebhooks",
    tags: ["webhooks"],
    summary: "Your subscriptions",
    description: "Every subscription of the account, newest first, with its state (never its secret).",
    security: keyAuth,
    responses: {
      200: json(z.object({ items: z.array(WebhookSchema) }), "Subscriptions, newest first", {
        items: [WEBHOOK_EXAMPLE],
      }),
      ...errorResponses(403),
    },
  }),
  async (c) => c.json(await listWebhooks(deps(c.env), c.get("auth").userId), 200),
);

webhooks.openapi(
  createRoute({
    method: "get",
    path: "/v1/webhooks/{id}",
    operationId: "getWebhook",
    tags: ["webhooks"],
    summary: "One subscription (state and, when disabled, why)",
    description: "A subscription's target, events and state; `disabled_reason` says why it stopped.",
    security: keyAuth,
    request: { params: WebhookId },
    responses: { 200: json(WebhookSchema, "The subscription"), ...errorResponses(403, 404, 422) },
  }),
  async (c) => c.json(viewOf(await ownWebhook(deps(c.env), c.get("auth").userId, c.req.valid("param").id)), 200),
);

webhooks.openapi(
  createRoute({
    method: "delete",
    path: "/v1/webhooks/{id}",
    operationId: "deleteWebhook",
    tags: ["webhooks"],
    summary: "Unsubscribe",
    description:
      "Removes the subscription and its deliveries. Idempotent: a subscription that is already gone answers 200 too, as Zapier and others repeat unsubscribes.",
    security: keyAuth,
    request: { params: WebhookId },
    responses: {
      200: json(z.object({ id: z.string(), deleted: z.literal(true) }), "Removed, with its deliveries", {
        id: "wh_3f9c0d2b6a7e4f1b8c5d9e0a1b2c3d4e",
        deleted: true,
      }),
      ...errorResponses(403, 422),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    await deleteWebhook(deps(c.env), c.get("auth").userId, id);
    return c.json({ id, deleted: true as const }, 200);
  },
);

webhooks.openapi(
  createRoute({
    method: "post",
    path: "/v1/webhooks/{id}/enable",
    operationId: "enableWebhook",
    tags: ["webhooks"],
    summary: "Re-enable a disabled subscription",
    description:
      "Turns a subscription disabled after days of failures (or by unlinking) back on, with a clean failure streak; events from now on are sent to it. An active one answers as it is.",
    security: keyAuth,
    request: { params: WebhookId },
    responses: { 200: json(WebhookSchema, "The subscription, active"), ...errorResponses(403, 404, 422) },
  }),
  async (c) => c.json(await enableWebhook(deps(c.env), c.get("auth").userId, c.req.valid("param").id), 200),
);

webhooks.openapi(
  createRoute({
    method: "post",
    path: "/v1/webhooks/{id}/test",
    operationId: "testWebhook",
    tags: ["webhooks"],
    summary: "Send a sample event now",
    description:
      "One delivery of a sample event of the subscription's first event type, signed like real ones: the same event shape with `\"test\": true` and an id starting evt_test_. Not retried and not listed in deliveries; the console's delivery log shows the newest five, marked as tests.",
    security: keyAuth,
    request: { params: WebhookId },
    responses: {
      200: json(
        z
          .object({
            delivered: z.boolean(),
            event_id: z.string(),
            type: z.string(),
            status_code: z.number().nullable(),
            error: z.string().nullable(),
            duration_ms: z.number(),
          })
          .openapi("WebhookTest"),
        "What the receiver answered",
        {
          delivered: true,
          event_id: "evt_test_0f1e2d3c4b5a69788796a5b4c3d2e1f0",
          type: "call.completed",
          status_code: 200,
          error: null,
          duration_ms: 143,
        },
      ),
      ...errorResponses(403, 404, 422),
    },
  }),
  async (c) => c.json(await testWebhook(deps(c.env), c.get("auth").userId, c.req.valid("param").id), 200),
);

webhooks.openapi(
  createRoute({
    method: "get",
    path: "/v1/webhooks/{id}/deliveries",
    operationId: "listDeliveries",
    tags: ["webhooks"],
    summary: "Deliveries of a subscription, newest first, with every attempt",
    description:
      "Each event sent to the subscription: its state, attempts, the next attempt's time and the receiver's last answer. Pages with `limit` and `cursor` (`next_cursor`), like calls and events.",
    security: keyAuth,
    request: {
      params: WebhookId,
      query: z.object({
        limit: z.coerce.number().int().min(1).max(100).default(50),
        cursor: z.string().max(200).optional().openapi({ description: "next_cursor of the previous page" }),
      }),
    },
    responses: {
      200: json(
        z.object({ items: z.array(DeliverySchema), next_cursor: z.string().nullable() }),
        "A page of deliveries",
        { items: [DELIVERY_EXAMPLE], next_cursor: null },
      ),
      ...errorResponses(403, 404, 422),
    },
  }),
  async (c) =>
    c.json(await listDeliveries(deps(c.env), c.get("auth").userId, c.req.valid("param").id, c.req.valid("query")), 200),
);

webhooks.openapi(
  createRoute({
    method: "post",
    path: "/v1/deliveries/{id}/retry",
    operationId: "retryDelivery",
    tags: ["webhooks"],
    summary: "Send a delivery again now (manual replay, same webhook-id)",
    description:
      "One attempt now, with the same webhook-id and body; 409 when the subscription is disabled or the delivery is being sent.",
    security: keyAuth,
    request: {
      params: z.object({
        id: z
          .string()
          .min(1)
          .max(100)
          .openapi({ param: { name: "id", in: "path" }, example: "dlv_5e0f6c1d2a3b4c5d6e7f8a9b" }),
      }),
    },
    responses: {
      200: json(
        z
          .object({
            id: z.string(),
            state: z.string(),
            attempts: z.number(),
            last_status: z.number().nullable(),
            last_error: z.string().nullable(),
            subscription_removed: z.boolean(),
          })
          .openapi("DeliveryRetry"),
        "The attempt's result",
        {
          id: "dlv_5e0f6c1d2a3b4c5d6e7f8a9b",
          state: "succeeded",
          attempts: 11,
          last_status: 200,
          last_error: null,
          subscription_removed: false,
        },
      ),
      ...errorResponses(403, 404, 409, 422),
    },
  }),
  async (c) => c.json(await retryDelivery(deps(c.env), c.get("auth").userId, c.req.valid("param").id), 200),
);
