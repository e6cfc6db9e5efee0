import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { ErrorCode } from "../errors";
import { errorCodesMarkdown } from "./error-codes";
import { ORIGIN_PLACEHOLDER } from "./openapi-served";
import type { AppEnv } from "./types";
import { validationHook } from "./validation";

type OpenAPIRegistry = OpenAPIHono["openAPIRegistry"];

/**
 * The shared parts of the OpenAPI document: the error answers, the headers every answer carries,
 * the tags, and `finishDocument`, which adds what every operation can answer so each route only
 * lists what is its own.
 */

/**
 * The one error shape, with every code's meaning. Made only when the document is built (in Node):
 * the worker never needs the meanings, so its bundle leaves them out.
 */
const errorSchema = () =>
  z
    .object({
      error: z.object({
        code: z.string().openapi({
          description: `What went wrong, for programs. The bridge's codes:\n\n${errorCodesMarkdown()}\n\nKallyAI's own codes are passed through unchanged.`,
          example: "validation_error",
        }),
        message: z.string().openapi({
          description: "What went wrong and what to do, for people.",
          example: "phone: Enter the number to call, e.g. +14155551234.",
        }),
        field: z
          .string()
          .optional()
          .openapi({ description: "The request field at fault, when there is one.", example: "phone" }),
        upgrade_url: z.string().optional().openapi({
          description: "With `quota_exceeded`: where to upgrade the KallyAI plan, as KallyAI gave it.",
          example: "https://kallyai.com/pricing",
        }),
      }),
    })
    .openapi("Error", { description: "Every failure has this shape, whatever the Accept header says." });

const ref = (kind: "responses" | "headers" | "schemas" | "parameters", name: string) => ({
  $ref: `#/components/${kind}/${name}`,
});

/** The headers of the document, by the name they are registered under. */
const HEADERS = {
  "X-Request-Id": {
    description: "Identifies this answer in the bridge's logs; quote it when reporting a problem.",
    required: true,
    schema: { type: "string" as const, example: "3f2c1a9e-5b7d-4c21-9a55-0d2e8f7b1c34" },
  },
  "Retry-After": {
    description: "Seconds to wait before trying again.",
    schema: { type: "integer" as const, minimum: 1, example: 30 },
  },
  Allow: {
    description: "The methods this path takes.",
    required: true,
    schema: { type: "string" as const, example: "GET, HEAD, POST" },
  },
  Location: {
    description: "Where the browser is sent.",
    required: true,
    schema: {
      type: "string" as const,
      format: "uri-reference" as const,
      example: "https://api.kallyai.com/v1/auth/cli?state=c2lnbi1pbi1zdGF0ZQ",
    },
  },
};
type HeaderName = keyof typeof HEADERS;

interface ErrorAnswer {
  name: string;
  description: string;
  headers?: HeaderName[];
}
/** Keeps the statuses as the keys' type, so errorResponses takes only statuses described here. */
const errorAnswers = <Status extends number>(answers: Record<Status, ErrorAnswer>) => answers;

/** Each error status: its component name, what it means, and the headers it sends beyond X-Request-Id. */
const ERRORS = errorAnswers({
  400: { name: "BadRequest", description: "Malformed request: the body is not valid JSON or not a readable form." },
  401: { name: "Unauthorized", description: "Missing, invalid, expired or revoked API key." },
  402: {
    name: "PaymentRequired",
    description: "The KallyAI plan has no minutes left (`quota_exceeded`); the message says where to get more.",
  },
  403: { name: "Forbidden", description: "The key lacks the scope, or KallyAI refused the country." },
  404: { name: "NotFound", description: "Not found on this account." },
  405: {
    name: "MethodNotAllowed",
    description: "This path does not take that method; Allow lists the ones it takes.",
    headers: ["Allow"],
  },
  409: {
    name: "Conflict",
    description: "The KallyAI account must be linked again, or the resource is in a state that forbids this now.",
    headers: ["Retry-After"],
  },
  413: { name: "PayloadTooLarge", description: "The body is larger than this endpoint accepts." },
  415: { name: "UnsupportedMediaType", description: "The body's Content-Type is not one this endpoint reads." },
  422: { name: "UnprocessableEntity", description: "A field is missing or invalid; `error.field` names it." },
  429: {
    name: "TooManyRequests",
    description: "Too many requests; wait for Retry-After seconds.",
    headers: ["Retry-After"],
  },
  500: { name: "InternalError", description: "The bridge failed; quote X-Request-Id when reporting it." },
  502: { name: "BadGateway", description: "KallyAI failed or sent an unreadable answer.", headers: ["Retry-After"] },
  503: {
    name: "ServiceUnavailable",
    description: "KallyAI is busy (see Retry-After), or the bridge is misconfigured.",
    headers: ["Retry-After"],
  },
  504: { name: "GatewayTimeout", description: "KallyAI did not answer in time." },
});
export type ErrorStatus = keyof typeof ERRORS;

/** The error answers of a route (references to the shared ones, all in the one error shape). */
export function errorResponses(...statuses: ErrorStatus[]) {
  return Object.fromEntries(statuses.map((s) => [s, ref("responses", ERRORS[s].name)]));
}

const withRequestId = (headers: Record<string, unknown> = {}) => ({
  "X-Request-Id": ref("headers", "X-Request-Id"),
  ...headers,
});

/** A JSON answer, with an example for the document (every endpoint shows one). */
export const json = <T extends z.ZodType>(schema: T, description: string, example?: unknown) => ({
  description,
  content: { "application/json": example === undefined ? { schema } : { schema, example } },
});

