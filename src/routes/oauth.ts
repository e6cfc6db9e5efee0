import type { Context } from "hono";
import {
  ensureConfiguredClients,
  type OAuthServer,
  oauthServer,
  onIssuer,
  RESOURCES,
  type Resource,
  tooLongForOAuth,
  widensScope,
} from "../domain/oauth";
import { ApiError } from "../errors";
import { textOf } from "../http/fields";
import { router } from "../http/openapi";
import type { AppEnv } from "../http/types";

/**
 * OAuth discovery and the library's protocol endpoints (docs/oauth.md): RFC 9728 metadata for the
 * two protected resources, RFC 8414 metadata, token (with refresh and RFC 7009 revocation) and
 * dynamic client registration. /authorize is a page: src/console/pages/authorize.tsx.
 */
export const oauth = router();

/** The authorization server of this request's origin, or 404 when the deployment has no OAUTH_KV. */
export function requireOAuth(c: Context<AppEnv>): OAuthServer {
  const server = oauthServer(c.env, c.req.url);
  if (!server)
    throw new ApiError(
      404,
      "not_found",
      "This bridge has no OAuth server: its operator has not bound the OAUTH_KV namespace (see docs/oauth.md). Use an API key.",
    );
  return server;
}

/** Metadata a browser-based client may read from any page. */
const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, OPTIONS",
  "access-control-allow-headers": "authorization, content-type, mcp-protocol-version",
  "access-control-max-age": "86400",
};

function protectedResourceMetadata(server: OAuthServer, resource: Resource) {
  const r = RESOURCES[resource];
  return {
    resource: server.resourceUrl(resource),
    authorization_servers: [server.issuer],
    scopes_supported: [...r.scopes],
    bearer_methods_supported: ["header"],
    resource_name: r.name,
    resource_documentation: `${server.issuer}/docs`,
  };
}

/** RFC 9728's well-known location; the path-aware ones append the resource's path. */
export const PRM = "/.well-known/oauth-protected-resource";
// RFC 9728, path-aware, for each resource. The bare well-known URL answers for /mcp: MCP clients
// that do not insert the path look there, and its `resource` names /mcp, the URL they were given.
for (const [path, resource] of [
  [PRM, "mcp"],
  [`${PRM}/mcp`, "mcp"],
  [`${PRM}/v1`, "v1"],
] as const) {
  oauth.get(path, (c) =>
    c.json(protectedResourceMetadata(requireOAuth(c), resource), 200, { ...CORS, "cache-control": "max-age=3600" }),
  );
  oauth.options(path, (c) => c.body(null, 204, CORS));
}

/** A refusal the bridge makes before the library sees the request, in OAuth's shape. */
const oauthRefusal = (c: Context<AppEnv>, status: 400 | 401, error: string, description: string) =>
  c.json({ error, error_description: description }, status, {
    "cache-control": "no-store",
    "access-control-allow-origin": "*",
  });

/** The library's own answer (metadata, tokens, registration), seen on the issuer's origin. */
const library = (c: Context<AppEnv>) => {
  const server = requireOAuth(c);
  return server.server.fetch(onIssuer(c.req.raw, server.issuer), c.env, c.executionCtx as ExecutionContext);
};
oauth.on(["GET", "OPTIONS"], "/.well-known/oauth-authorization-server", library);
oauth.options("/oauth/token", library);
oauth.post("/oauth/token", async (c) => {
  const form = /^application\/x-www-form-urlencoded/i.test(c.req.header("content-type") ?? "")
    ? new URLSearchParams(await textOf(c.req.raw.clone()))
    : null;
  const credentials = ["client_id", "code", "refresh_token", "token", "subject_token", "client_assertion"];
  if (form && credentials.some((name) => form.getAll(name).some(tooLongForOAuth)))
    return oauthRefusal(c, 400, "invalid_request", "A client id, code or token is longer than any this bridge issues.");
  if (form && (await widensScope(c.env, form)))
    return oauthRefusal(
      c,
      400,
      "invalid_scope",
      "A token request may only narrow the scopes granted; ask for those, or fewer.",
    );
  await ensureConfiguredClients(requireOAuth(c));
  return library(c);
});
oauth.on(["POST", "OPTIONS"], "/oauth/register", library);
