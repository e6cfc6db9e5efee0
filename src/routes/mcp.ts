import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { Hono } from "hono";
import { deps } from "../domain/deps";
import { requireKey } from "../http/auth";
import type { AppEnv } from "../http/types";
import { serveMcp } from "../mcp/server";

/**
 * The MCP Streamable HTTP endpoint, stateless: every POST gets its own transport and dispatcher,
 * bound to the key (or OAuth access token for /mcp) that sent it, so scopes and the hourly call guard
 * apply as on the REST API. A 401 challenges for a Bearer token with this resource's metadata URL
 * (src/http/challenge.ts), which is how MCP clients find the OAuth server.
 * There is no session and no server-initiated stream, so GET and DELETE answer 405.
 */
export const mcp = new Hono<AppEnv>();

mcp.post("/mcp", requireKey(), async (c) => {
  // The body was already bounded by the app's bodyLimits middleware (64 KB), as every endpoint's.
  const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
  serveMcp(transport, { d: deps(c.env), auth: c.get("auth") }, c.get("requestId"));
  await transport.start();
  return transport.handleRequest(c.req.raw);
});
