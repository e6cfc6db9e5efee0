import { ApiError } from "../errors";
import { CATEGORIES, LANGUAGES } from "../shared/call-input";
import { parseCallRequest } from "../shared/call-request";
import { sha256Hex } from "../shared/encoding";
import { normalizePhone } from "../shared/phone";
import type { Authenticated } from "./api-keys";
import type { Deps } from "./deps";
import { type CallEvent, type EventType, eventOf } from "./events";
import { placeCall } from "./placement";

/**
 * IFTTT's Service API (docs/ifttt.md): the triggers list items of the events feed (one event
 * shape, the same ids), the action places a call through the same parse and placement as
 * POST /v1/calls. Everything here speaks the bridge's own errors; routes/ifttt.ts answers them in
 * IFTTT's shape, with validation errors of the action as `status: "SKIP"`.
 */

export const TRIGGER_SLUGS = ["call_finished", "call_finished_from_number"] as const;
export type TriggerSlug = (typeof TRIGGER_SLUGS)[number];
export const ACTION_SLUG = "place_call";
/** call_finished's `outcome` field: which finished calls it lists. */
export const OUTCOMES: Record<string, EventType> = {
  any: "call.completed",
  succeeded: "call.succeeded",
  failed: "call.failed",
};
/** The most items a trigger lists, whatever `limit` asks (IFTTT asks 50 by default). */
export const MAX_TRIGGER_ITEMS = 100;

/** The action's fields, as IFTTT's platform defines them (docs/ifttt.md lists them). */
export const ACTION_FIELDS = [
  "phone",
  "task",
  "category",
  "business",
  "name",
  "party_size",
  "date",
  "time",
  "language",
] as const;

const skip = (message: string) => new ApiError(400, "action_skipped", message);
const badField = (message: string) => new ApiError(400, "validation_error", message);

/** What a trigger lists: one event type, and for call_finished_from_number one number. */
export function triggerFilter(
  slug: TriggerSlug,
  fields: Record<string, unknown>,
  country: string,
): { eventType: EventType; phone: string | null } {
  if (slug === "call_finished") {
    const outcome = fields.outcome === undefined || fields.outcome === "" ? "any" : fields.outcome;
    const eventType = typeof outcome === "string" ? OUTCOMES[outcome] : undefined;
    if (!eventType) throw badField(`triggerFields.outcome must be one of ${Object.keys(OUTCOMES).join(", ")}.`);
    return { eventType, phone: null };
  }
  const phone = normalizePhone(typeof fields.phone === "string" ? fields.phone : undefined, country);
  if (!phone.ok) throw badField("triggerFields.phone must be a phone number, e.g. +14155551234.");
  return { eventType: "call.completed", phone: phone.e164 };
}

/** A trigger item: the call's ingredients (text, as IFTTT shows them) and IFTTT's meta. */
export function triggerItem(event: CallEvent, origin: string) {
  const call = event.data;
  const text = (v: string | number | null) => (v === null ? "" : String(v));
  return {
    call_id: call.id,
    status: call.status,
    business: text(call.business),
    phone: text(call.phone),
    task: text(call.task),
    highlights: text(call.highlights),
    next_steps: text(call.next_steps),
    duration_seconds: text(call.duration_seconds),
    ended_at: text(call.ended_at ?? event.timestamp),
    call_url: consoleCallUrl(origin, call.id),
    meta: { id: event.id, timestamp: Math.floor(Date.parse(event.timestamp) / 1000) },
  };
}

export const consoleCallUrl = (origin: string, callId: string) =>
  `${origin}/console/calls/${encodeURIComponent(callId)}`;

export interface TriggerPoll {
  slug: TriggerSlug;
  identity: string;
  fields: Record<string, unknown>;
  limit: number;
}

/**
 * The `limit` newest items of a trigger, newest first (IFTTT dedupes on meta.id), and the
 * trigger identity remembered so that a new event it would list brings a realtime notification.
 */
