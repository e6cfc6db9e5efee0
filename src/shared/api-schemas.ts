import { z } from "@hono/zod-openapi";
import { CALL_ID } from "../kallyai/safe-values";
import { SAMPLE_FINISHED_CALL } from "./call-view";

/**
 * The zod shapes the REST routes, the MCP tools and the domain share: a call id, a wait and a page
 * are checked alike everywhere, and what the calls and account endpoints answer (the code builds
 * it in src/domain) is also the OpenAPI document's schemas.
 */

export const CallId = z.object({
  id: z
    .string()
    .regex(CALL_ID, "not a call id: use the id POST /v1/calls or GET /v1/calls answered")
    .openapi({ param: { name: "id", in: "path" }, example: "6f1c2a9e-3b7d-4c21-9a55-0d2e8f7b1c34" }),
});
export const WaitSeconds = z.coerce.number().int().min(0).max(25);
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional().openapi({ description: "next_cursor of the previous page" }),
});

export const CallSchema = z
  .object({
    id: z.string(),
    status: z.string().openapi({
      description:
        "queued / in_progress while running; then success, no_answer, busy, failed, voicemail, cancelled; expired if no outcome came in time.",
    }),
    finished: z.boolean(),
    highlights: z.string().nullable(),
    next_steps: z.string().nullable(),
    duration_seconds: z.number().nullable(),
    created_at: z.string().nullable(),
    ended_at: z.string().nullable(),
    phone: z.string().nullable(),
    task: z.string().nullable(),
    category: z.string().nullable(),
    language: z.string().nullable(),
    call_language: z.string().nullable(),
    name: z.string().nullable(),
    business: z.string().nullable(),
    party_size: z.number().nullable(),
    date: z.string().nullable(),
    time: z.string().nullable(),
    time_preference: z.string().nullable(),
    timezone: z.string().nullable(),
    user_phone: z.string().nullable(),
    urgent: z.boolean().nullable(),
    instructions: z.array(z.string()).nullable(),
  })
  .openapi("Call", { example: SAMPLE_FINISHED_CALL });

export const PlacedSchema = z
  .object({
    id: z.string(),
    status: z.string(),
    created_at: z.string(),
    links: z.object({ self: z.string(), transcript: z.string(), recording: z.string(), cancel: z.string() }),
  })
  .openapi("PlacedCall", {
    example: {
      id: "6f1c2a9e-3b7d-4c21-9a55-0d2e8f7b1c34",
      status: "queued",
      created_at: "2026-01-28T18:02:11.000Z",
      links: {
        self: "/v1/calls/6f1c…",
        transcript: "/v1/calls/6f1c…/transcript",
        recording: "/v1/calls/6f1c…/recording",
        cancel: "/v1/calls/6f1c…/cancel",
      },
    },
  });

export const TranscriptSchema = z
  .object({
    call_id: z.string(),
    entries: z.array(
      z.object({ speaker: z.string(), content: z.string(), timestamp: z.union([z.string(), z.number()]).nullable() }),
    ),
  })
  .openapi("Transcript", {
    example: {
      call_id: "6f1c…",
      entries: [
        { speaker: "HUMAN", content: "Italian Bistro, how can I help?", timestamp: "2026-01-28T18:02:20Z" },
        { speaker: "AI", content: "Hi, I'd like to reserve a table for 4 at 8pm.", timestamp: "2026-01-28T18:02:24Z" },
      ],
    },
  });

export const UsageSchema = z
  .object({
    plan_type: z.string().nullable(),
    minutes_allocated: z.number().nullable(),
    minutes_used: z.number().nullable(),
    minutes_remaining: z.number().nullable(),
    calls_allocated: z.number().nullable(),
    calls_used: z.number().nullable(),
    calls_remaining: z.number().nullable(),
    period_start: z.string().nullable(),
    period_end: z.string().nullable(),
    usage_percentage: z.number().nullable(),
    subscription_status: z.string().nullable(),
  })
  .openapi("Usage", {
    example: {
      plan_type: "pro",
      minutes_allocated: 210,
      minutes_used: 45,
      minutes_remaining: 165,
      calls_allocated: 60,
      calls_used: 33,
      calls_remaining: 27,
      period_start: "2026-01-01T00:00:00Z",
      period_end: "2026-02-01T00:00:00Z",
      usage_percentage: 21.4,
      subscription_status: "active",
    },
  });

export const SubscriptionSchema = z
  .object({
    has_active_subscription: z.boolean().nullable(),
    provider: z.string().nullable(),
    plan: z
      .object({ type: z.string().nullable(), period: z.string().nullable(), minutes_included: z.number().nullable() })
      .nullable(),
    status: z.string().nullable(),
    expires_at: z.string().nullable(),
    auto_renew: z.boolean().nullable(),
    management_url: z.string().nullable(),
  })
  .openapi("Subscription", {
    example: {
      has_active_subscription: true,
      provider: "stripe",
      plan: { type: "pro", period: "monthly", minutes_included: 210 },
      status: "active",
      expires_at: "2026-02-01T00:00:00Z",
      auto_renew: true,
      management_url: "https://billing.stripe.com/p/session/…",
    },
  });
