import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { json, noAuth } from "../http/openapi";
import { PRM } from "./oauth";

type Registry = OpenAPIHono["openAPIRegistry"];

const OAuthErrorSchema = z
  .object({
    error: z.string().openapi({ description: "RFC 6749 §5.2 / RFC 7591 §3.2.2 error code.", example: "invalid_grant" }),
    error_description: z.string().optional().openapi({ example: "Invalid authorization code" }),
  })
  .openapi("OAuthError", { description: "Every failure of the OAuth endpoints has OAuth's shape." });
const oauthError = (description: string) => ({
  description,
  content: { "application/json": { schema: OAuthErrorSchema } },
});
/** The answers the bridge gives before the library does, in OAuth's shape here. */
const OAUTH_ERRORS = {
  400: oauthError("A malformed or refused request (`invalid_request`, `invalid_grant`, `invalid_scope`, …)."),
  401: oauthError("Client authentication failed (`invalid_client`)."),
  405: oauthError("This path does not take that method."),
  413: oauthError("The body is larger than this endpoint takes."),
  500: oauthError("The bridge failed (`server_error`)."),
  503: oauthError("The bridge is misconfigured or has no OAuth storage (`temporarily_unavailable`)."),
};

const PRMSchema = z
  .object({
    resource: z.url(),
    authorization_servers: z.array(z.url()),
    scopes_supported: z.array(z.string()),
    bearer_methods_supported: z.array(z.string()),
    resource_name: z.string(),
    resource_documentation: z.url(),
  })
  .openapi("ProtectedResourceMetadata", {
    description: "RFC 9728 protected-resource metadata.",
    example: {
      resource: "https://bridge.example/mcp",
      authorization_servers: ["https://bridge.example"],
      scopes_supported: ["calls:write", "calls:read", "account:read"],
      bearer_methods_supported: ["header"],
      resource_name: "KallyAI Bridge (MCP)",
      resource_documentation: "https://bridge.example/docs",
    },
  });

function protectedResourceMetadataDocs(registry: Registry) {
  for (const [path, what] of [
    [PRM, "the MCP endpoint (for clients that do not insert the resource's path)"],
    [`${PRM}/mcp`, "the MCP endpoint, /mcp"],
    [`${PRM}/v1`, "the REST API, /v1"],
  ] as const)
    registry.registerPath({
      method: "get",
      path,
      operationId: `protectedResourceMetadata${path.endsWith("/v1") ? "Api" : path.endsWith("/mcp") ? "Mcp" : ""}`,
      tags: ["oauth"],
      summary: `RFC 9728 metadata of ${what}`,
      description:
        "Where an app finds the authorization server for this resource: the URL that every 401 at /mcp and /v1/* names in `WWW-Authenticate: Bearer resource_metadata=…`.",
      security: noAuth,
      responses: {
        200: json(PRMSchema, "The resource's metadata"),
        404: oauthError("This bridge has no OAuth server."),
      },
    });
}

const ASMetadataSchema = z
  .object({
    issuer: z.url(),
    authorization_endpoint: z.url(),
    token_endpoint: z.url(),
    registration_endpoint: z.url(),
    revocation_endpoint: z.url(),
    scopes_supported: z.array(z.string()),
    response_types_supported: z.array(z.string()),
    grant_types_supported: z.array(z.string()),
    code_challenge_methods_supported: z.array(z.literal("S256")),
    token_endpoint_auth_methods_supported: z.array(z.string()),
    authorization_response_iss_parameter_supported: z.boolean(),
    client_id_metadata_document_supported: z.boolean().optional(),
    protected_resources: z.array(z.url()),
  })
  .passthrough()
  .openapi("AuthorizationServerMetadata", {
    description: "RFC 8414 authorization-server metadata.",
    example: {
      issuer: "https://bridge.example",
      authorization_endpoint: "https://bridge.example/authorize",
      token_endpoint: "https://bridge.example/oauth/token",
      registration_endpoint: "https://bridge.example/oauth/register",
      revocation_endpoint: "https://bridge.example/oauth/token",
      scopes_supported: ["calls:write", "calls:read", "account:read", "webhooks"],
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
      protected_resources: ["https://bridge.example/mcp", "https://bridge.example/v1"],
    },
  });
