import type { MiddlewareHandler } from "hono";
import { oauthServer, RESOURCES, resourceOf } from "../domain/oauth";
import { ApiError } from "../errors";
import type { AppEnv } from "./types";

const quoted = (text: string) => `"${text.replace(/["\\\r\n]/g, "'")}"`;
/** The 401s about the credential itself (RFC 6750's invalid_token), not about a missing one or a request's own field. */
const TOKEN_REFUSALS = new Set(["invalid_api_key", "api_key_expired", "api_key_revoked", "invalid_token"]);

/**
 * Every 401 at /mcp and /v1/* challenges for a Bearer token (RFC 6750) and says where to get one:
 * `resource_metadata`, the absolute URL of the resource's RFC 9728 metadata on this host, and the
 * scopes to ask for. A 403 insufficient_scope gets the resource's metadata URL too (step-up). The
 * body stays the bridge's own error.
 */
export const bearerChallenge: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const status = c.res.status;
  if (status !== 401 && status !== 403) return;
  const resource = resourceOf(c.req.path);
  if (!resource) return;
  const oauth = oauthServer(c.env, c.req.url);
  const about = oauth ? `resource_metadata=${quoted(oauth.metadataUrl(resource))}` : null;
  const existing = c.res.headers.get("www-authenticate");
  if (status === 403) {
    if (existing && about) c.res.headers.set("www-authenticate", `${existing}, ${about}`);
    return;
  }
  if (existing) return;
  const parts = [`realm="kallyai-bridge"`];
  if (about) parts.push(about, `scope=${quoted(RESOURCES[resource].scopes.join(" "))}`);
  const error = c.error instanceof ApiError ? c.error : null;
  if (error && TOKEN_REFUSALS.has(error.code))
    parts.push(`error="invalid_token"`, `error_description=${quoted(error.message)}`);
  c.res.headers.set("www-authenticate", `Bearer ${parts.join(", ")}`);
};
