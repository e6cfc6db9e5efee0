import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { linkedUser, withKey } from "../support/accounts";
import { bridge, errorOf, json } from "../support/bridge";
import { callTool, mcpPost, rpc, textOf } from "../support/mcp";

const initialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "test", version: "1" } },
};

async function keyWith(apiKey: string, body: Record<string, unknown>): Promise<{ api_key: string; id: string }> {
  const res = await json("/v1/keys", { name: "assistant", ...body }, withKey(apiKey));
  if (res.status !== 201) throw new Error(`POST /v1/keys answered ${res.status}: ${await res.text()}`);
  return res.json();
}

describe("POST /mcp: authentication", () => {
  it("without a key answers 401 with a Bearer challenge naming the OAuth metadata, and the bridge's error", async () => {
    const res = await mcpPost(initialize);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(
      'Bearer realm="kallyai-bridge", resource_metadata="https://bridge.test/.well-known/oauth-protected-resource/mcp", scope="calls:write calls:read account:read"',
    );
    expect((await errorOf(res)).code).toBe("missing_api_key");
  });

  it("with a key that is not the bridge's answers 401 invalid_token", async () => {
    const res = await mcpPost(initialize, "not-a-key");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(
      /^Bearer realm="kallyai-bridge", resource_metadata="[^"]+", scope="[^"]+", error="invalid_token", error_description="[^"]+"$/,
    );
    expect((await errorOf(res)).code).toBe("invalid_api_key");
  });

  it("with a revoked key answers 401 api_key_revoked", async () => {
    const user = await linkedUser();
    const key = await keyWith(user.apiKey, { scopes: ["calls:read"] });
    expect((await mcpPost(initialize, key.api_key)).status).toBe(200);
    expect((await bridge(`/v1/keys/${key.id}`, { method: "DELETE", ...withKey(user.apiKey) })).status).toBe(200);
    const res = await mcpPost(initialize, key.api_key);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect((await errorOf(res)).code).toBe("api_key_revoked");
  });

  it("takes the key from X-API-Key as the REST API does", async () => {
    const user = await linkedUser();
    const res = await bridge("/mcp", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "x-api-key": user.apiKey,
      },
      body: JSON.stringify(initialize),
    });
    expect(res.status).toBe(200);
  });
});

