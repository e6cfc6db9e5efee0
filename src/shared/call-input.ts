import { z } from "@hono/zod-openapi";
import type { ErrorCode } from "../errors";
import { SUPPORTED_COUNTRIES_TEXT } from "./calling-codes";
import { normalizePhone } from "./phone";

/**
 * The flat call fields people send from Zapier, IFTTT, Make, n8n, iOS Shortcuts and the CLI, as
 * JSON, form fields or a query string. Shared by the bridge and the CLI so both say the same thing.
 */
export const CATEGORIES = ["restaurant", "clinic", "hotel", "general"] as const;
export const LANGUAGES = ["en", "es"] as const;
export const LANGUAGE_NAMES: Record<(typeof LANGUAGES)[number], string> = { en: "English", es: "Spanish" };

const optionalText = (max: number, example?: string) =>
  z.string().trim().min(1).max(max).optional().openapi({ example });

/** A real calendar date: 2026-02-30 is refused. */
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date as YYYY-MM-DD")
  .refine((value) => {
    const d = new Date(`${value}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
  }, "is not a real date");

export const time24 = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time as HH:MM (24-hour)");

export const ianaZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return zone.includes("/") || zone === "UTC";
  } catch {
    return false;
  }
}, "must be an IANA time zone such as America/New_York");

const bool = z.union([
  z.boolean(),
  z
    .enum(["true", "false", "1", "0", "yes", "no", "on", "off"])
    .transform((v) => ["true", "1", "yes", "on"].includes(v)),
]);

/** Numbers from forms arrive as text. */
const int = z
  .union([
    z.number(),
    z
      .string()
      .trim()
      .regex(/^-?\d+$/, "must be a whole number")
      .transform(Number),
  ])
  .pipe(z.number().int());

export const CallInputSchema = z.object({
  phone: z
    .string({ error: "is required: the number to call, e.g. +14155551234" })
    .openapi({ example: "(415) 555-1234", description: "The number to call, in any common format." }),
  task: z
    .string({ error: "is required: what the AI should accomplish on the call" })
    .trim()
    .min(10, "must be at least 10 characters: say what the AI should accomplish")
    .max(1000, "must be at most 1000 characters")
    .openapi({ example: "Reserve a table for 4 at 8pm" }),
  category: z.enum(CATEGORIES, { error: "must be one of restaurant, clinic, hotel, general" }).default("general"),
  language: z.enum(LANGUAGES, { error: "must be en or es" }).default("en"),
  call_language: z.enum(LANGUAGES, { error: "must be en or es" }).optional(),
  name: optionalText(100, "John Smith"),
  business: optionalText(200, "Italian Bistro"),
  party_size: int
    .pipe(z.number().min(1, "must be between 1 and 50").max(50, "must be between 1 and 50"))
    .optional()
    .openapi({ type: "integer", example: 4 }),
  date: isoDate.optional().openapi({ example: "2026-01-28" }),
  time: time24.optional().openapi({ example: "20:00" }),
  time_preference: optionalText(200, "morning before 11am"),
  timezone: ianaZone.optional().openapi({ example: "America/New_York" }),
  user_phone: z.string().trim().min(1).optional(),
  urgent: bool.optional().openapi({ type: "boolean" }),
  instructions: z
    .union([z.string().max(2000), z.array(z.string().max(500)).max(20)])
    .transform((v) =>
      typeof v === "string"
        ? v
            .split(/\r?\n/)
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
    )
    .optional()
    .openapi({ description: "Extra instructions: a list, or text with one per line." }),
  country: z
    .string()
    .trim()
    .length(2, "must be a two-letter country code such as US")
    .toUpperCase()
    .optional()
    .openapi({ description: "How to read national phone formats. Default: the bridge's DEFAULT_COUNTRY." }),
  idempotency_key: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .optional()
    .openapi({ description: "Same as the Idempotency-Key header." }),
});
export type CallInput = z.output<typeof CallInputSchema>;

/** Why a phone number cannot be called, in the bridge's error vocabulary. */
export const PHONE_ERRORS = {
  missing: {
    status: 422,
    code: "missing_phone_number",
    message: "phone is required: the number to call, e.g. +14155551234.",
  },
  invalid: {
    status: 422,
    code: "invalid_phone",
    message:
      "phone is not a valid phone number. Use international format (+14155551234), or set country for a national format.",
  },
  emergency: {
    status: 422,
    code: "emergency_number",
    message: "Emergency and service numbers (911, 112, 999, …) are never called. Call them yourself.",
  },
  // A national number of a country KallyAI does not call: the answer KallyAI gives for its E.164 form.
  unsupported_country: {
    status: 403,
    code: "country_restriction",
    message: `KallyAI cannot call this country. Supported: ${SUPPORTED_COUNTRIES_TEXT}.`,
  },
} as const;

export interface UpstreamCallRequest {
  submission: Record<string, unknown> & { task_category: string; task_description: string; respondent_phone: string };
  timezone: string;
}

export type Built =
  | { ok: true; request: UpstreamCallRequest }
  | { ok: false; status: 403 | 422; code: ErrorCode; message: string; field: string };

/** Builds KallyAI's request from the flat fields; phone numbers come out in E.164. */
export function toUpstreamRequest(input: CallInput, defaults: { timezone: string; country: string }): Built {
  const country = input.country ?? defaults.country;
  const phone = normalizePhone(input.phone, country);
  if (!phone.ok) return { ok: false, ...PHONE_ERRORS[phone.reason], field: "phone" };
  let userPhone: string | undefined;
  if (input.user_phone) {
    const parsed = normalizePhone(input.user_phone, country);
    if (!parsed.ok)
      return {
        ok: false,
        status: 422,
        code: "invalid_phone",
        message: "user_phone is not a valid phone number.",
        field: "user_phone",
      };
    userPhone = parsed.e164;
  }
  const submission = Object.fromEntries(
    Object.entries({
      task_category: input.category,
      task_description: input.task,
      respondent_phone: phone.e164,
      business_name: input.business,
      user_name: input.name,
      user_phone: userPhone,
      appointment_date: input.date,
      appointment_time: input.time,
      time_preference_text: input.time_preference,
      party_size: input.party_size,
      language: input.language,
      call_language: input.call_language ?? input.language,
      is_urgent: input.urgent,
      additional_instructions: input.instructions?.length ? input.instructions : undefined,
    }).filter(([, v]) => v !== undefined),
  ) as UpstreamCallRequest["submission"];
  return { ok: true, request: { submission, timezone: input.timezone ?? defaults.timezone } };
}
