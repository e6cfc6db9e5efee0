/**
 * Every `error.code` the bridge answers, with what it means. The OpenAPI document lists them in
 * the Error schema; `ApiError` takes only these (its `ErrorCode`), so a code missing here fails
 * the type check. Codes that KallyAI gives (quota_exceeded, safety_violation, …) are passed
 * through under the same name; one it adds later passes through as a `KallyAICode`.
 */
export const ERROR_CODES = {
  bad_request: "The request was refused as malformed.",
  malformed_json: "The body is not valid JSON, or not a JSON object.",
  malformed_body: "The body (e.g. a multipart form) could not be read.",
  invalid_state: "The sign-in callback's state does not match; start again at /auth/login.",
  sign_in_failed: "The KallyAI sign-in did not complete.",
  sign_in_unavailable:
    "This bridge cannot offer browser sign-in (no OAuth client, not on localhost); link with a refresh token instead.",
  missing_api_key: "No API key was sent.",
  invalid_api_key: "The API key is not one of this bridge's.",
  api_key_expired: "The API key has expired.",
  api_key_revoked: "The API key was revoked.",
  invalid_token:
    "The OAuth access token is not valid here: expired, revoked, or issued for the other resource (/mcp or /v1).",
  unauthorized: "The credentials were refused.",
  invalid_refresh_token: "KallyAI refused the refresh token.",
  upstream_unauthorized: "KallyAI refused the stored access token; link the account again if it persists.",
  quota_exceeded: "The KallyAI plan has no minutes left (402).",
  insufficient_scope: "The API key lacks the scope the endpoint needs, or a key tried to grant more than it has.",
  exceeds_own_key:
    "A key tried to create a key with more scopes, a later expiry or a higher calls_per_hour than its own, or nested deeper than keys may be.",
  forbidden: "KallyAI says the resource belongs to another account.",
  country_restriction: "KallyAI cannot call that country.",
  unsupported_country: "KallyAI cannot call that country.",
  not_found: "No such resource, or no such endpoint.",
  call_not_found: "No such call on this account.",
  transcript_not_found: "The call has no transcript yet.",
  recording_not_found: "The call has no recording.",
  recording_not_available: "KallyAI does not offer the call's recording through its API (404/405 from KallyAI).",
  calendar_not_found: "The call booked nothing a calendar can hold, or has not ended yet.",
  trigger_not_found: "No such trigger URL (revoked, or never existed).",
  delivery_not_found: "No such webhook delivery on this account.",
  method_not_allowed: "The path does not take this method; the Allow header lists those it takes.",
  relink_required: "The KallyAI account must be linked again (its tokens were refused or removed).",
  call_already_ended: "The call has already ended, so it cannot be cancelled.",
  cannot_cancel: "KallyAI has the call and offers no way to stop it; it ends on its own.",
  idempotency_in_progress: "A request with this Idempotency-Key is still being processed; retry after Retry-After.",
  webhook_disabled: "The subscription is disabled; create it again.",
  delivery_in_progress: "The delivery is being sent right now; look again after Retry-After.",
  payload_too_large: "The body is larger than the endpoint accepts.",
  unsupported_media_type: "The body's Content-Type is not one the endpoint reads.",
  validation_error: "A field is missing or invalid; `field` names it.",
  action_skipped:
    "IFTTT's place_call action was refused as invalid (an emergency number, a bad phone, a missing field): IFTTT skips it.",
  signed_out: "The console session ended (signed out, expired, unlinked, or its key revoked); sign in again.",
  cross_site_request: "A console form came from another site (its Origin is not this bridge's), so it was refused.",
  invalid_csrf_token: "A console form's CSRF token is missing or belongs to another session; reload the page.",
  missing_field: "A required field is missing; `field` names it.",
  missing_phone_number: "The phone number is missing.",
  invalid_phone: "The phone number is not a valid number.",
  emergency_number: "Emergency and service numbers are never called.",
  toll_number: "Premium-rate numbers are not called.",
  blocked_number: "KallyAI does not call this number.",
  suppression_violation: "The number is on a do-not-call list.",
  scheduling_violation: "KallyAI refused the date or time.",
  consent_denied: "The KallyAI account holder declined consent for calls.",
  safety_violation: "KallyAI refused the task under its safety rules.",
  unsupported_language: "Only English (en) and Spanish (es) are supported.",
  idempotency_conflict: "This Idempotency-Key was used with a different request.",
  field_locked: "A trigger URL's hit sent a call field the trigger does not leave open (its open_fields).",
  invalid_webhook_url: "The webhook URL is not an allowed target (https on a public host when deployed).",
  too_many_webhooks: "The account has the most subscriptions it may have.",
  too_many_keys: "The account has the most active API keys it may have.",
  too_many_triggers: "The account has the most trigger URLs it may have.",
  upstream_rejected: "KallyAI refused the request for another reason (its message is included).",
  rate_limited: "Too many requests; wait for Retry-After seconds.",
  internal_error: "Something failed inside the bridge; quote the X-Request-Id header when reporting it.",
  misconfigured: "The bridge is misconfigured (its operator must fix a setting or secret).",
  upstream_unavailable: "KallyAI failed, is busy or did not answer in time; retry after Retry-After.",
  storage_unavailable:
    "The bridge's database did not answer; retry after Retry-After (a call with the same Idempotency-Key is placed once).",
  upstream_invalid_response: "KallyAI sent an answer the bridge could not read.",
} satisfies Record<string, string>;

/** The codes as a Markdown list, for the Error schema's description. */
export const errorCodesMarkdown = () =>
  Object.entries(ERROR_CODES)
    .map(([code, meaning]) => `- \`${code}\`: ${meaning}`)
    .join("\n");