export async function pollTrigger(d: Deps, userId: string, poll: TriggerPoll, origin: string) {
  const filter = triggerFilter(poll.slug, poll.fields, d.cfg.defaults.country);
  const limit = Math.min(poll.limit, MAX_TRIGGER_ITEMS);
  const [rows] = await Promise.all([
    limit === 0 ? [] : d.ifttt.recentEvents(userId, filter.eventType, filter.phone, limit),
    d.ifttt.rememberIdentity(
      {
        id: poll.identity,
        user_id: userId,
        trigger_slug: poll.slug,
        event_type: filter.eventType,
        phone: filter.phone,
      },
      Date.now(),
    ),
  ]);
  return rows.map((row) => triggerItem(eventOf(row), origin));
}

/**
 * place_call: IFTTT's fields (text; blank ones are unset) through POST /v1/calls' own parse and
 * placement. The idempotency key is derived from IFTTT's request id, so a retried request places
 * no second call. A call the bridge refuses to place (an emergency number, a bad phone, a missing
 * field) is skipped, with the bridge's message.
 */
export async function runPlaceCall(
  d: Deps,
  auth: Authenticated,
  actionFields: Record<string, unknown>,
  requestId: string | undefined,
  origin: string,
) {
  const fields: Record<string, unknown> = {};
  for (const name of ACTION_FIELDS) {
    const value = actionFields[name];
    if (typeof value === "string" ? value.trim() !== "" : value !== undefined && value !== null) fields[name] = value;
  }
  let request: ReturnType<typeof parseCallRequest>;
  try {
    request = parseCallRequest(fields, d.cfg.defaults);
  } catch (err) {
    if (err instanceof ApiError && err.status < 500) throw skip(err.message);
    throw err;
  }
  const key = requestId ? `ifttt-${(await sha256Hex(`${auth.key.id}/${requestId}`)).slice(0, 40)}` : undefined;
  const placed = await placeCall(d, auth, request, key);
  return [{ id: placed.id, url: consoleCallUrl(origin, placed.id) }];
}

const LANGUAGE_NAMES: Record<(typeof LANGUAGES)[number], string> = { en: "English", es: "Spanish" };

/** Dropdown options of the action's fields (and call_finished's outcome), or null for a field that has none. */
export function fieldOptions(step: "triggers" | "actions", slug: string, field: string) {
  if (step === "actions" && slug === ACTION_SLUG && field === "category")
    return CATEGORIES.map((c) => ({ label: c.charAt(0).toUpperCase() + c.slice(1), value: c }));
  if (step === "actions" && slug === ACTION_SLUG && field === "language")
    return LANGUAGES.map((l) => ({ label: LANGUAGE_NAMES[l], value: l }));
  if (step === "triggers" && slug === "call_finished" && field === "outcome")
    return [
      { label: "Any outcome", value: "any" },
      { label: "Succeeded", value: "succeeded" },
      { label: "Failed (busy, no answer, voicemail, cancelled)", value: "failed" },
    ];
  return null;
}

/** Validation of a phone field: the same rules POST /v1/calls applies before anything is called. */
export function validatePhone(value: unknown, country: string): { valid: boolean; message?: string } {
  const phone = normalizePhone(typeof value === "string" ? value : undefined, country);
  if (phone.ok) return { valid: true };
  const reasons: Record<string, string> = {
    missing: "Enter the number to call, e.g. +14155551234.",
    emergency: "Emergency and service numbers are never called.",
  };
  return { valid: false, message: reasons[phone.reason] ?? "This is not a valid phone number, e.g. +14155551234." };
}

/** Whether a step has a phone field to validate. */
export const hasPhoneField = (step: "triggers" | "actions", slug: string, field: string) =>
  field === "phone" &&
  ((step === "actions" && slug === ACTION_SLUG) || (step === "triggers" && slug === "call_finished_from_number"));

/** GET /user/info: the bridge's user id (never changes) and where the person manages the connection. */
export async function userInfo(d: Deps, userId: string, origin: string) {
  const user = await d.accounts.user(userId);
  return {
    name: user?.kallyai_account ? `KallyAI account ${user.kallyai_account}` : "KallyAI account",
    id: userId,
    url: `${origin}/console`,
  };
}
