import { z } from "zod";

/** Upstream answers are parsed leniently: unknown fields pass, optional ones may be missing or null. */
const text = z.string().nullish();
const num = z.number().nullish();

export const TokenSet = z.looseObject({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: z.coerce.number().positive().default(3600),
});
export type TokenSet = z.infer<typeof TokenSet>;

export const UpstreamCall = z.looseObject({
  call_id: z.string().min(1),
  status: z.string().min(1),
  highlights: text,
  next_steps: text,
  duration_seconds: num,
  submission: z.record(z.string(), z.unknown()).nullish(),
  metadata: z.looseObject({ created_at: text, ended_at: text }).nullish(),
  created_at: text,
  ended_at: text,
  to: text,
  business_name: text,
  result_summary: text,
});
export type UpstreamCall = z.infer<typeof UpstreamCall>;

/** `{"items": [...], "total"}`, or the older `{"calls": [...]}`: both become `{items, total}`. */
export const UpstreamCallList = z
  .union([
    z.looseObject({ items: z.array(UpstreamCall), total: z.number().optional() }),
    z.looseObject({ calls: z.array(UpstreamCall), total: z.number().optional() }),
  ])
  .transform((list) => {
    const items: UpstreamCall[] = "items" in list ? (list.items as UpstreamCall[]) : (list.calls as UpstreamCall[]);
    return { items, total: list.total ?? items.length };
  });

export const UpstreamTranscript = z.looseObject({
  entries: z.array(
    z.looseObject({ speaker: z.string(), content: z.string(), timestamp: z.union([z.string(), z.number()]).nullish() }),
  ),
});

/** "A recording URL": accepted as a bare string or under any of the usual keys. */
export const UpstreamRecording = z
  .union([
    z.string().url(),
    z.looseObject({ recording_url: z.string().url() }),
    z.looseObject({ url: z.string().url() }),
  ])
  .transform((r) => ({ recording_url: typeof r === "string" ? r : "recording_url" in r ? r.recording_url : r.url }));

export const UpstreamStatistics = z.looseObject({
  plan_type: text,
  minutes_allocated: num,
  minutes_used: num,
  minutes_remaining: num,
  calls_allocated: num,
  calls_used: num,
  calls_remaining: num,
  period_start: text,
  period_end: text,
  usage_percentage: num,
  subscription_status: text,
});

export const UpstreamSubscription = z.looseObject({
  has_active_subscription: z.boolean().nullish(),
  provider: text,
  plan: z.looseObject({ type: text, period: text, minutes_included: num }).nullish(),
  status: text,
  expires_at: text,
  auto_renew: z.boolean().nullish(),
  management_url: text,
});

export const UpstreamBillingPortal = z.looseObject({ portal_url: z.string().url() });

/** What `POST /v1/calls` takes. The bridge's flat input is turned into this. */
export const CallSubmission = z.object({
  task_category: z.enum(["restaurant", "clinic", "hotel", "general"]),
  task_description: z.string().min(10).max(1000),
  respondent_phone: z.string(),
  business_name: z.string().max(200).optional(),
  user_name: z.string().max(100).optional(),
  user_phone: z.string().optional(),
  appointment_date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
  appointment_time: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/)
    .optional(),
  time_preference_text: z.string().max(200).optional(),
  party_size: z.number().int().min(1).max(50).optional(),
  language: z.enum(["en", "es"]).optional(),
  call_language: z.enum(["en", "es"]).optional(),
  is_urgent: z.boolean().optional(),
  additional_instructions: z.array(z.string().max(500)).max(20).optional(),
});
export type CallSubmission = z.infer<typeof CallSubmission>;

export const CallRequest = z.object({ submission: CallSubmission, timezone: z.string().min(1) });
export type CallRequest = z.infer<typeof CallRequest>;
