import { z } from "@hono/zod-openapi";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { type ApiError, toApiError } from "../errors";
import { assertScope } from "../http/auth";
import { logError } from "../shared/log";
import { PROMPTS, promptMessages } from "./prompts";
import { method, ProtocolError, serve } from "./protocol";
import { listCallResources, RESOURCE_TEMPLATES, readCallResource } from "./resources";
import { type BridgeTool, parseArgs, TOOLS, type ToolContext, toolNamed } from "./tools";

export const SERVER_INFO = { name: "kallyai-bridge", title: "KallyAI Bridge", version: "0.1.0" };

const INSTRUCTIONS = [
  "KallyAI places real phone calls to businesses for the user with an AI voice assistant: reservations, appointments, questions.",
  "To make a call: gather the details from the user first (number, what to accomplish, category; for bookings the name, date, time and party size), confirm them, then place_call.",
  "Then follow it with get_call and wait=25 until it has finished, and tell the user the highlights and next steps. Emergency numbers are never called.",
  "A tool error starts with a code (e.g. insufficient_scope, rate_limited, emergency_number) and says what to do.",
].join(" ");

type JsonSchema = Tool["inputSchema"];

/**
 * `{"type": ["string", "null"]}` as `anyOf` branches of one type each: legal either way, but some
 * clients map tool schemas onto a one-type dialect (Gemini's) and drop or refuse the array form.
 */
function singleTypes(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(singleTypes);
  if (typeof node !== "object" || node === null) return node;
  const out = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, singleTypes(v)]));
  if (!Array.isArray(out.type)) return out;
  const { type, ...rest } = out;
  return { ...rest, anyOf: (type as string[]).map((t) => ({ type: t })) };
}

/** JSON Schema from a zod schema, with descriptions for a model laid over the properties. */
function jsonSchema(schema: z.ZodType, io: "input" | "output", hints: Record<string, string> = {}): JsonSchema {
  const { $schema: _, ...json } = singleTypes(z.toJSONSchema(schema, { io, unrepresentable: "any" })) as JsonSchema & {
    $schema?: string;
  };
  const properties = json.properties as Record<string, Record<string, unknown>> | undefined;
  for (const [field, description] of Object.entries(hints))
    if (properties?.[field]) properties[field] = { description, ...properties[field] };
  return json;
}

let listed: Tool[] | undefined;
/** Made once per isolate: the schemas do not change. */
function toolList(): Tool[] {
  listed ??= TOOLS.map((t) => ({
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: jsonSchema(t.input, "input", t.hints),
    outputSchema: jsonSchema(t.output, "output"),
    annotations: {
      title: t.title,
      readOnlyHint: t.readOnly,
      destructiveHint: t.destructive ?? false,
      idempotentHint: t.readOnly,
      openWorldHint: true,
    },
  }));
  return listed;
}

/** A failure as the model sees it: the bridge's error code, its message, and when to retry. */
export function toolError(err: ApiError): CallToolResult {
  const retry =
    err.extra.retryAfter !== undefined ? ` Retry after ${Math.max(1, Math.ceil(err.extra.retryAfter))} seconds.` : "";
  return { isError: true, content: [{ type: "text", text: `${err.code}: ${err.message}${retry}` }] };
}

async function callTool(
  ctx: ToolContext,
  t: BridgeTool,
  args: Record<string, unknown>,
  requestId: unknown,
): Promise<CallToolResult> {
  try {
    assertScope(ctx.auth, t.scope);
    const { data, text } = await t.run(ctx, parseArgs(t, args));
    return { content: [{ type: "text", text }], structuredContent: data as Record<string, unknown> };
  } catch (err) {
    const apiError = toApiError(err);
    if (apiError.status >= 500) {
      logError({ request_id: requestId, tool: t.name, code: apiError.code }, err);
    }
    return toolError(apiError);
  }
}

/** Serves one request's messages (stateless): the tools, resources and prompts, bound to the key that sent it. */
export function serveMcp(transport: Transport, ctx: ToolContext, requestId?: string): void {
  serve(
    transport,
    { info: SERVER_INFO, capabilities: { tools: {}, resources: {}, prompts: {} }, instructions: INSTRUCTIONS },
    {
      "tools/list": method(ListToolsRequestSchema, async () => ({ tools: toolList() })),
      "tools/call": method(CallToolRequestSchema, async ({ params }) => {
        const t = toolNamed(params.name);
        if (!t)
          throw new ProtocolError(
            ErrorCode.InvalidParams,
            `Unknown tool ${params.name}. The tools are: ${TOOLS.map((x) => x.name).join(", ")}.`,
          );
        return callTool(ctx, t, params.arguments ?? {}, requestId);
      }),
      "resources/templates/list": method(ListResourceTemplatesRequestSchema, async () => ({
        resourceTemplates: RESOURCE_TEMPLATES,
      })),
      "resources/list": method(ListResourcesRequestSchema, async () => ({ resources: await listCallResources(ctx) })),
      "resources/read": method(ReadResourceRequestSchema, async ({ params }) => ({
        contents: await readCallResource(ctx, params.uri),
      })),
      "prompts/list": method(ListPromptsRequestSchema, async () => ({ prompts: PROMPTS })),
      "prompts/get": method(GetPromptRequestSchema, async ({ params }) =>
        promptMessages(params.name, params.arguments ?? {}),
      ),
    },
  );
}
