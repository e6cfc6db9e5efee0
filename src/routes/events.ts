import { createRoute, z } from "@hono/zod-openapi";
import { deps } from "../domain/deps";
import { EVENT_TYPES, listEvents } from "../domain/events";
import { SAMPLE_FINISHED_CALL } from "../shared/call-view";
import { requireKey } from "../http/auth";
import { errorResponses, json, keyAuth, router } from "../http/openapi";
import { CallSchema } from "./schemas";

const EventSchema = z
  .object({
    id: z.string().openapi({ description: "Unique and stable: the webhook-id of the same event's deliveries. Dedupe on it." }),
    type: z.enum(EVENT_TYPES),
    timestamp: z.string(),
    data: CallSchema,
  })
  .openapi("Event");

export const events = router();
events.use("/v1/events", requireKey("calls:read"));

events.openapi(
  createRoute({
    method: "get",
    path: "/v1/events",
    tags: ["events"],
    summary: "Call events, newest first (for polling triggers)",
    description: "The same events webhooks deliver, for Zapier's polling triggers and performList, IFTTT trigger endpoints and anything that prefers polling. Each item is the webhook body plus its `id`.",
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
        items: [
          { id: "evt_9b2f41c0d3e84a7f9c1e2d3b4a5f6e7d", type: "call.completed", timestamp: "2026-01-28T18:03:52.410Z", data: SAMPLE_FINISHED_CALL },
          { id: "evt_1c7d0e9f8a2b4c3d5e6f7a8b9c0d1e2f", type: "call.succeeded", timestamp: "2026-01-28T18:03:52.410Z", data: SAMPLE_FINISHED_CALL },
        ],
        next_cursor: null,
      }),
      ...errorResponses(401, 403, 422),
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    return c.json(await listEvents(deps(c.env), c.get("auth").userId, q), 200);
  },
);
