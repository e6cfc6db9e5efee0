import { createRoute, z } from "@hono/zod-openapi";
import {
  calendar,
  cancelCall,
  getCall,
  listCalls,
  placeCall,
  recording,
  transcript,
  waitForCall,
} from "../domain/calls";
import { deps } from "../domain/deps";
import { callSentence, transcriptText } from "../domain/speech";
import { requireKey } from "../http/auth";
import { readFields } from "../http/fields";
import { idempotencyKeyOf } from "../http/idempotency-key";
import { wantsText } from "../http/negotiate";
import { errorResponses, json, keyAuth, router, TextAnswer } from "../http/openapi";
import { CallId, CallSchema, PageQuery, PlacedSchema, TranscriptSchema, WaitSeconds } from "../shared/api-schemas";
import { parseCallRequest } from "../shared/call-request";
import { CALL_STATUSES } from "../shared/call-status";
import { SAMPLE_FINISHED_CALL } from "../shared/call-view";

const Format = z
  .enum(["json", "text"])
  .optional()
  .openapi({ description: "text: a short sentence for Siri and Shortcuts (or send Accept: text/plain)." });
const oneStatus = `\\s*(${CALL_STATUSES.join("|")})\\s*`;
const StatusFilter = z
  .string()
  .max(1000)
  .regex(
    new RegExp(`^(${oneStatus}(,${oneStatus})*)?$`),
    `must be call statuses, comma-separated: ${CALL_STATUSES.join(", ")}`,
  )
  .optional()
  .openapi({
    description: `Only these statuses, comma-separated (e.g. success,voicemail): ${CALL_STATUSES.join(", ")}`,
  });
const upstreamErrors = [403, 404, 409, 422, 502, 504] as const;

export const calls = router();
calls.use("/v1/calls", async (c, next) => requireKey(c.req.method === "POST" ? "calls:write" : "calls:read")(c, next));
// The key check also reads the call the path names, so a proxied read costs one D1 round trip.
calls.use("/v1/calls/*", async (c, next) =>
  requireKey(c.req.method === "POST" ? "calls:write" : "calls:read", { callId: callIdIn(c.req.path) })(c, next),
);

