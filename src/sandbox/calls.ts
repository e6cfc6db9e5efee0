import { Hono, type MiddlewareHandler } from "hono";
import { config } from "../env";
import { ApiError, kallyaiCode } from "../errors";
import { CallRequest } from "../kallyai/schemas";
import { firstIssue } from "../shared/first-issue";
import { E164, isEmergencyNumber, isPremiumRate, isSupportedCountry, SUPPORTED_COUNTRIES_TEXT } from "../shared/phone";
import { iso } from "../shared/time";
import { injectFault } from "./faults";
import {
  BLOCKED_SUFFIX,
  bookedSomething,
  calendarFor,
  callLengthMs,
  callState,
  durationFor,
  faultFor,
  outcomeFor,
  resultFor,
  SAFETY_WORDS,
  type SandboxCallState,
  shapedTranscript,
  transcriptFor,
  transcriptShapeFor,
} from "./scenarios";
import { type SandboxCallRow, SandboxStore, sha256 } from "./store";
import type { SandboxEnv } from "./types";

/** A refusal in KallyAI's own codes, as the real API answers (the bridge maps them in src/kallyai/errors.ts). */
const refuse = (status: 403 | 422, code: string, message: string) => new ApiError(status, kallyaiCode(code), message);

/** The upstream's checks, in the order KallyAI's error table lists them. */
function validate(body: unknown): CallRequest {
  const submission = (body as { submission?: Record<string, unknown> } | null)?.submission;
  const phone = submission?.respondent_phone;
  if (typeof phone === "string" && isEmergencyNumber(phone))
    throw refuse(422, "emergency_number", "Emergency numbers cannot be called.");
  if (typeof phone !== "string" || !E164.test(phone))
    throw refuse(422, "missing_phone_number", "respondent_phone is required in E.164 format, e.g. +14155551234.");
  for (const field of ["language", "call_language"] as const) {
    const lang = submission?.[field];
    if (lang !== undefined && lang !== "en" && lang !== "es")
      throw refuse(422, "unsupported_language", `${field} must be en or es.`);
  }
  const parsed = CallRequest.safeParse(body);
  if (!parsed.success) {
    const issue = firstIssue(parsed.error);
    throw refuse(422, "validation_error", `${issue.path.join(".")}: ${issue.message}`);
  }
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: parsed.data.timezone });
  } catch {
    throw refuse(422, "validation_error", "timezone: not an IANA time zone");
  }
  if (isPremiumRate(phone)) throw refuse(422, "toll_number", "Premium-rate numbers cannot be called.");
  if (phone.endsWith(BLOCKED_SUFFIX)) throw refuse(403, "blocked_number", "This number is blocked.");
  if (!isSupportedCountry(phone))
    throw refuse(
      403,
      "country_restriction",
      `Calls to this country are not supported. Supported: ${SUPPORTED_COUNTRIES_TEXT}.`,
    );
  if (SAFETY_WORDS.test(parsed.data.submission.task_description))
    throw refuse(422, "safety_violation", "The task violates KallyAI's safety rules.");
  return parsed.data;
}

/** A running call has no duration yet; a cancelled one lasted until it was cancelled; others as their scenario says. */
function durationSeconds(row: SandboxCallRow, state: SandboxCallState): number | null {
  if (state.ended_at === null) return null;
  return state.status === "cancelled" ? Math.round((state.ended_at - row.created_at) / 1000) : row.duration_seconds;
}

export function callJson(row: SandboxCallRow, now: number, detailed: boolean) {
  const request = JSON.parse(row.request) as CallRequest;
  const state = callState(row, now);
  const ended = state.ended_at !== null;
  const result = ended ? resultFor(state.status, request.submission) : { highlights: null, next_steps: null };
  const base = {
    call_id: row.id,
    status: state.status,
    highlights: result.highlights,
    next_steps: result.next_steps,
    duration_seconds: durationSeconds(row, state),
    submission: request.submission,
    timezone: request.timezone,
    metadata: { created_at: iso(row.created_at), ended_at: iso(state.ended_at) },
  };
  if (!detailed) return base;
  return {
    ...base,
    created_at: iso(row.created_at),
    ended_at: iso(state.ended_at),
    to: request.submission.respondent_phone,
    business_name: request.submission.business_name ?? null,
    result_summary: result.highlights,
  };
}

/** Whether POST /v1/calls answers once the call has ended (KallyAI's documented behaviour), not at once. */
const placesSynchronously = (env: SandboxEnv["Bindings"]) => config(env).sandbox.placement === "sync";