/** The `text/plain` answer of `?format=text` (or Accept: text/plain): one sentence for Siri and Shortcuts. */
export const TextAnswer = {
  "text/plain": {
    schema: z.string().openapi({
      example: "Call to Italian Bistro succeeded: Table for 4 at 8pm confirmed. Next: Arrive 10 minutes early.",
    }),
  },
};

/** An API key (either header), or an OAuth access token for the resource (/v1 or /mcp). */
export const keyAuth: Record<string, string[]>[] = [{ ApiKey: [] }, { ApiKeyHeader: [] }, { OAuth2: [] }];
/** Operations anyone may call (their credential, if any, is in the request itself). */
export const noAuth: Record<string, string[]>[] = [];

export const TAGS = [
  { name: "meta", description: "Health of the bridge." },
  { name: "sign-in", description: "Browser pages that link a KallyAI account and show its first API key." },
  {
    name: "account link",
    description: "Link or unlink a KallyAI account with its refresh token, and see who a key belongs to.",
  },
  { name: "keys", description: "The bridge's own API keys: one per tool, scoped, revocable." },
  {
    name: "oauth",
    description:
      'The bridge as an OAuth 2.1 authorization server, for apps connected by click (MCP clients, Zapier): discovery (RFC 9728, RFC 8414), registration (RFC 7591, or a Client ID Metadata Document), the consent page, tokens, refresh and revocation (RFC 7009). Errors here are OAuth\'s: `{"error", "error_description"}`.',
  },
  { name: "calls", description: "Place AI phone calls and read their outcomes, transcripts and recordings." },
  { name: "account", description: "The KallyAI plan: usage, subscription and billing." },
  {
    name: "triggers",
    description:
      "Trigger URLs: secret links that place a preset call when hit (IFTTT, Shortcuts, anything that can fetch a URL).",
  },
  {
    name: "webhooks",
    description: "REST-hook subscriptions: call events POSTed to your URL, signed per Standard Webhooks, retried.",
  },
  { name: "events", description: "The same call events as a feed, for polling triggers and samples." },
];

export function registerSharedComponents(registry: OpenAPIRegistry) {
  for (const [name, header] of Object.entries(HEADERS)) registry.registerComponent("headers", name, header);
  for (const [status, e] of Object.entries(ERRORS)) {
    registry.registerComponent("responses", e.name, {
      description: e.description,
      headers: withRequestId(Object.fromEntries((e.headers ?? []).map((h) => [h, ref("headers", h)]))),
      content: {
        "application/json": {
          schema: ref("schemas", "Error"),
          example: { error: { code: exampleCode(Number(status)), message: "…" } },
        },
      },
    });
  }
  registry.register("Error", errorSchema());
  registry.registerComponent("securitySchemes", "ApiKey", {
    type: "http",
    scheme: "bearer",
    description:
      "A bridge API key (from /auth/login, POST /v1/link or POST /v1/keys) as `Authorization: Bearer <key>`.",
  });
  registry.registerComponent("securitySchemes", "OAuth2", {
    type: "oauth2",
    description:
      "For apps a person connects by clicking Connect (Claude, ChatGPT, Zapier): the authorization code flow with PKCE S256; discovery at /.well-known/oauth-protected-resource/v1 (and /mcp). A token is for one resource: /v1 or /mcp. See docs/oauth.md.",
    flows: {
      authorizationCode: {
        authorizationUrl: `${ORIGIN_PLACEHOLDER}/authorize`,
        tokenUrl: `${ORIGIN_PLACEHOLDER}/oauth/token`,
        refreshUrl: `${ORIGIN_PLACEHOLDER}/oauth/token`,
        scopes: {
          "calls:write": "Place calls and make trigger URLs.",
          "calls:read": "Read calls, transcripts and recordings.",
          "account:read": "Read usage, plan and billing.",
          webhooks: "Manage webhooks and read the event feed.",
        },
      },
    },
  });
  registry.registerComponent("securitySchemes", "ApiKeyHeader", {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
    description: "The same API key, as `X-API-Key: <key>`.",
  });
}

function exampleCode(status: number): ErrorCode {
  const codes: Record<number, ErrorCode> = {
    400: "malformed_json",
    401: "missing_api_key",
    402: "quota_exceeded",
    403: "insufficient_scope",
    404: "not_found",
    405: "method_not_allowed",
    409: "relink_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    502: "upstream_unavailable",
    503: "upstream_unavailable",
    504: "upstream_unavailable",
  };
  return codes[status] ?? "internal_error";
}

/** The parts of an OpenAPI document finishDocument reads and completes. */
interface DocumentShape {
  security?: unknown[];
  paths?: Record<string, object>;
}
interface OperationShape {
  security?: unknown[];
  requestBody?: unknown;
  responses?: Record<string, { $ref?: string; headers?: Record<string, unknown> }>;
}
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

/**
 * What every operation can answer, added to each so routes list only their own statuses:
 * X-Request-Id on every answer; 405, 500 and 503 everywhere; 401 with a key; 413 on writes;
 * 400 and 415 with a body.
 */
export function finishDocument<T extends DocumentShape>(doc: T): T {
  for (const item of Object.values(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = (item as Record<string, OperationShape | undefined>)[method];
      if (!op) continue;
      const implied: ErrorStatus[] = [405, 500, 503];
      if ((op.security ?? doc.security ?? []).length > 0) implied.push(401);
      if (method !== "get") implied.push(413); // every write has a body limit, whether it reads a body or not
      if (op.requestBody) implied.push(400, 415);
      op.responses = sortByStatus({ ...errorResponses(...implied), ...op.responses });
      for (const response of Object.values(op.responses)) {
        if (!("$ref" in response)) response.headers = withRequestId(response.headers);
      }
    }
  }
  return doc;
}

const sortByStatus = <R>(responses: Record<string, R>) =>
  Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));

export const router = () => new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
