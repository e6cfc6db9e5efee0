import { createRoute, z } from "@hono/zod-openapi";
import {
  createKey,
  DEFAULT_CALLS_PER_HOUR,
  KEYS_PER_HOUR,
  keyJson,
  MAX_ACTIVE_KEYS,
  MAX_CALLS_PER_HOUR,
} from "../domain/api-keys";
import { deps } from "../domain/deps";
import { MANAGE_SCOPE, SCOPES } from "../domain/key-signing";
import { notFound } from "../errors";
import { requireKey } from "../http/auth";
import { errorResponses, json, keyAuth, router } from "../http/openapi";

const Scope = z.enum(SCOPES);
const KeyInfo = z
  .object({
    id: z.string().openapi({ example: "key_3kTq9v0bX1yZ" }),
    name: z.string().openapi({ example: "Zapier — restaurant bookings" }),
    scopes: z.array(Scope),
    calls_per_hour: z.number().int(),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
  })
  .openapi("ApiKeyInfo");
const NewKey = KeyInfo.omit({ last_used_at: true })
  .extend({ api_key: z.string().openapi({ description: "The key itself. Shown only in this answer." }) })
  .openapi("NewApiKey");

const CreateKey = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ example: "iOS Shortcut" }),
    scopes: z
      .array(Scope)
      .min(1)
      .optional()
      .openapi({
        description: `Default: the scopes of the key making the request, without ${MANAGE_SCOPE}. Never more than that key's.`,
      }),
    expires_in: z
      .number()
      .int()
      .min(60)
      .max(10 * 365 * 24 * 3600)
      .optional()
      .openapi({
        description:
          "Seconds until the key expires. Default: when the key making the request expires (never, for the sign-in key); never later than that.",
      }),
    calls_per_hour: z
      .number()
      .int()
      .min(0)
      .max(MAX_CALLS_PER_HOUR)
      .optional()
      .openapi({
        description: `Runaway guard: calls this key may place per hour. Default ${DEFAULT_CALLS_PER_HOUR}, or the requesting key's own limit when lower; never higher than it. The new key's calls also count against the limit of the key making the request (and of every key above it), revoked or not: making keys never adds calls.`,
      }),
  })
  .openapi("CreateApiKey");

export const keys = router();
// Managing keys is the account owner's: the sign-in key, or a key explicitly given account:manage.
// "/v1/keys/*" also matches "/v1/keys" itself: one key check per request.
keys.use("/v1/keys/*", requireKey(MANAGE_SCOPE));

keys.openapi(
  createRoute({
    method: "post",
    path: "/v1/keys",
    operationId: "createApiKey",
    tags: ["keys"],
    summary: "Create an API key for one tool",
    description: `Needs ${MANAGE_SCOPE}. The new key never has more scopes, a later expiry or a higher calls_per_hour than the key making the request, and its calls count against that key's calls_per_hour too. An account may have ${MAX_ACTIVE_KEYS} active keys and create ${KEYS_PER_HOUR} per hour.`,
    security: keyAuth,
    request: {
      body: {
        required: true,
        content: {
          "application/json": { schema: CreateKey, example: { name: "Zapier", scopes: ["calls:write", "calls:read"] } },
        },
      },
    },
    responses: { 201: json(NewKey, "The new key (shown once)"), ...errorResponses(403, 422, 429) },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const key = await createKey(deps(c.env), c.get("auth"), {
      name: body.name,
      scopes: body.scopes,
      expiresInSeconds: body.expires_in,
      callsPerHour: body.calls_per_hour,
    });
    return c.json(key, 201);
  },
);

keys.openapi(
  createRoute({
    method: "get",
    path: "/v1/keys",
    operationId: "listApiKeys",
    tags: ["keys"],
    summary: "List the active API keys (never the keys themselves)",
    description: "Ids, names, scopes, limits and last use of the account's active keys, newest first.",
    security: keyAuth,
    responses: {
      200: json(z.object({ items: z.array(KeyInfo) }), "Active keys, newest first", {
        items: [
          {
            id: "key_3kTq9v0bX1yZ",
            name: "Zapier",
            scopes: ["calls:write", "calls:read"],
            calls_per_hour: 20,
            created_at: "2026-01-20T09:00:00.000Z",
            expires_at: null,
            last_used_at: "2026-01-28T18:02:11.000Z",
          },
        ],
      }),
      ...errorResponses(403),
    },
  }),
  async (c) => {
    const rows = await deps(c.env).keys.listActive(c.get("auth").userId);
    return c.json({ items: rows.results.map(keyJson) }, 200);
  },
);

keys.openapi(
  createRoute({
    method: "delete",
    path: "/v1/keys/{id}",
    operationId: "revokeApiKey",
    tags: ["keys"],
    summary: "Revoke an API key",
    description: "The key stops working at once. Find its id with GET /v1/keys.",
    security: keyAuth,
    request: { params: z.object({ id: z.string().min(1).max(64).openapi({ example: "key_3kTq9v0bX1yZ" }) }) },
    responses: {
      200: json(z.object({ id: z.string(), revoked: z.literal(true) }), "Revoked; it stops working at once", {
        id: "key_3kTq9v0bX1yZ",
        revoked: true,
      }),
      ...errorResponses(403, 404, 422),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    if (!(await deps(c.env).keys.revoke(id, c.get("auth").userId)))
      throw notFound(`API key ${id}`, "List your keys with GET /v1/keys.");
    return c.json({ id, revoked: true as const }, 200);
  },
);
