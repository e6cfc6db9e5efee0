import { z } from "@hono/zod-openapi";
import { ApiError } from "../errors";
import { CallSubmission } from "../kallyai/schemas";
import { CallInputSchema, PHONE_ERRORS, toUpstreamRequest, type UpstreamCallRequest } from "./call-input";
import { firstIssue } from "./first-issue";
import { normalizePhone } from "./phone";

/** Turns the first zod issue into a 422 that names the field. */
export function fieldError(error: z.ZodError): ApiError {
  const issue = firstIssue(error);
  const field = issue.path.join(".");
  const message = /^[a-z]/.test(issue.message) ? `${field} ${issue.message}` : `${field}: ${issue.message}`;
  return new ApiError(422, "validation_error", field ? message : issue.message, field ? { field } : {});
}

const NestedRequest = z.object({
  submission: CallSubmission.extend({ respondent_phone: z.string().optional() }),
  timezone: z.string().optional(),
});

/**
 * The call a request asks for, from flat fields (what no-code tools send) or KallyAI's own nested
 * `{"submission": {...}, "timezone"}` body. Emergency numbers are refused here, before anything is sent.
 */
export function parseCallRequest(
  fields: Record<string, unknown>,
  defaults: { timezone: string; country: string },
): UpstreamCallRequest {
  if (typeof fields.submission === "object" && fields.submission !== null) return parseNested(fields, defaults);
  if (fields.phone === undefined)
    throw new ApiError(422, PHONE_ERRORS.missing.code, PHONE_ERRORS.missing.message, { field: "phone" });
  const parsed = CallInputSchema.safeParse(fields);
  if (!parsed.success) {
    // A bad number outranks other field errors: it is the one thing that must never be sent.
    const country = typeof fields.country === "string" ? fields.country : defaults.country;
    const phone = typeof fields.phone === "string" ? normalizePhone(fields.phone, country) : null;
    if (phone && !phone.ok && phone.reason === "emergency")
      throw new ApiError(422, PHONE_ERRORS.emergency.code, PHONE_ERRORS.emergency.message, { field: "phone" });
    throw fieldError(parsed.error);
  }
  const built = toUpstreamRequest(parsed.data, defaults);
  if (!built.ok) throw new ApiError(built.status, built.code, built.message, { field: built.field });
  return built.request;
}

function parseNested(
  fields: Record<string, unknown>,
  defaults: { timezone: string; country: string },
): UpstreamCallRequest {
  const raw = (fields.submission as Record<string, unknown>).respondent_phone;
  const phone = normalizePhone(typeof raw === "string" ? raw : undefined, defaults.country);
  if (!phone.ok)
    throw new ApiError(
      PHONE_ERRORS[phone.reason].status,
      PHONE_ERRORS[phone.reason].code,
      PHONE_ERRORS[phone.reason].message,
      {
        field: "submission.respondent_phone",
      },
    );
  const parsed = NestedRequest.safeParse(fields);
  if (!parsed.success) throw fieldError(parsed.error);
  const tz = parsed.data.timezone ?? defaults.timezone;
  const zone = CallInputSchema.shape.timezone.safeParse(tz);
  if (!zone.success)
    throw new ApiError(422, "validation_error", "timezone must be an IANA time zone such as America/New_York", {
      field: "timezone",
    });
  return { submission: { ...parsed.data.submission, respondent_phone: phone.e164 }, timezone: tz };
}