describe("POST /mcp: the protocol", () => {
  it("initializes statelessly: server info, tools, resources and prompts, instructions, no session id", async () => {
    const user = await linkedUser();
    const res = await mcpPost(initialize, user.apiKey);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(res.headers.get("mcp-session-id")).toBeNull();
    expect(res.headers.get("x-request-id")).toMatch(/^[\w-]{8,}$/);
    const body = (await res.json()) as { result: Record<string, any> };
    expect(body.result).toMatchObject({
      protocolVersion: "2025-06-18",
      serverInfo: { name: "kallyai-bridge" },
      capabilities: { tools: {}, resources: {}, prompts: {} },
    });
    expect(body.result.instructions).toContain("place_call");
  });

  it("lists the eight tools, each with a description, an input schema and an output schema", async () => {
    const user = await linkedUser();
    const { result } = await rpc<{ tools: any[] }>(user.apiKey, "tools/list");
    expect(result!.tools.map((t) => t.name)).toEqual([
      "place_call",
      "get_call",
      "list_calls",
      "get_transcript",
      "cancel_call",
      "get_usage",
      "get_subscription",
      "billing_portal",
    ]);
    for (const t of result!.tools) {
      expect(t.description.length).toBeGreaterThan(40);
      expect(t.inputSchema.type).toBe("object");
      expect(t.outputSchema.type).toBe("object");
      expect(t.inputSchema.$schema).toBeUndefined();
    }
    const place = result!.tools[0];
    expect(place.description).toMatch(/phone number.*category/);
    expect(place.inputSchema.required).toEqual(["phone", "task"]);
    expect(place.inputSchema.properties.category.enum).toEqual(["restaurant", "clinic", "hotel", "general"]);
    expect(place.inputSchema.properties.party_size.description).toContain("1-50");
    expect(place.annotations).toMatchObject({ readOnlyHint: false, openWorldHint: true });
    expect(result!.tools[1].inputSchema.properties.wait).toMatchObject({ type: "integer", minimum: 0, maximum: 25 });
    expect(result!.tools[4].annotations.destructiveHint).toBe(true);
  });

  it("negotiates the protocol version: a supported one is kept, an unknown one gets the latest", async () => {
    const user = await linkedUser();
    const older = (await (
      await mcpPost({ ...initialize, params: { ...initialize.params, protocolVersion: "2025-03-26" } }, user.apiKey)
    ).json()) as { result: { protocolVersion: string } };
    expect(older.result.protocolVersion).toBe("2025-03-26");
    const future = (await (
      await mcpPost({ ...initialize, params: { ...initialize.params, protocolVersion: "2099-01-01" } }, user.apiKey)
    ).json()) as { result: { protocolVersion: string } };
    expect(future.result.protocolVersion).toBe(LATEST_PROTOCOL_VERSION);
  });

  it("answers ping, takes notifications with 202 and no body, and refuses unknown methods and bad params", async () => {
    const user = await linkedUser();
    expect(await rpc(user.apiKey, "ping")).toMatchObject({ result: {} });
    const note = await mcpPost({ jsonrpc: "2.0", method: "notifications/initialized" }, user.apiKey);
    expect(note.status).toBe(202);
    expect(await note.text()).toBe("");
    expect((await rpc(user.apiKey, "sampling/createMessage")).error).toEqual({
      code: -32601,
      message: "Method not found: sampling/createMessage",
    });
    expect((await rpc(user.apiKey, "tools/call", { arguments: {} })).error).toMatchObject({
      code: -32602,
      message: expect.stringContaining("Invalid params for tools/call"),
    });
  });

  it("answers an unknown tool with a JSON-RPC error naming the tools", async () => {
    const user = await linkedUser();
    const { error } = await rpc(user.apiKey, "tools/call", { name: "send_fax", arguments: {} });
    expect(error!.code).toBe(-32602);
    expect(error!.message).toContain("place_call");
  });

  it("refuses a body over 64 KB before parsing it, as every endpoint does", async () => {
    const user = await linkedUser();
    const res = await mcpPost(
      {
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "place_call", arguments: { task: "x".repeat(70 * 1024) } },
      },
      user.apiKey,
    );
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe("payload_too_large");
  });

  it("answers GET and DELETE with 405: no session, no server stream", async () => {
    const user = await linkedUser();
    for (const method of ["GET", "DELETE"]) {
      const res = await bridge("/mcp", { method, ...withKey(user.apiKey, { accept: "text/event-stream" }) });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
      expect((await errorOf(res)).code).toBe("method_not_allowed");
    }
  });
});

describe("POST /mcp: scopes and the hourly guard apply as on REST", () => {
  it("a calls:read key lists calls but cannot place one or read the account", async () => {
    const user = await linkedUser();
    const reader = await keyWith(user.apiKey, { scopes: ["calls:read"] });
    expect((await callTool(reader.api_key, "list_calls")).isError).toBeFalsy();
    const placed = await callTool(reader.api_key, "place_call", {
      phone: "+14155551234",
      task: "Ask about store hours today",
    });
    expect(placed.isError).toBe(true);
    expect(textOf(placed)).toMatch(/^insufficient_scope: This API key lacks the "calls:write" scope/);
    const usage = await callTool(reader.api_key, "get_usage");
    expect(usage.isError).toBe(true);
    expect(textOf(usage)).toContain('"account:read"');
  });

  it("a key allowed one call an hour is refused the second, with when to retry", async () => {
    const user = await linkedUser();
    const one = await keyWith(user.apiKey, { calls_per_hour: 1 });
    expect(
      (await callTool(one.api_key, "place_call", { phone: "+14155551234", task: "Ask about store hours today" }))
        .isError,
    ).toBeFalsy();
    const second = await callTool(one.api_key, "place_call", {
      phone: "+14155551234",
      task: "Ask whether they deliver today",
    });
    expect(second.isError).toBe(true);
    expect(textOf(second)).toMatch(
      /^rate_limited: This API key may place 1 calls per hour.*Retry after \d+ seconds\.$/,
    );
  });
});
