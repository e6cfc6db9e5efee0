import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { deps } from "../domain/deps";
import { ApiError, toApiError } from "../errors";
import { requireKey } from "../http/auth";
import type { AppEnv } from "../http/types";
import { serveMcp } from "../mcp/server";

/**
 * A key problem at /mcp answers 401 with a Bearer challenge (RFC 6750), so an MCP client knows to
 * send `Authorization: Bearer <bridge API key>`; the body is the bridge's usual error.
 */
const bearerKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  try {
    await requireKey()(c, async () => {});
  } catch (err) {
    const e = toApiError(err);
    if (e.status !== 401) throw e;
    const challenge =
      e.code === "missing_api_key"
        ? `Bearer realm="kallyai-bridge"`
        : `Bearer realm="kallyai-bridge", error="invalid_token", error_description="${e.message.replace(/["\\]/g, "'")}"`;
    throw new ApiError(401, e.code, e.message, {
      ...e.extra,
      headers: { ...e.extra.headers, "www-authenticate": challenge },
    });
  }
  await next();
};

/**
 * The MCP Streamable HTTP endpoint, stateless: every POST gets its own transport and dispatcher,
 * bound to the key that sent it, so scopes and the hourly call guard apply as on the REST API.
 * There is no session and no server-initiated stream, so GET and DELETE answer 405.
 */
export const mcp = new Hono<AppEnv>();

mcp.post("/mcp", bearerKey, async (c) => {
  // The body was already bounded by the app's bodyLimits middleware (64 KB), as every endpoint's.
  const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
  serveMcp(transport, { d: deps(c.env), auth: c.get("auth") }, c.get("requestId"));
  await transport.start();
  return transport.handleRequest(c.req.raw);
});