function authorizationServerMetadataDocs(registry: Registry) {
  registry.registerPath({
    method: "get",
    path: "/.well-known/oauth-authorization-server",
    operationId: "authorizationServerMetadata",
    tags: ["oauth"],
    summary: "RFC 8414 metadata of the authorization server",
    description: "Its endpoints and what it supports: PKCE S256 only, DCR, CIMD, RFC 9207 `iss`, both resources.",
    security: noAuth,
    responses: {
      200: json(ASMetadataSchema, "The server's metadata"),
      404: oauthError("This bridge has no OAuth server."),
    },
  });
}

const TokenRequest = z
  .object({
    grant_type: z.enum(["authorization_code", "refresh_token"]).optional(),
    code: z.string().optional(),
    redirect_uri: z.string().optional(),
    code_verifier: z.string().optional().openapi({ description: "PKCE (S256): required of public clients." }),
    refresh_token: z.string().optional(),
    resource: z
      .url()
      .optional()
      .openapi({ description: "RFC 8707: this bridge's /mcp or /v1 URL; a token works at that resource only." }),
    scope: z.string().optional().openapi({ description: "At most the scopes granted; asking for more is refused." }),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
    token: z.string().optional().openapi({ description: "RFC 7009 revocation: the token to revoke (no grant_type)." }),
    token_type_hint: z.enum(["access_token", "refresh_token"]).optional(),
  })
  .openapi("TokenRequest", {
    description:
      "A code exchange, a refresh (the refresh token rotates), or, without `grant_type` and with `token`, a revocation (RFC 7009).",
  });
const TokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal("bearer"),
    expires_in: z.number().int(),
    refresh_token: z.string().optional(),
    scope: z.string(),
    resource: z.url(),
  })
  .openapi("TokenResponse");
function tokenDocs(registry: Registry) {
  registry.registerPath({
    method: "post",
    path: "/oauth/token",
    operationId: "oauthToken",
    tags: ["oauth"],
    summary: "Tokens: exchange a code, refresh (rotating), or revoke (RFC 7009)",
    description:
      "The app's code and PKCE verifier buy an access token for one resource (`resource`: /mcp or /v1) and a refresh token. A refresh rotates the refresh token: the one before it stops once its successor is used. Access tokens live an hour; a grant ends after 90 days unused, when its app is revoked in the console, or when the account is unlinked.",
    security: noAuth,
    request: {
      body: {
        required: true,
        content: {
          "application/x-www-form-urlencoded": {
            schema: TokenRequest,
            example: {
              grant_type: "authorization_code",
              code: "usr_1:grant_1:secret",
              redirect_uri: "https://claude.ai/api/mcp/auth_callback",
              code_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
              client_id: "a1b2c3d4e5f6a7b8",
              resource: "https://bridge.example/mcp",
            },
          },
        },
      },
    },
    responses: {
      200: json(TokenResponse, "Tokens (a revocation answers 200 with an empty body)", {
        access_token: "usr_1:grant_1:at-secret",
        token_type: "bearer",
        expires_in: 3600,
        refresh_token: "usr_1:grant_1:rt-secret",
        scope: "calls:write calls:read account:read",
        resource: "https://bridge.example/mcp",
      }),
      ...OAUTH_ERRORS,
      415: oauthError("The body is not a form."),
    },
  });
}

const Registration = z
  .object({
    client_name: z.string().optional(),
    redirect_uris: z.array(z.string()).openapi({ description: "https, or http on a loopback host; exact match." }),
    grant_types: z.array(z.string()).optional(),
    response_types: z.array(z.string()).optional(),
    token_endpoint_auth_method: z.enum(["none", "client_secret_basic", "client_secret_post"]).optional(),
    client_uri: z.url().optional(),
    logo_uri: z.url().optional(),
  })
  .passthrough()
  .openapi("ClientRegistration", { description: "RFC 7591 client metadata." });
