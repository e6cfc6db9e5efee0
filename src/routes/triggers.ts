import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { placeCall, waitForCall } from "../domain/calls";
import { deps } from "../domain/deps";
import { callSentence } from "../domain/speech";
import {
  createTrigger,
  editTrigger,
  fillTemplate,
  OPENABLE_FIELDS,
  resolveTrigger,
  triggerJson,
} from "../domain/triggers";
import { notFound } from "../errors";
import { background, requireKey } from "../http/auth";
import { readFields } from "../http/fields";
import { htmlErrors } from "../http/html-errors";
import { idempotencyKeyOf } from "../http/idempotency-key";
import { prefersHtml, wantsText } from "../http/negotiate";
import { errorResponses, json, keyAuth, noAuth, router, TextAnswer } from "../http/openapi";
import type { AppEnv } from "../http/types";
import { CallSchema, PlacedSchema } from "../shared/api-schemas";
import { fieldError, parseCallRequest } from "../shared/call-request";
import { escapeHtml, page } from "../shared/html";

const FieldValue = z.union([z.string().max(1000), z.number(), z.boolean(), z.array(z.string().max(500)).max(20)]);
const OpenFields = z
  .array(z.string().max(40))
  .max(OPENABLE_FIELDS.length)
  .openapi({
    description: `Call fields a hit may set (or change from the template's value), beyond the template's {{placeholders}}: any of ${OPENABLE_FIELDS.join(", ")}. Default: none, so a hit cannot change the number, the task or anything else the template says.`,
    example: ["party_size"],
  });
const CreateTrigger = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ example: "Oat milk check" }),
    open_fields: OpenFields.optional(),
  })
  .catchall(FieldValue)
  .openapi("CreateTrigger", {
    description:
      "A name, plus any call field (see POST /v1/calls) as the template. Values may hold {{value1}}, {{value2}}, {{value3}} or {{any_field}}, filled from each hit; a hit may set no other call field unless `open_fields` names it.",
    example: {
      name: "Oat milk check",
      phone: "+14155551234",
      category: "general",
      task: "Ask whether they have {{value1}} in stock",
    },
  });
const TRIGGER_EXAMPLE = {
  id: "trg_x1Yq2Zr3",
  name: "Oat milk check",
  fields: { phone: "+14155551234", task: "Ask whether they have {{value1}} in stock" },
  open: false,
  open_fields: [],
  created_at: "2026-01-20T09:00:00.000Z",
  last_used_at: null,
};
const Openness = {
  open: z.boolean().openapi({
    description:
      "true for a trigger made before open_fields existed: a hit may set any call field, as then. Editing it (PATCH) locks it.",
  }),
  open_fields: z.array(z.string()).openapi({ description: "The call fields a hit may set beyond the placeholders." }),
};
const TriggerInfo = z
  .object({
    id: z.string(),
    name: z.string(),
    fields: z.record(z.string(), FieldValue),
    ...Openness,
    created_at: z.string(),
    last_used_at: z.string().nullable(),
  })
  .openapi("Trigger", { example: TRIGGER_EXAMPLE });
const NewTrigger = z
  .object({
    id: z.string(),
    name: z.string(),
    url: z.string().openapi({ description: "GET or POST it to place the call. Shown only in this answer." }),
    fields: z.record(z.string(), FieldValue),
    ...Openness,
    created_at: z.string(),
  })
  .openapi("NewTrigger", {
    example: { ...TRIGGER_EXAMPLE, url: "https://bridge.example.com/t/Xq3vN0cTq8m1…", last_used_at: undefined },
  });
const EditTrigger = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    fields: z
      .record(z.string(), FieldValue)
      .optional()
      .openapi({ description: "The template, replaced whole: call fields, values may hold {{placeholders}}." }),
    open_fields: OpenFields.optional(),
  })
  .refine((b) => b.name !== undefined || b.fields !== undefined || b.open_fields !== undefined, {
    message: "Send name, fields or open_fields.",
  })
  .openapi("EditTrigger", { example: { open_fields: ["party_size"] } });
/** IFTTT's value1..value3: what a hit fills the trigger's placeholders with. */
const PlaceholderValues = {
  value1: z.string().max(1000).optional().openapi({ description: "Fills {{value1}}", example: "oat milk" }),
  value2: z.string().max(1000).optional().openapi({ description: "Fills {{value2}}" }),
  value3: z.string().max(1000).optional().openapi({ description: "Fills {{value3}}" }),
};
const TriggerValues = z.object(PlaceholderValues).catchall(FieldValue).openapi("TriggerValues", {
  description:
    "value1..value3 and any other placeholder's name, and the call fields (see CallInput) the trigger's open_fields name, as JSON or form fields.",
});
const TriggerId = z.object({ id: z.string().min(1).max(64).openapi({ example: "trg_x1Yq2Zr3" }) });

