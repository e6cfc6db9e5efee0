import { z } from "zod";

/** Upstream answers are parsed leniently: unknown fields pass, optional ones may be missing or null. */
const text = z.string().nullish();
const num = z.number().nullish();

/**
 * A token answer. A refresh may leave `refresh_token` out (KallyAI's CLI then keeps the one it
 * has), so it is optional here and the caller keeps the old one.
 */
export const TokenSet = z.looseObject({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).nullish(),
  expires_in: z.coerce.number().positive().default(3600),
  scope: text,
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

/** The most calls one `GET /v1/calls` may ask for (the reference: `limit` 1–200). */
export const MAX_LIST_LIMIT = 200;

/** `{"calls": [...], "total"}` as the reference documents, or `{"items": [...]}`: both become `{items, total}`. */
export const UpstreamCallList = z
  .union([
    z.looseObject({ calls: z.array(UpstreamCall), total: z.number().nullish() }),
    z.looseObject({ items: z.array(UpstreamCall), total: z.number().nullish() }),
  ])
  .transform((list) => {
    const items: UpstreamCall[] = "calls" in list ? (list.calls as UpstreamCall[]) : (list.items as UpstreamCall[]);
    return { items, total: list.total ?? items.length };
  });

/** Who spoke, as the reference names it: an assistant (`AI`, `assistant`, …) or the person called (`HUMAN`). */
const speakerOf = (who: string) => (/^(ai|assistant|agent|bot)$/i.test(who.trim()) ? "AI" : "HUMAN");

/** One line, as `{speaker, content}` (the reference) or `{role, text}` (also read by KallyAI's CLI). */
const TranscriptEntry = z
  .looseObject({
    speaker: z.string().nullish(),
    role: z.string().nullish(),
    content: z.string().nullish(),
    text: z.string().nullish(),
    timestamp: z.union([z.string(), z.number()]).nullish(),
  })
  .refine(
    (e) => (e.speaker ?? e.role) != null && (e.content ?? e.text) != null,
    "a transcript line needs a speaker and words",
  )
  .transform((e) => ({
    speaker: speakerOf(e.speaker ?? e.role ?? ""),
    content: e.content ?? e.text ?? "",
    timestamp: e.timestamp ?? null,
  }));
const Entries = z.array(TranscriptEntry);
export type TranscriptLine = z.output<typeof TranscriptEntry>;

/**
 * A transcript in every shape KallyAI's CLI reads: `{"entries": [...]}` (the reference),
 * `{"transcript": [...]}`, or a bare list. All become `{entries}`.
 */
export const UpstreamTranscript = z
  .union([
    z.looseObject({ entries: Entries }),
    z.looseObject({ transcript: Entries }),
    Entries.transform((entries) => ({ entries })),
  ])
  .transform((t): { entries: TranscriptLine[] } => ({
    entries: ("entries" in t ? t.entries : t.transcript) as TranscriptLine[],
  }));

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

/** The billing portal's link: `url` in the reference and KallyAI's CLI; `portal_url` is accepted too. */
export const UpstreamBillingPortal = z
  .union([z.looseObject({ url: z.string().url() }), z.looseObject({ portal_url: z.string().url() })])
  .transform((p): { portal_url: string } => ({ portal_url: ("url" in p ? p.url : p.portal_url) as string }));

/**
 * The 402 body the reference shows: bare, with no `error` wrapper. Read by the client to turn a
 * 402 into `quota_exceeded` with its upgrade link.
 */
export const QuotaExceededBody = z.looseObject({
  plan_type: text,
  minutes_allocated: num,
  minutes_used: num,
  upgrade_url: text,
});

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