/**
 * The signed-in user's call. With synchronous placement a call is not visible until it has ended
 * (the pessimistic reading of what KallyAI leaves undocumented): until then it is "not found".
 */
async function ownCall(c: { env: SandboxEnv["Bindings"]; get: (k: "user") => { id: string } }, id: string) {
  const row = await new SandboxStore(c.env.DB).call(id);
  const notFound = () => new ApiError(404, "call_not_found", "Call not found.");
  if (!row) throw notFound();
  if (row.user_id !== c.get("user").id) throw new ApiError(403, "forbidden", "This call belongs to another user.");
  if (placesSynchronously(c.env) && callState(row, Date.now()).ended_at === null) throw notFound();
  return row;
}

/** What KallyAI's API answers for a path it does not have. */
export const noSuchEndpoint = () => new ApiError(404, "not_found", "No such endpoint in the KallyAI API.");

/**
 * Cancel and recording are not in KallyAI's reference. The documented mode answers them as an
 * endpoint it does not have, so that the bridge's "not offered" path (cannot_cancel,
 * recording_not_available) is what a developer meets; SANDBOX_PLACEMENT=async still offers them.
 */
const undocumented: MiddlewareHandler<SandboxEnv> = async (c, next) => {
  if (placesSynchronously(c.env)) throw noSuchEndpoint();
  await next();
};

const HOLD_CHECK_MS = 1_000;

/**
 * Holds POST /v1/calls until the call has ended, as KallyAI does, looking at the call's row at
 * least once a second (a cancel, or a test moving its end, is seen). Gives up when the client does.
 */
async function holdUntilEnded(store: SandboxStore, row: SandboxCallRow, signal: AbortSignal): Promise<SandboxCallRow> {
  for (let current = row; ; ) {
    const now = Date.now();
    if (callState(current, now).ended_at !== null) return current;
    // The client gave up (its own timeout): what is answered now reaches nobody.
    if (signal.aborted) return current;
    const wait = current.outcome === "never" ? HOLD_CHECK_MS : Math.min(HOLD_CHECK_MS, current.ends_at - now);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(10, wait));
      signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
    current = (await store.call(current.id)) ?? current;
  }
}

/** The reference's 402: a bare body, no `error` wrapper. */
function quotaExceeded(user: { minutes_allocated: number }, minutesUsed: number, upgradeUrl: string) {
  return {
    plan_type: "sandbox",
    minutes_allocated: user.minutes_allocated,
    minutes_used: minutesUsed,
    upgrade_url: upgradeUrl,
  };
}

/** One second of silence: what the sandbox "recorded". */
function silentWav(): Uint8Array<ArrayBuffer> {
  const rate = 8000;
  const data = rate;
  const buf = new DataView(new ArrayBuffer(44 + data));
  const put = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) buf.setUint8(offset + i, text.charCodeAt(i));
  };
  put(0, "RIFF");
  buf.setUint32(4, 36 + data, true);
  put(8, "WAVE");
  put(12, "fmt ");
  buf.setUint32(16, 16, true);
  buf.setUint16(20, 1, true);
  buf.setUint16(22, 1, true);
  buf.setUint32(24, rate, true);
  buf.setUint32(28, rate, true);
  buf.setUint16(32, 1, true);
  buf.setUint16(34, 8, true);
  put(36, "data");
  buf.setUint32(40, data, true);
  for (let i = 0; i < data; i++) buf.setUint8(44 + i, 128);
  return new Uint8Array(buf.buffer);
}

