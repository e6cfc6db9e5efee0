import { createRoute, z } from "@hono/zod-openapi";
import { deps } from "../domain/deps";
import { EVENT_TYPES, listEvents } from "../domain/events";
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
    responses: { 200: json(z.object({ items: z.array(EventSchema), next_cursor: z.string().nullable() }), "A page of events"), ...errorResponses(401, 403, 422) },
  }),
  async (c) => {
    const q = c.req.valid("query");
    return c.json(await listEvents(deps(c.env), c.get("auth").userId, q), 200);
  },
);