function registrationDocs(registry: Registry) {
  registry.registerPath({
    method: "post",
    path: "/oauth/register",
    operationId: "oauthRegister",
    tags: ["oauth"],
    summary: "Dynamic client registration (RFC 7591)",
    description:
      "What an MCP client without a Client ID Metadata Document does first. Registrations that go unused expire after 90 days.",
    security: noAuth,
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: Registration,
            example: {
              client_name: "My MCP client",
              redirect_uris: ["http://127.0.0.1:33418/callback"],
              token_endpoint_auth_method: "none",
            },
          },
        },
      },
    },
    responses: {
      201: json(Registration.extend({ client_id: z.string() }), "Registered", {
        client_id: "a1b2c3d4e5f6a7b8",
        client_name: "My MCP client",
        redirect_uris: ["http://127.0.0.1:33418/callback"],
        token_endpoint_auth_method: "none",
      }),
      ...OAUTH_ERRORS,
      415: oauthError("The body is not JSON."),
    },
  });
}

const LOCATION = { Location: { $ref: "#/components/headers/Location" } };
const HtmlPage = { "text/html": { schema: z.string().openapi({ example: "<!doctype html>…" }) } };
function authorizePageDocs(registry: Registry) {
  registry.registerPath({
    method: "get",
    path: "/authorize",
    operationId: "oauthAuthorize",
    tags: ["oauth"],
    summary: "The consent page (a page for people)",
    description:
      "An app sends the person here with `response_type=code`, `client_id`, `redirect_uri`, `code_challenge` (S256), `state`, `resource` and `scope`. Without a console session the bridge signs them in with KallyAI first and comes back. A request the bridge cannot trust is shown on its page, never sent to the redirect URI.",
    security: noAuth,
    request: {
      query: z.object({
        response_type: z.literal("code"),
        client_id: z.string(),
        redirect_uri: z.string(),
        code_challenge: z.string(),
        code_challenge_method: z.literal("S256"),
        state: z.string().optional(),
        resource: z.url().optional(),
        scope: z.string().optional(),
      }),
    },
    responses: {
      200: { description: "The consent page", content: HtmlPage },
      302: { description: "Back to the app with an error it may act on (`invalid_target`, …)", headers: LOCATION },
      303: { description: "To sign in with KallyAI first", headers: LOCATION },
      default: { description: "A request the bridge refuses, as a page", content: HtmlPage },
    },
  });
}
function consentAnswerDocs(registry: Registry) {
  registry.registerPath({
    method: "post",
    path: "/authorize",
    operationId: "oauthConsent",
    tags: ["oauth"],
    summary: "The consent page's answer: Allow or Deny (posted by the page only)",
    description:
      "Refused unless it comes from this bridge's own page (Origin and CSRF token) in the browser that opened it (a binding cookie), once. Allow grants the ticked scopes with the calls per hour chosen; Deny sends the app `access_denied`.",
    security: noAuth,
    request: {
      body: {
        required: true,
        content: {
          "application/x-www-form-urlencoded": {
            schema: z.object({
              handle: z.string(),
              _csrf: z.string(),
              decision: z.enum(["approve", "deny"]),
              scope: z.array(z.string()).optional(),
              calls_per_hour: z.string().optional(),
            }),
            example: {
              handle: "aGFuZGxl",
              _csrf: "Y3NyZg",
              decision: "approve",
              scope: ["calls:read"],
              calls_per_hour: "20",
            },
          },
        },
      },
    },
    responses: {
      302: { description: "Back to the app: `code`, `state` and `iss`, or `error=access_denied`", headers: LOCATION },
      default: { description: "A refused answer, as a page", content: HtmlPage },
    },
  });
}

/**
 * The OAuth endpoints in the OpenAPI document (src/routes/oauth.ts serves them): what a client reads
 * to connect by OAuth. Registered only when scripts/openapi.mjs builds the document in Node, so the
 * worker's bundle carries none of it.
 */
export function registerOAuthDocs(registry: Registry) {
  protectedResourceMetadataDocs(registry);
  authorizationServerMetadataDocs(registry);
  tokenDocs(registry);
  registrationDocs(registry);
  authorizePageDocs(registry);
  consentAnswerDocs(registry);
}
