import { describe, expect, it } from "vitest";
import { type Endpoint, fuzz, reachedPastTheKey } from "../support/fuzz";
import { fuzzAccount } from "../support/fuzz-setup";

const RUNS = 500;

describe("fuzzing the MCP endpoint", () => {
  it(`${RUNS} generated requests: never a 5xx, every 4xx a JSON error`, { timeout: 600_000 }, async () => {
    const account = await fuzzAccount();
    const rpc = (method: string, params: Record<string, unknown> = {}) => ({ jsonrpc: "2.0", id: 1, method, params });
    const accepts = ["application/json, text/event-stream"];
    const endpoints: Endpoint[] = [
      { method: "POST", path: "/mcp", accepts, base: rpc("tools/list") },
      {
        method: "POST",
        path: "/mcp",
        accepts,
        base: rpc("tools/call", {
          name: "place_call",
          arguments: { phone: "+14155551234", task: "Ask whether they are open today" },
        }),
      },
      {
        method: "POST",
        path: "/mcp",
        accepts,
        base: rpc("tools/call", { name: "get_call", arguments: { id: account.ids[0] } }),
      },
      {
        method: "POST",
        path: "/mcp",
        accepts,
        base: rpc("initialize", {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "fuzz", version: "1" },
        }),
      },
      { method: "POST", path: "/mcp", accepts },
      { method: "GET", path: "/mcp" },
    ];
    const { sent, statuses } = await fuzz(endpoints, account, RUNS);
    console.log(`fuzz mcp: ${sent} requests`, Object.fromEntries(statuses));
    expect(sent).toBe(RUNS);
    expect(reachedPastTheKey(statuses)).toBe(true);
  });
});