/** Managing trigger URLs (with a key)… */
export const triggers = router();
// "/v1/triggers/*" also matches "/v1/triggers" itself: one key check per request.
triggers.use("/v1/triggers/*", requireKey("calls:write"));

triggers.openapi(
  createRoute({
    method: "post",
    path: "/v1/triggers",
    operationId: "createTrigger",
    tags: ["triggers"],
    summary: "Create a trigger URL that places a call when hit",
    description:
      "Stores a call's fields as a template and answers a secret URL; hitting it places the call, with `{{value1}}`… filled from the hit. The URL is shown only in this answer.",
    security: keyAuth,
    request: { body: { required: true, content: { "application/json": { schema: CreateTrigger } } } },
    responses: { 201: json(NewTrigger, "The trigger and its URL (shown once)"), ...errorResponses(403, 422) },
  }),
  async (c) => {
    const { name, open_fields: openFields, ...template } = c.req.valid("json");
    const created = await createTrigger(
      deps(c.env),
      c.get("auth"),
      { name, template, openFields },
      new URL(c.req.url).origin,
    );
    return c.json(created, 201);
  },
);

triggers.openapi(
  createRoute({
    method: "get",
    path: "/v1/triggers",
    operationId: "listTriggers",
    tags: ["triggers"],
    summary: "List trigger URLs (without their secret URLs)",
    description: "The account's active triggers and their templates, newest first.",
    security: keyAuth,
    responses: {
      200: json(z.object({ items: z.array(TriggerInfo) }), "Active triggers, newest first", {
        items: [TRIGGER_EXAMPLE],
      }),
      ...errorResponses(403),
    },
  }),
  async (c) => c.json({ items: (await deps(c.env).triggers.list(c.get("auth").userId)).results.map(triggerJson) }, 200),
);