export const sandboxCalls = new Hono<SandboxEnv>()
  .post("/", async (c) => {
    const raw = await c.req.json().catch(() => undefined);
    if (raw === undefined) throw refuse(422, "validation_error", "The body must be JSON.");
    const request = validate(raw);
    const fault = faultFor(request.submission.respondent_phone);
    if (fault && fault !== "malformed") return injectFault(fault, c);

    const store = new SandboxStore(c.env.DB);
    const user = c.get("user");
    const key = c.req.header("idempotency-key") ?? null;
    const hash = await sha256(JSON.stringify(request));
    const now = Date.now();
    const id = crypto.randomUUID();
    const outcome = outcomeFor(request.submission.respondent_phone);

    const usage = await store.usage(user.id);
    if (usage.calls_used >= user.calls_allocated || usage.minutes_used >= user.minutes_allocated) {
      // Test mode's upgrade is the free top-up (POST {"email"} there, or sign in with another email).
      if (!key || !(await store.callByKey(user.id, key)))
        return c.json(
          quotaExceeded(user, usage.minutes_used, `${c.req.url.replace(/\/v1\/calls.*$/, "")}/top-up`),
          402,
        );
    }
    const lengthMs = callLengthMs(id, config(c.env).sandbox.callSeconds);
    const { row, replayed } = await store.insertCall({
      id,
      user_id: user.id,
      request: JSON.stringify(request),
      outcome,
      duration_seconds: durationFor(outcome, lengthMs),
      created_at: now,
      ends_at: now + lengthMs,
      idempotency_key: key,
      request_hash: hash,
    });
    if (replayed && row.request_hash !== hash)
      throw refuse(422, "idempotency_conflict", "This Idempotency-Key was used with a different request.");
    if (fault === "malformed") return injectFault(fault, c);
    if (replayed) c.header("idempotent-replayed", "true");
    // KallyAI answers once the call has ended (a retry with the same key waits for the same call).
    const answered = placesSynchronously(c.env) ? await holdUntilEnded(store, row, c.req.raw.signal) : row;
    return c.json(callJson(answered, Date.now(), true), 201);
  })
  .get("/", async (c) => {
    // The reference: limit 1–200, default 50. Whole numbers only: D1 refuses a fractional LIMIT/OFFSET.
    const limit = Math.min(200, Math.max(1, Math.trunc(Number(c.req.query("limit") ?? 50)) || 50));
    const offset = Math.max(0, Math.trunc(Number(c.req.query("offset") ?? 0)) || 0);
    const now = Date.now();
    const { rows, total } = await new SandboxStore(c.env.DB).listCalls(c.get("user").id, limit, offset, {
      endedBy: placesSynchronously(c.env) ? now : undefined,
    });
    return c.json({ calls: rows.map((r) => callJson(r, now, false)), total });
  })
  .get("/:id", async (c) => c.json(callJson(await ownCall(c, c.req.param("id")), Date.now(), true)))
  .get("/:id/transcript", async (c) => {
    const row = await ownCall(c, c.req.param("id"));
    const state = callState(row, Date.now());
    if (state.status !== "success" && state.status !== "voicemail")
      throw new ApiError(404, "transcript_not_found", "No transcript for this call (yet).");
    const { submission } = JSON.parse(row.request) as CallRequest;
    const lines = transcriptFor(state.status, submission, row.created_at, state.ended_at ?? row.ends_at);
    return c.json(shapedTranscript(transcriptShapeFor(submission.respondent_phone), lines, row.created_at));
  })
  .get("/:id/calendar.ics", async (c) => {
    const row = await ownCall(c, c.req.param("id"));
    const state = callState(row, Date.now());
    const request = JSON.parse(row.request) as CallRequest;
    if (state.ended_at === null || !bookedSomething(state.status, request.submission))
      throw new ApiError(404, "not_found", "This call booked nothing, so it has no calendar event.");
    return c.body(calendarFor(row.id, request.submission, request.timezone, state.ended_at), 200, {
      "content-type": "text/calendar; charset=utf-8",
      "content-disposition": `attachment; filename="kallyai-${row.id}.ics"`,
    });
  })
  .get("/:id/recording", undocumented, async (c) => {
    const row = await ownCall(c, c.req.param("id"));
    const state = callState(row, Date.now());
    if (state.status !== "success" && state.status !== "voicemail")
      throw new ApiError(404, "recording_not_found", "No recording for this call.");
    return c.json({ recording_url: `${c.req.url.replace(/\/recording(\?.*)?$/, "")}/recording.wav` });
  })
  .post("/:id/cancel", undocumented, async (c) => {
    const row = await ownCall(c, c.req.param("id"));
    const now = Date.now();
    if (row.cancelled_at === null && !(await new SandboxStore(c.env.DB).cancelCall(row.id, now))) {
      throw new ApiError(409, "call_already_ended", "The call has already ended.");
    }
    // Cancelled now, or earlier: the row as it now stands.
    return c.json(callJson({ ...row, cancelled_at: row.cancelled_at ?? now }, now, true));
  });

/** Served without a token, like a signed media URL: the call id is the capability. */
export const sandboxRecordings = new Hono<SandboxEnv>().get("/:id/recording.wav", undocumented, async (c) => {
  const row = await new SandboxStore(c.env.DB).call(c.req.param("id"));
  if (!row || !["success", "voicemail"].includes(callState(row, Date.now()).status))
    throw new ApiError(404, "recording_not_found", "No recording for this call.");
  return c.body(silentWav(), 200, { "content-type": "audio/wav" });
});

export { SUPPORTED_COUNTRIES_TEXT };
