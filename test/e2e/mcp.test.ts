import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "./dev-server";
import { linkedKey } from "./sandbox-account";

// An MCP client (the SDK's own, over Streamable HTTP) against `npm run dev`, with bridge API keys.
let server: DevServer;
let ownerKey: string;

/** A key made for the assistant alone, as docs/platforms.md tells people to make one. */
async function assistantKey(body: Record<string, unknown>): Promise<{ api_key: string; id: string }> {
  const res = await fetch(`${server.origin}/v1/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${ownerKey}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "assistant", ...body }),
  });
  expect(res.status).toBe(201);
  return res.json();
}

async function connect(apiKey: string): Promise<Client> {
  const client = new Client({ name: "e2e-assistant", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${server.origin}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${apiKey}` } },
  });
  await client.connect(transport);
  return client;
}

const text = (result: { content: unknown }) =>
  (result.content as { type: string; text: string }[]).map((c) => c.text).join("\n");

beforeAll(async () => {
  server = await startDevServer(["--var", "SANDBOX_CALL_SECONDS:2"]);
  ownerKey = await linkedKey(server.origin, "mcp-e2e@example.com");
});
afterAll(async () => {
  await server?.stop();
});

describe("MCP over npm run dev", () => {
  it("initializes, lists the tools, places a sandbox call to a national-format number, waits for it and reads its transcript", async () => {
    const key = await assistantKey({ scopes: ["calls:write", "calls:read", "account:read"], calls_per_hour: 5 });
    const client = await connect(key.api_key);
    try {
      expect(client.getServerVersion()).toMatchObject({ name: "kallyai-bridge" });
      expect(client.getInstructions()).toContain("place_call");
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        "billing_portal",
        "cancel_call",
        "get_call",
        "get_subscription",
        "get_transcript",
        "get_usage",
        "list_calls",
        "place_call",
      ]);

      // The client checks every structuredContent against the tool's output schema.
      const placed = await client.callTool({
        name: "place_call",
        arguments: {
          phone: "(415) 555-1234",
          task: "Ask about store hours today",
          category: "general",
          business: "Corner Store",
        },
      });
      expect(placed.isError).toBeFalsy();
      const id = (placed.structuredContent as { id: string }).id;
      expect(text(placed)).toContain(`Calling Corner Store (+14155551234) now. Call id ${id}`);

      let call = (await client.callTool({ name: "get_call", arguments: { id, wait: 25 } })).structuredContent as {
        status: string;
        finished: boolean;
        phone: string;
      };
      for (let i = 0; i < 3 && !call.finished; i++)
        call = (await client.callTool({ name: "get_call", arguments: { id, wait: 25 } }))
          .structuredContent as typeof call;
      expect(call).toMatchObject({ status: "success", finished: true, phone: "+14155551234" });

      const transcript = await client.callTool({ name: "get_transcript", arguments: { id } });
      expect((transcript.structuredContent as { entries: unknown[] }).entries.length).toBeGreaterThan(0);
      expect(text(transcript)).toMatch(/^(Assistant|Business): /);

      const usage = await client.callTool({ name: "get_usage", arguments: {} });
      expect((usage.structuredContent as { calls_used: number }).calls_used).toBeGreaterThanOrEqual(1);

      const resource = await client.readResource({ uri: `kallyai://calls/${id}` });
      expect(JSON.parse((resource.contents[0] as { text: string }).text)).toMatchObject({ id, status: "success" });
      const prompt = await client.getPrompt({
        name: "make_a_call",
        arguments: { request: "ask the corner store when they close" },
      });
      expect((prompt.messages[0]!.content as { text: string }).text).toContain("phone number to call");
    } finally {
      await client.close();
    }
  });

  it("refuses to place a call with a calls:read key, and never calls 911", async () => {
    const reader = await connect((await assistantKey({ scopes: ["calls:read"] })).api_key);
    const writer = await connect((await assistantKey({ scopes: ["calls:write", "calls:read"] })).api_key);
    try {
      const refused = await reader.callTool({
        name: "place_call",
        arguments: { phone: "(415) 555-1234", task: "Ask about store hours today" },
      });
      expect(refused.isError).toBe(true);
      expect(text(refused)).toMatch(/^insufficient_scope: /);
      const emergency = await writer.callTool({
        name: "place_call",
        arguments: { phone: "911", task: "Report a fire in the kitchen" },
      });
      expect(emergency.isError).toBe(true);
      expect(text(emergency)).toMatch(/^emergency_number: /);
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  it("refuses a revoked key at connection, with 401", async () => {
    const key = await assistantKey({ scopes: ["calls:read"] });
    const revoke = await fetch(`${server.origin}/v1/keys/${key.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${ownerKey}` },
    });
    expect(revoke.status).toBe(200);
    // The SDK's client gives up with the HTTP status and the bridge's error body.
    await expect(connect(key.api_key)).rejects.toMatchObject({
      code: 401,
      message: expect.stringContaining('"code":"api_key_revoked"'),
    });
    const raw = await fetch(`${server.origin}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${key.api_key}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: "{}",
    });
    expect(raw.status).toBe(401);
    expect(raw.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect((await raw.json()).error.code).toBe("api_key_revoked");
  });

  it("the MCP Inspector's CLI lists the tools, and its --strict check finds no schema portability problem", async () => {
    const key = await assistantKey({ scopes: ["calls:read"] });
    const inspectorDir = dirname(
      createRequire(import.meta.url).resolve("@modelcontextprotocol/inspector/package.json"),
    );
    const cli = join(inspectorDir, "clients/launcher/build/index.js");
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [
        cli,
        "--cli",
        `${server.origin}/mcp`,
        "--transport",
        "http",
        "--header",
        `Authorization: Bearer ${key.api_key}`,
        "--method",
        "tools/list",
        "--strict",
      ],
      { timeout: 60_000 },
    );
    expect(JSON.parse(stdout).tools.map((t: { name: string }) => t.name)).toEqual([
      "place_call",
      "get_call",
      "list_calls",
      "get_transcript",
      "cancel_call",
      "get_usage",
      "get_subscription",
      "billing_portal",
    ]);
    expect(stderr).toBe("");
  });
});