triggers.openapi(
  createRoute({
    method: "get",
    path: "/v1/triggers/{id}",
    operationId: "getTrigger",
    tags: ["triggers"],
    summary: "One trigger",
    description: "A trigger's name, template and last use (not its secret URL).",
    security: keyAuth,
    request: { params: TriggerId },
    responses: { 200: json(TriggerInfo, "The trigger"), ...errorResponses(403, 404, 422) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const row = await deps(c.env).triggers.get(id, c.get("auth").userId);
    if (!row) throw notFound(`Trigger ${id}`, "List your triggers with GET /v1/triggers.");
    return c.json(triggerJson(row), 200);
  },
);

triggers.openapi(
  createRoute({
    method: "patch",
    path: "/v1/triggers/{id}",
    operationId: "editTrigger",
    tags: ["triggers"],
    summary: "Edit a trigger: its name, template or open fields",
    description:
      "Changes the name, replaces the template, or sets the call fields a hit may set. The URL stays the same. Editing a trigger made before open_fields existed (`open: true`) locks it: afterwards a hit may set only its placeholders and the fields `open_fields` names.",
    security: keyAuth,
    request: {
      params: TriggerId,
      body: { required: true, content: { "application/json": { schema: EditTrigger } } },
    },
    responses: { 200: json(TriggerInfo, "The trigger as edited"), ...errorResponses(403, 404, 422) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const edited = await editTrigger(deps(c.env), c.get("auth").userId, id, {
      name: body.name,
      template: body.fields,
      openFields: body.open_fields,
    });
    return c.json(edited, 200);
  },
);

triggers.openapi(
  createRoute({
    method: "delete",
    path: "/v1/triggers/{id}",
    operationId: "revokeTrigger",
    tags: ["triggers"],
    summary: "Revoke a trigger URL",
    description: "Its URL answers 404 from now on.",
    security: keyAuth,
    request: { params: TriggerId },
    responses: {
      200: json(z.object({ id: z.string(), revoked: z.literal(true) }), "Revoked; its URL answers 404 from now on", {
        id: "trg_x1Yq2Zr3",
        revoked: true,
      }),
      ...errorResponses(403, 404, 422),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    if (!(await deps(c.env).triggers.revoke(id, c.get("auth").userId)))
      throw notFound(`Trigger ${id}`, "List your triggers with GET /v1/triggers.");
    return c.json({ id, revoked: true as const }, 200);
  },
);

/** A browser (Accept preferring text/html) gets a page, for errors too. */
const BrowserPage = {
  "text/html": { schema: z.string().openapi({ description: "A short page saying what happened, for a browser." }) },
};

/** …and the URLs themselves: the unguessable token is the credential. */
const hit = createRoute({
  method: "post",
  path: "/t/{token}",
  operationId: "hitTrigger",
  tags: ["triggers"],
  summary: "Hit a trigger URL: place its call (GET works too)",
  description:
    "Send value1..value3 (IFTTT's names) or any placeholder's name as JSON, form fields or query parameters; they fill the trigger's `{{value1}}`… placeholders. A call field the template sets is locked: a hit may send only those in the trigger's `open_fields` (else 422 `field_locked`). `wait=N` (≤ 25) answers the call once it has ended, if it ends within N seconds. Needs no key: the URL's token is the credential.",
  security: noAuth,
  request: {
    params: z.object({
      token: z.string().openapi({
        description: "From the URL POST /v1/triggers answered",
        example: "Xq3vN0cTq8m1bT2k9Wc4yZ7pQe5rA6sD",
      }),
    }),
    query: z
      .object({
        wait: z.coerce
          .number()
          .int()
          .min(0)
          .max(25)
          .optional()
          .openapi({ description: "Seconds to wait for the call to end (0–25)" }),
        format: z
          .enum(["json", "text"])
          .optional()
          .openapi({ description: "text: a short sentence for Siri and Shortcuts" }),
      })
      .passthrough(),
    body: {
      required: false,
      description:
        "Values for the trigger's placeholders, and the call fields its open_fields name. Empty fields count as absent.",
      content: {
        "application/json": { schema: TriggerValues, example: { value1: "oat milk" } },
        "application/x-www-form-urlencoded": { schema: TriggerValues },
        "multipart/form-data": { schema: TriggerValues },
      },
    },
  },
  responses: {
    202: {
      description: "Placed",
      content: { "application/json": { schema: PlacedSchema }, ...TextAnswer, ...BrowserPage },
    },
    200: {
      description: "Placed and ended within `wait`",
      content: { "application/json": { schema: CallSchema }, ...TextAnswer, ...BrowserPage },
    },
    ...errorResponses(402, 403, 404, 409, 422, 429, 502, 504),
  },
});

export const triggerUrls = router();
// Someone may open a trigger URL in a browser: it sees a page, success or not. Programs get JSON.
triggerUrls.use("/t/*", htmlErrors({ heading: "This trigger URL did not place a call" }));

/** What a browser sees after opening a trigger URL. */
const callPage = (sentence: string, callId: string) =>
  page(
    "Trigger URL — KallyAI Bridge",
    `<h1>${escapeHtml(sentence)}</h1><p class="note">Call id <code>${escapeHtml(callId)}</code></p>`,
  );

async function hitTrigger(c: Context<AppEnv>, token: string, wait: number | undefined): Promise<Response> {
  const d = deps(c.env);
  const { trigger, auth } = await resolveTrigger(d, token);
  const sent = await readFields(c);
  const request = parseCallRequest(fillTemplate(trigger, sent), d.cfg.defaults);
  const key = idempotencyKeyOf(c, sent);
  const placed = await placeCall(d, auth, request, key);
  background(c, d.triggers.touch(trigger.id, Date.now()));
  if (wait) {
    const call = await waitForCall(d, auth.userId, placed.id, wait);
    const status = call.finished ? 200 : 202;
    if (prefersHtml(c)) return c.html(callPage(callSentence(call), call.id), status);
    return wantsText(c) ? c.text(callSentence(call), status) : c.json(call, status);
  }
  const sentence = `Calling ${request.submission.business_name ?? request.submission.respondent_phone} now.`;
  if (prefersHtml(c)) return c.html(callPage(sentence, placed.id), 202);
  if (wantsText(c)) return c.text(sentence, 202);
  return c.json(placed, 202);
}

// Served by hand (any content type, GET or POST); documented from the same schemas.
const HitQuery = hit.request.query;
triggerUrls.openAPIRegistry.registerPath(hit);
triggerUrls.openAPIRegistry.registerPath({
  ...hit,
  method: "get",
  operationId: "hitTriggerWithGet",
  summary: "Hit a trigger URL with GET (same as POST)",
  description:
    "The same as POST, with the values in the query string (value1=…&value2=…), for tools that can only open a URL.",
  request: { ...hit.request, query: HitQuery.extend(PlaceholderValues), body: undefined },
});
triggerUrls.on(["GET", "POST"], "/t/:token", async (c) => {
  const query = HitQuery.safeParse(c.req.query());
  if (!query.success) throw fieldError(query.error);
  return hitTrigger(c, c.req.param("token"), query.data.wait);
});
