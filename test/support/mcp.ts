import { bridge } from "./bridge";

/** One JSON-RPC message to /mcp, as an MCP client sends it over Streamable HTTP. */
export function mcpPost(message: unknown, apiKey?: string, headers: Record<string, string> = {}): Promise<Response> {
  return bridge("/mcp", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      ...headers,
    },
    body: JSON.stringify(message),
  });
}

let nextId = 1;
/** A request's result, or its JSON-RPC error. */
export async function rpc<T = Record<string, unknown>>(
  apiKey: string,
  method: string,
  params: Record<string, unknown> = {},
): Promise<{ result?: T; error?: { code: number; message: string } }> {
  const res = await mcpPost({ jsonrpc: "2.0", id: nextId++, method, params }, apiKey);
  if (res.status !== 200) throw new Error(`/mcp answered ${res.status}: ${await res.text()}`);
  return res.json();
}

export interface ToolResult {
  isError?: boolean;
  content: { type: string; text: string }[];
  structuredContent?: Record<string, unknown>;
}

export async function callTool(apiKey: string, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  const { result, error } = await rpc<ToolResult>(apiKey, "tools/call", { name, arguments: args });
  if (!result) throw new Error(`tools/call ${name} failed: ${JSON.stringify(error)}`);
  return result;
}

export const textOf = (r: ToolResult) => r.content.map((c) => c.text).join("\n");
