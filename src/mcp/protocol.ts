import type { z } from "@hono/zod-openapi";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  ErrorCode,
  isJSONRPCRequest,
  type JSONRPCMessage,
  type JSONRPCRequest,
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@modelcontextprotocol/sdk/types.js";
import { logError } from "../shared/log";

/**
 * The server side of MCP's request/response exchange, for a stateless server that never sends
 * requests of its own. The SDK's `Server` class does the same and more (progress, cancellation,
 * tasks, elicitation, sampling) for 30 KB more of minified worker; the transport, the message
 * schemas and the protocol versions stay the SDK's.
 */

/** A JSON-RPC error answer; the MCP spec names -32002 for a resource that does not exist. */
export class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
export const RESOURCE_NOT_FOUND = -32002;
/** A server error (JSON-RPC's implementation-defined range): the answer would pass RESPONSE_LIMIT_BYTES. */
export const RESPONSE_TOO_LARGE = -32003;

/**
 * The most one request's answers may weigh together. One answer stays far below (tools/list is
 * about 15 KB; list_calls at its limit of 100 about 75 KB) and clients read little more (Claude
 * cuts a tool result at about 150,000 characters); a batch of heavy requests gets its later answers
 * as RESPONSE_TOO_LARGE errors instead of a body cut off midway.
 */
export const RESPONSE_LIMIT_BYTES = 256 * 1024;

export interface Method<S extends z.ZodType = z.ZodType> {
  /** The SDK's schema of the whole request (method and params). */
  schema: S;
  handle(request: z.output<S>): Promise<object>;
}
export const method = <S extends z.ZodType>(schema: S, handle: (request: z.output<S>) => Promise<object>): Method =>
  ({ schema, handle }) as Method;

/** A JSON-RPC answer: a result, or an error. */
type Reply = { jsonrpc: "2.0"; id: JSONRPCRequest["id"] } & (
  | { result: object }
  | { error: { code: number; message: string } }
);

export interface ServerInfo {
  info: { name: string; title?: string; version: string };
  capabilities: Record<string, object>;
  instructions: string;
}

/** Answers `initialize` and `ping` itself, and every request in `methods`; notifications need no answer. */
export function serve(transport: Transport, server: ServerInfo, methods: Record<string, Method>): void {
  let bytesLeft = RESPONSE_LIMIT_BYTES;
  transport.onmessage = (message) => {
    if (isJSONRPCRequest(message)) void answer(message);
  };

  /** The reply as it will be sent, or an error in its place when the request's answers would grow too large. */
  function bounded(reply: Reply): Reply {
    const bytes = new TextEncoder().encode(JSON.stringify(reply)).byteLength;
    if (bytes <= bytesLeft) {
      bytesLeft -= bytes;
      return reply;
    }
    const message = `The answer to ${String(reply.id)} would take this request's answers past ${RESPONSE_LIMIT_BYTES / 1024} KB. Send it again on its own, or ask for less (e.g. a smaller limit).`;
    return { jsonrpc: "2.0", id: reply.id, error: { code: RESPONSE_TOO_LARGE, message } };
  }

  async function answer(request: JSONRPCRequest): Promise<void> {
    let reply: Reply;
    try {
      reply = { jsonrpc: "2.0", id: request.id, result: await resultOf(request) };
    } catch (err) {
      if (!(err instanceof ProtocolError)) logError({ mcp_method: request.method }, err);
      const code = err instanceof ProtocolError ? err.code : ErrorCode.InternalError;
      const message =
        err instanceof ProtocolError
          ? err.message
          : "Internal error: try again; if it keeps failing, report the X-Request-Id header of this answer.";
      reply = { jsonrpc: "2.0", id: request.id, error: { code, message } };
    }
    await transport.send(bounded(reply) as JSONRPCMessage, { relatedRequestId: request.id });
  }

  async function resultOf(request: JSONRPCRequest): Promise<object> {
    if (request.method === "ping") return {};
    if (request.method === "initialize") {
      const asked = (request.params as { protocolVersion?: unknown } | undefined)?.protocolVersion;
      const protocolVersion =
        typeof asked === "string" && SUPPORTED_PROTOCOL_VERSIONS.includes(asked) ? asked : LATEST_PROTOCOL_VERSION;
      return {
        protocolVersion,
        capabilities: server.capabilities,
        serverInfo: server.info,
        instructions: server.instructions,
      };
    }
    const m = methods[request.method];
    if (!m) throw new ProtocolError(ErrorCode.MethodNotFound, `Method not found: ${request.method}`);
    const parsed = m.schema.safeParse(request);
    if (!parsed.success)
      throw new ProtocolError(
        ErrorCode.InvalidParams,
        `Invalid params for ${request.method}: ${parsed.error.issues[0]?.message ?? "invalid"}`,
      );
    return m.handle(parsed.data);
  }
}
