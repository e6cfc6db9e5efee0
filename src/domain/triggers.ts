import { ApiError } from "../errors";
import { CallInputSchema, PHONE_ERRORS } from "../shared/call-input";
import { fieldError } from "../shared/call-request";
import { randomBase64Url, sha256Hex } from "../shared/encoding";
import { isPremiumRate, isSupportedCountry, normalizePhone, SUPPORTED_COUNTRIES_TEXT } from "../shared/phone";
import type { TriggerRow } from "../storage/triggers";
import type { Authenticated } from "./api-keys";
import type { Deps } from "./deps";

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;
type Template = Record<string, string | number | boolean | string[]>;

/** Trigger URLs an account may have, as webhooks have MAX_ACTIVE_WEBHOOKS. */
export const MAX_ACTIVE_TRIGGERS = 100;
const CALL_FIELDS = new Set(Object.keys(CallInputSchema.shape));
const triggerNotFound = () =>
  new ApiError(
    404,
    "trigger_not_found",
    "This trigger URL does not exist or was revoked. Create a new one with POST /v1/triggers.",
  );

/**
 * Checks a template now rather than at the first hit: every field must be a call field, and the
 * fields without placeholders must already be valid.
 */
export function checkTemplate(template: Template, defaultCountry: string): void {
  for (const field of Object.keys(template)) {
    if (!CALL_FIELDS.has(field) || field === "idempotency_key")
      throw new ApiError(
        422,
        "validation_error",
        `${field} is not a call field. Use phone, task, category, … (see POST /v1/calls).`,
        { field },
      );
  }
  const fixed = Object.fromEntries(
    Object.entries(template).filter(([, v]) => !(typeof v === "string" && v.match(PLACEHOLDER))),
  );
  const parsed = CallInputSchema.partial().safeParse(fixed);
  if (!parsed.success) throw fieldError(parsed.error);
  if (parsed.data.phone !== undefined) checkFixedPhone(parsed.data.phone, parsed.data.country ?? defaultCountry);
}

/** A fixed phone number must be one the trigger could ever call: not an emergency, premium-rate or unsupported number. */
function checkFixedPhone(raw: string, country: string): void {
  const phone = normalizePhone(raw, country);
  if (!phone.ok)
    throw new ApiError(
      PHONE_ERRORS[phone.reason].status,
      PHONE_ERRORS[phone.reason].code,
      PHONE_ERRORS[phone.reason].message,
      {
        field: "phone",
      },
    );
  if (isPremiumRate(phone.e164))
    throw new ApiError(422, "toll_number", "Premium-rate numbers are not called. Use the business's regular number.", {
      field: "phone",
    });
  if (!isSupportedCountry(phone.e164))
    throw new ApiError(
      403,
      "country_restriction",
      `KallyAI cannot call this country. Supported: ${SUPPORTED_COUNTRIES_TEXT}.`,
      { field: "phone" },
    );
}

export interface NewTrigger {
  id: string;
  name: string;
  url: string;
  fields: Template;
  created_at: string;
}

export async function createTrigger(
  d: Deps,
  auth: Authenticated,
  name: string,
  template: Template,
  origin: string,
): Promise<NewTrigger> {
  checkTemplate(template, d.cfg.defaults.country);
  if ((await d.triggers.countActive(auth.userId)) >= MAX_ACTIVE_TRIGGERS) {
    throw new ApiError(
      422,
      "too_many_triggers",
      `An account may have ${MAX_ACTIVE_TRIGGERS} trigger URLs. Revoke unused ones with DELETE /v1/triggers/{id} (GET /v1/triggers lists them).`,
    );
  }
  const token = randomBase64Url(24); // 192 bits
  const id = `trg_${randomBase64Url(9)}`;
  const now = Date.now();
  await d.triggers.insert({
    id,
    user_id: auth.userId,
    key_id: auth.key.id,
    name,
    token_hash: await sha256Hex(token),
    template: JSON.stringify(template),
    created_at: now,
  });
  return { id, name, url: `${origin}/t/${token}`, fields: template, created_at: new Date(now).toISOString() };
}

export function triggerJson(row: TriggerRow) {
  return {
    id: row.id,
    name: row.name,
    fields: JSON.parse(row.template) as Template,
    created_at: new Date(row.created_at).toISOString(),
    last_used_at: row.last_used_at === null ? null : new Date(row.last_used_at).toISOString(),
  };
}

/** The trigger behind a URL token, with the key it acts as; a revoked trigger or key is not found. */
export async function resolveTrigger(d: Deps, token: string): Promise<{ trigger: TriggerRow; auth: Authenticated }> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) throw triggerNotFound();
  const trigger = await d.triggers.byTokenHash(await sha256Hex(token));
  if (!trigger) throw triggerNotFound();
  const key = await d.keys.get(trigger.key_id, trigger.user_id);
  if (!key || key.revoked_at !== null || (key.expires_at !== null && key.expires_at < Date.now()))
    throw triggerNotFound();
  return { trigger, auth: { userId: trigger.user_id, key, scopes: key.scopes.split(" ") as Authenticated["scopes"] } };
}

const scalar = (v: unknown): v is string | number | boolean =>
  typeof v === "string" || typeof v === "number" || typeof v === "boolean";

/** A sent value as the text of a placeholder: text, a number, yes/no, or a list of those. */
function placeholderText(name: string, value: unknown): string {
  if (scalar(value)) return String(value);
  if (Array.isArray(value) && value.every(scalar)) return value.join(", ");
  throw new ApiError(
    422,
    "validation_error",
    `${name} must be text, a number or a list of them, to fill {{${name}}}.`,
    { field: name },
  );
}

/**
 * The call fields of one hit: the template with {{placeholders}} filled from the request
 * (value1..value3 or any field name), then call fields sent with the request override defaults.
 */
export function fillTemplate(template: Template, sent: Record<string, unknown>): Record<string, unknown> {
  const filled: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(template)) {
    if (typeof value !== "string") {
      filled[field] = value;
      continue;
    }
    filled[field] = value.replace(PLACEHOLDER, (_, name: string) => {
      // Own fields only: {{constructor}} or {{__proto__}} never fill with what every object inherits.
      const given = Object.hasOwn(sent, name) ? sent[name] : undefined;
      if (given === undefined)
        throw new ApiError(
          422,
          "missing_field",
          `This trigger's ${field} needs {{${name}}}: send ${name} (as JSON, a form field or ?${name}=…).`,
          { field: name },
        );
      return placeholderText(name, given);
    });
  }
  for (const [field, value] of Object.entries(sent)) if (CALL_FIELDS.has(field)) filled[field] = value;
  return filled;
}
