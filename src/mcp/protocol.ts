import type { z } from "@hono/zod-openapi";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  ErrorCode,
  isJSONRPCRequest,
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

export interface Method<S extends z.ZodType = z.ZodType> {
  /** The SDK's schema of the whole request (method and params). */
  schema: S;
  handle(request: z.output<S>): Promise<object>;
}
export const method = <S extends z.ZodType>(schema: S, handle: (request: z.output<S>) => Promise<object>): Method =>
  ({ schema, handle }) as Method;

export interface ServerInfo {
  info: { name: string; title?: string; version: string };
  capabilities: Record<string, object>;
  instructions: string;
}

/** Answers `initialize` and `ping` itself, and every request in `methods`; notifications need no answer. */
export function serve(transport: Transport, server: ServerInfo, methods: Record<string, Method>): void {
  transport.onmessage = (message) => {
    if (isJSONRPCRequest(message)) void answer(message);
  };

  async function answer(request: JSONRPCRequest): Promise<void> {
    let reply: object;
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
    await transport.send(reply as Parameters<Transport["send"]>[0], { relatedRequestId: request.id });
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