/** The {id} of /v1/calls/{id} and /v1/calls/{id}/…, when it looks like one (the route validates it). */
function callIdIn(path: string): string | undefined {
  const raw = /^\/v1\/calls\/([^/]{1,100})(?:\/[^/]*)?$/.exec(path)?.[1];
  return raw === undefined ? undefined : safeDecode(raw);
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

calls.openapi(
  createRoute({
    method: "post",
    path: "/v1/calls",
    operationId: "placeCall",
    tags: ["calls"],
    summary: "Place a call (kallyai -p … -t …)",
    description:
      "Send flat fields as JSON, a form (urlencoded or multipart) or the query string; or KallyAI's own `{submission, timezone}` body. Phone numbers may be in any common format. The call is placed in the background (KallyAI answers only once a call has ended): the answer comes within a few seconds with the bridge's own call id, or with KallyAI's refusal (402, 403, 422) when KallyAI refuses at once. Retrying with the same `Idempotency-Key` (header or field) within 24 h answers the first response and places no second call.",
    security: keyAuth,
    request: {
      headers: z.object({
        "idempotency-key": z.string().max(255).optional().openapi({ description: "Makes retries safe." }),
      }),
      body: {
        description: "The call's fields",
        content: {
          "application/json": {
            schema: { $ref: "#/components/schemas/CallInput" },
            example: {
              phone: "(415) 555-1234",
              task: "Reserve a table for 4 at 8pm",
              category: "restaurant",
              name: "John Smith",
              business: "Italian Bistro",
              party_size: 4,
              date: "2026-01-28",
              time: "20:00",
            },
          },
          "application/x-www-form-urlencoded": { schema: { $ref: "#/components/schemas/CallInput" } },
          "multipart/form-data": { schema: { $ref: "#/components/schemas/CallInput" } },
        },
      },
    },
    responses: {
      202: {
        description:
          "Accepted: `queued`, or `in_progress` once KallyAI has it; the outcome comes later (GET /v1/calls/{id}?wait=25, webhooks or /v1/events)",
        content: { "application/json": { schema: PlacedSchema }, ...TextAnswer },
      },
      ...errorResponses(402, 403, 409, 422, 429, 502, 504),
    },
  }),
  async (c) => {
    const d = deps(c.env);
    const fields = await readFields(c);
    const request = parseCallRequest(fields, d.cfg.defaults);
    const key = idempotencyKeyOf(c, fields);
    const placed = await placeCall(d, c.get("auth"), request, key);
    if (wantsText(c))
      return c.text(
        `Calling ${request.submission.business_name ?? request.submission.respondent_phone} now. Call id ${placed.id}.`,
        202,
      );
    return c.json(placed, 202);
  },
);

calls.openapi(
  createRoute({
    method: "get",
    path: "/v1/calls",
    operationId: "listCalls",
    tags: ["calls"],
    summary: "Call history, newest first (kallyai --history)",
    description:
      "The calls placed through the bridge, newest first, a page at a time (`next_cursor`); `status` filters by outcome.",
    security: keyAuth,
    request: {
      query: PageQuery.extend({
        offset: z.coerce.number().int().min(0).max(10_000).optional(),
        status: StatusFilter,
      }),
    },
    responses: {
      200: json(z.object({ items: z.array(CallSchema), next_cursor: z.string().nullable() }), "A page of calls", {
        items: [SAMPLE_FINISHED_CALL],
        next_cursor: "MTc2OTYyMzMzMTAwMDo2ZjFj",
      }),
      ...errorResponses(401, 403, 422),
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const status = q.status
      ? [
          ...new Set(
            q.status
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean),
          ),
        ]
      : undefined;
    return c.json(
      await listCalls(deps(c.env), c.get("auth").userId, {
        limit: q.limit,
        cursor: q.cursor,
        offset: q.offset,
        status,
      }),
      200,
    );
  },
);

calls.openapi(
  createRoute({
    method: "get",
    path: "/v1/calls/{id}",
    operationId: "getCall",
    tags: ["calls"],
    summary: "One call and its outcome (kallyai --call-info)",
    description:
      "`wait=N` (up to 25 s) holds the request until the call ends, so a Shortcut can loop on it without hammering anything.",
    security: keyAuth,
    request: {
      params: CallId,
      query: z.object({
        wait: WaitSeconds.optional().openapi({ description: "Seconds to wait for the call to end (0–25)" }),
        format: Format,
      }),
    },
    responses: {
      200: { description: "The call", content: { "application/json": { schema: CallSchema }, ...TextAnswer } },
      ...errorResponses(...upstreamErrors),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { wait } = c.req.valid("query");
    const d = deps(c.env);
    const auth = c.get("auth");
    const call = wait ? await waitForCall(d, auth, id, wait) : await getCall(d, auth, id);
    return wantsText(c) ? c.text(callSentence(call), 200) : c.json(call, 200);
  },
);

calls.openapi(
  createRoute({
    method: "get",
    path: "/v1/calls/{id}/transcript",
    operationId: "getTranscript",
    tags: ["calls"],
    summary: "What was said (kallyai --transcript)",
    description: "The call's transcript, line by line; `format=text` answers it as plain text.",
    security: keyAuth,
    request: { params: CallId, query: z.object({ format: Format }) },
    responses: {
      200: {
        description: "The transcript",
        content: { "application/json": { schema: TranscriptSchema }, ...TextAnswer },
      },
      ...errorResponses(...upstreamErrors),
    },
  }),
  async (c) => {
    const t = await transcript(deps(c.env), c.get("auth"), c.req.valid("param").id);
    return wantsText(c) ? c.text(transcriptText(t.entries), 200) : c.json(t, 200);
  },
);

calls.openapi(
  createRoute({
    method: "get",
    path: "/v1/calls/{id}/recording",
    operationId: "getRecording",
    tags: ["calls"],
    summary: "Where to download the call's recording, when KallyAI has one",
    description:
      "A URL to the call's audio; 404 `recording_not_found` for calls nobody answered (or not ended yet), 404 `recording_not_available` when KallyAI does not offer recordings through its API (its reference documents none).",
    security: keyAuth,
    request: { params: CallId },
    responses: {
      200: json(
        z
          .object({ call_id: z.string(), recording_url: z.string() })
          .openapi({ example: { call_id: "6f1c…", recording_url: "https://…/recording.wav" } }),
        "The recording's URL",
      ),
      ...errorResponses(...upstreamErrors),
    },
  }),
  async (c) => c.json(await recording(deps(c.env), c.get("auth"), c.req.valid("param").id), 200),
);

calls.openapi(
  createRoute({
    method: "post",
    path: "/v1/calls/{id}/cancel",
    operationId: "cancelCall",
    tags: ["calls"],
    summary: "Cancel a queued or running call",
    description:
      "A call KallyAI has not taken yet is cancelled here and never placed. Once KallyAI has it, only KallyAI can stop it, and its reference documents no cancel: 409 `cannot_cancel` unless KallyAI answers the cancel. 409 `call_already_ended` once it has ended.",
    security: keyAuth,
    request: { params: CallId },
    responses: { 200: json(CallSchema, "The cancelled call"), ...errorResponses(...upstreamErrors) },
  }),
  async (c) => c.json(await cancelCall(deps(c.env), c.get("auth"), c.req.valid("param").id), 200),
);

calls.openapi(
  createRoute({
    method: "get",
    path: "/v1/calls/{id}/calendar.ics",
    operationId: "getCallCalendar",
    tags: ["calls"],
    summary: "The appointment the call booked, as an iCalendar file (Add to Calendar)",
    description:
      "KallyAI's calendar.ics for a call that booked something (a table, an appointment, a room), to open in a calendar app; 404 `calendar_not_found` for a call that booked nothing or has not ended.",
    security: keyAuth,
    request: { params: CallId },
    responses: {
      200: {
        description: "The event",
        content: { "text/calendar": { schema: z.string().openapi({ example: "BEGIN:VCALENDAR\r\n…" }) } },
      },
      ...errorResponses(...upstreamErrors),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const ics = await calendar(deps(c.env), c.get("auth"), id);
    return c.body(ics, 200, {
      "content-type": "text/calendar; charset=utf-8",
      "content-disposition": `attachment; filename="call-${id}.ics"`,
    });
  },
);
