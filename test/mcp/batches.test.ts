import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RESPONSE_LIMIT_BYTES, RESPONSE_TOO_LARGE } from "../../src/mcp/protocol";
import { WAIT_BUDGET_MS } from "../../src/mcp/waits";
import { MAX_BATCH } from "../../src/routes/mcp";
import { linkedUser, withKey } from "../support/accounts";
import { bridge } from "../support/bridge";
import { placed, restaurant } from "../support/calls";
import { mcpPost } from "../support/mcp";
import { upstreamPolls } from "../support/webhooks";

/**
 * One POST /mcp may carry a batch of JSON-RPC messages. The pass sent 100 × get_call
 * {wait: 10} on a call that never ends: 810 upstream polls in 11 s, where one REST ?wait=10 made
 * 35; and 100 × tools/list turned 4.8 KB into 1.5 MB. A request's work is bounded now.
 */
interface Reply {
  id: number | null;
  result?: { structuredContent?: { id: string; status: string }; isError?: boolean; tools?: unknown[] };
  error?: { code: number; message: string };
}

const neverEnding = { ...restaurant, phone: "+14155550005" }; // the sandbox keeps it in progress
const getCall = (id: number, callId: string, wait: number) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "get_call", arguments: { id: callId, wait } },
});

async function batch(
  apiKey: string,
  messages: unknown[],
): Promise<{ status: number; replies: Reply[]; bytes: number }> {
  const res = await mcpPost(messages, apiKey);
  const text = await res.text();
  const body = JSON.parse(text) as Reply | Reply[];
  return { status: res.status, replies: Array.isArray(body) ? body : [body], bytes: text.length };
}

describe("MCP batches are bounded", () => {
  it(`100 × get_call {wait: 10} is refused whole (more than ${MAX_BATCH} messages), with no upstream request`, async () => {
    const user = await linkedUser();
    const call = await placed(user.apiKey, neverEnding);
    const before = await upstreamPolls(call.id);
    const { status, replies } = await batch(
      user.apiKey,
      Array.from({ length: 100 }, (_, i) => getCall(i + 1, call.id, 10)),
    );
    expect(status).toBe(400);
    expect(replies).toEqual([
      { jsonrpc: "2.0", id: null, error: { code: -32600, message: expect.stringContaining(`at most ${MAX_BATCH}`) } },
    ]);
    expect(await upstreamPolls(call.id)).toBe(before);
  });

  it(`${MAX_BATCH} × get_call {wait: 3} on one call share one poll loop: no more polls than one REST ?wait=3`, async () => {
    const user = await linkedUser();
    const call = await placed(user.apiKey, neverEnding);
    const start = await upstreamPolls(call.id);
    expect((await bridge(`/v1/calls/${call.id}?wait=3`, withKey(user.apiKey))).status).toBe(200);
    const oneRest = (await upstreamPolls(call.id)) - start;

    const { status, replies } = await batch(
      user.apiKey,
      Array.from({ length: MAX_BATCH }, (_, i) => getCall(i + 1, call.id, 3)),
    );
    expect(status).toBe(200);
    expect(replies).toHaveLength(MAX_BATCH);
    for (const reply of replies)
      expect(reply.result?.structuredContent).toMatchObject({ id: call.id, status: "in_progress" });
    const batchPolls = (await upstreamPolls(call.id)) - start - oneRest;
    expect(oneRest).toBeGreaterThan(1);
    expect(batchPolls).toBeLessThanOrEqual(oneRest + 1);
  });

  it(`the waits of a request come out of one ${WAIT_BUDGET_MS / 1000}-second budget: 4 × get_call {wait: 10} on 4 calls`, async () => {
    const user = await linkedUser();
    const calls = [];
    for (let i = 0; i < 4; i++) calls.push(await placed(user.apiKey, { ...neverEnding, task: `Ask about table ${i}` }));
    const before = await Promise.all(calls.map((c) => upstreamPolls(c.id)));
    const { replies } = await batch(
      user.apiKey,
      calls.map((c, i) => getCall(i + 1, c.id, 10)),
    );
    for (const [i, reply] of replies.entries())
      expect(reply.result?.structuredContent).toMatchObject({
        id: calls[i]?.id,
        status: expect.stringMatching(/queued|in_progress/),
      });
    const polls = await Promise.all(calls.map(async (c, i) => (await upstreamPolls(c.id)) - (before[i] ?? 0)));
    // 10 s + 10 s + 5 s of waiting in all: the fourth call is looked at once and answered at once.
    expect(polls.filter((n) => n === 1)).toHaveLength(1);
    const total = polls.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(Math.ceil(WAIT_BUDGET_MS / 750) + calls.length + 2);
  });

  it(`answers past ${RESPONSE_LIMIT_BYTES / 1024} KB become JSON-RPC errors, never a body cut short`, async () => {
    const user = await linkedUser();
    const now = Date.now();
    const request = JSON.stringify({
      submission: {
        task_category: "restaurant",
        task_description: `Reserve a table for 4 at 8pm and ask about ${"the gluten-free menu, ".repeat(20)}`,
        respondent_phone: "+14155551234",
        business_name: "Italian Bistro",
      },
      timezone: "America/New_York",
    });
    await env.DB.batch(
      Array.from({ length: 100 }, (_, i) =>
        env.DB.prepare(
          "INSERT INTO calls (id, user_id, status, request, highlights, created_at, updated_at) VALUES (?, ?, 'success', ?, ?, ?, ?)",
        ).bind(`big-${user.userId}-${i}`, user.userId, request, "Booked. ".repeat(40), now - i, now),
      ),
    );
    const listCalls = (id: number) => ({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name: "list_calls", arguments: { limit: 100 } },
    });
    const { status, replies, bytes } = await batch(user.apiKey, [1, 2, 3, 4].map(listCalls));
    expect(status).toBe(200);
    expect(bytes).toBeLessThanOrEqual(RESPONSE_LIMIT_BYTES + 4096);
    const answered = replies.filter((r) => r.result);
    const refused = replies.filter((r) => r.error);
    expect(answered.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(answered.length + refused.length).toBe(4);
    for (const r of refused)
      expect(r.error).toMatchObject({
        code: RESPONSE_TOO_LARGE,
        message: expect.stringContaining("Send it again on its own"),
      });
    // Alone, the same request is answered.
    const alone = await batch(user.apiKey, [listCalls(9)]);
    expect(alone.replies[0]?.result).toBeDefined();
  });

  it(`${MAX_BATCH} × tools/list is answered whole`, async () => {
    const user = await linkedUser();
    const { status, replies, bytes } = await batch(
      user.apiKey,
      Array.from({ length: MAX_BATCH }, (_, i) => ({ jsonrpc: "2.0", id: i + 1, method: "tools/list" })),
    );
    expect(status).toBe(200);
    expect(replies.every((r) => (r.result?.tools?.length ?? 0) > 0)).toBe(true);
    expect(bytes).toBeLessThan(RESPONSE_LIMIT_BYTES);
  });
});
