import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { ErrorCode } from "@modelcontextprotocol/sdk/types.js";
import { Hono } from "hono";
import { deps } from "../domain/deps";
import { requireKey } from "../http/auth";
import { textOf } from "../http/fields";
import type { AppEnv } from "../http/types";
import { serveMcp } from "../mcp/server";
import { CallWaits } from "../mcp/waits";

/**
 * Messages one POST may batch. The SDK allows 100; each message may wait and poll KallyAI (get_call)
 * or answer 15 KB (tools/list), so a batch is kept small. Clients of protocol 2025-06-18 and later
 * send no batches at all.
 */
export const MAX_BATCH = 10;

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
  const { refused, parsedBody } = await parsedMessages(c.req.raw);
  if (refused) return refused;
  const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
  const d = deps(c.env);
  const auth = c.get("auth");
  serveMcp(transport, { d, auth, waits: new CallWaits(d, auth) }, c.get("requestId"));
  await transport.start();
  return transport.handleRequest(c.req.raw, parsedBody === undefined ? undefined : { parsedBody });
});

/**
 * The body's JSON, or its refusal (a JSON-RPC error, HTTP 400) when it is a batch of more than
 * MAX_BATCH messages; neither when it is not JSON at all, which the transport answers itself.
 */
async function parsedMessages(request: Request): Promise<{ refused?: Response; parsedBody?: unknown }> {
  let body: unknown;
  try {
    body = JSON.parse(await textOf(request.clone()));
  } catch {
    return {};
  }
  if (!Array.isArray(body) || body.length <= MAX_BATCH) return { parsedBody: body };
  return {
    refused: Response.json(
      {
        jsonrpc: "2.0",
        id: null,
        error: {
          code: ErrorCode.InvalidRequest,
          message: `A batch may hold at most ${MAX_BATCH} messages; this one has ${body.length}. Send the rest in further requests.`,
        },
      },
      { status: 400 },
    ),
  };
}
