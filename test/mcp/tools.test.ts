import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { linkedUser } from "../support/accounts";
import { upstreamCallCount } from "../support/calls";
import { callTool, rpc, textOf } from "../support/mcp";
import { endSandboxCall } from "../support/sandbox";

const submissionOf = async (id: string) =>
  JSON.parse(
    (await env.DB.prepare(
      "SELECT request FROM sandbox_calls WHERE id = (SELECT upstream_id FROM calls WHERE calls.id = ?)",
    )
      .bind(id)
      .first<{ request: string }>())!.request,
  );
const reservation = {
  phone: "(415) 555-1234",
  task: "Reserve a table for 4 at 8pm",
  category: "restaurant",
  business: "Italian Bistro",
  name: "John Smith",
  party_size: 4,
  date: "2026-01-28",
  time: "20:00",
};

describe("place_call", () => {
  it("places the call with the REST API's parser: a national number becomes E.164, the fields become KallyAI's", async () => {
    const user = await linkedUser();
    const result = await callTool(user.apiKey, "place_call", reservation);
    expect(result.isError).toBeFalsy();
    const placed = result.structuredContent as { id: string; status: string; links: { self: string } };
    expect(placed).toMatchObject({
      status: expect.stringMatching(/queued|in_progress/),
      links: { self: `/v1/calls/${placed.id}` },
    });
    expect(textOf(result)).toBe(
      `Calling Italian Bistro (+14155551234) now. Call id ${placed.id}, status ${placed.status}. Use get_call with this id and wait=25 to follow it until it ends.`,
    );
    expect(await submissionOf(placed.id)).toEqual({
      submission: {
        task_category: "restaurant",
        task_description: "Reserve a table for 4 at 8pm",
        respondent_phone: "+14155551234",
        business_name: "Italian Bistro",
        user_name: "John Smith",
        appointment_date: "2026-01-28",
        appointment_time: "20:00",
        party_size: 4,
        language: "en",
        call_language: "en",
      },
      timezone: "America/New_York",
    });
  });

  it("refuses 911 and other emergency numbers with the reason, placing nothing", async () => {
    const user = await linkedUser();
    const before = await upstreamCallCount();
    for (const phone of ["911", "+1 911", "112"]) {
      const result = await callTool(user.apiKey, "place_call", { phone, task: "Report a fire in the kitchen" });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/^emergency_number: Emergency and service numbers .* are never called/);
    }
    expect(await upstreamCallCount()).toBe(before);
  });

  it("passes on KallyAI's refusal of a blocked or premium-rate number, with what to do", async () => {
    const user = await linkedUser();
    const blocked = await callTool(user.apiKey, "place_call", {
      phone: "+1 415 555 0666",
      task: "Ask about store hours today",
    });
    expect(blocked.isError).toBe(true);
    expect(textOf(blocked)).toBe(
      "blocked_number: KallyAI does not call this number (it is flagged). Use another number for the business.",
    );
    const toll = await callTool(user.apiKey, "place_call", {
      phone: "+1 900 555 0123",
      task: "Ask about store hours today",
    });
    expect(textOf(toll)).toMatch(/^toll_number: Premium-rate numbers are not called/);
  });

  it("answers a bad field as the REST API does, naming the field", async () => {
    const user = await linkedUser();
    const short = await callTool(user.apiKey, "place_call", { phone: "+14155551234", task: "Hi" });
    expect(short).toMatchObject({ isError: true });
    expect(textOf(short)).toBe(
      "validation_error: task must be at least 10 characters: say what the AI should accomplish",
    );
    const noPhone = await callTool(user.apiKey, "place_call", { task: "Ask about store hours today" });
    expect(textOf(noPhone)).toMatch(/^missing_phone_number: /);
    const badDate = await callTool(user.apiKey, "place_call", { ...reservation, date: "2026-02-30" });
    expect(textOf(badDate)).toBe("validation_error: date is not a real date");
  });

  it("places one call when a client repeats the same request; a new idempotency_key places another", async () => {
    const user = await linkedUser();
    const before = await upstreamCallCount();
    const first = await callTool(user.apiKey, "place_call", reservation);
    const again = await callTool(user.apiKey, "place_call", reservation);
    expect(again.structuredContent!.id).toBe(first.structuredContent!.id);
    expect(textOf(again)).toContain("was already placed");
    expect(await upstreamCallCount()).toBe(before + 1);
    const other = await callTool(user.apiKey, "place_call", { ...reservation, idempotency_key: "call-again-1" });
    expect(other.structuredContent!.id).not.toBe(first.structuredContent!.id);
    expect(await upstreamCallCount()).toBe(before + 2);
  });
});

describe("reading calls", () => {
  it("get_call answers the running call, then its outcome once it ended; get_transcript reads what was said", async () => {
    const user = await linkedUser();
    const id = (await callTool(user.apiKey, "place_call", reservation)).structuredContent!.id as string;
    const running = await callTool(user.apiKey, "get_call", { id });
    expect(running.structuredContent).toMatchObject({
      id,
      finished: false,
      business: "Italian Bistro",
      phone: "+14155551234",
    });
    expect(textOf(running)).toContain("still running: use get_call with wait=25 again");
    await endSandboxCall(id);
    const ended = await callTool(user.apiKey, "get_call", { id, wait: 5 });
    expect(ended.structuredContent).toMatchObject({ id, status: "success", finished: true });
    expect(textOf(ended)).toMatch(
      new RegExp(`^Call to Italian Bistro succeeded: .+ \\(call id ${id}, status success\\)$`),
    );
    const t = await callTool(user.apiKey, "get_transcript", { id });
    expect(t.structuredContent).toMatchObject({
      call_id: id,
      entries: expect.arrayContaining([
        expect.objectContaining({ speaker: expect.any(String), content: expect.any(String) }),
      ]),
    });
    expect(textOf(t)).toMatch(/^(Assistant|Business): /m);
  });

  it("get_call refuses a wait over 25 seconds and an unknown call, as tool errors", async () => {
    const user = await linkedUser();
    expect(textOf(await callTool(user.apiKey, "get_call", { id: "x", wait: 60 }))).toBe(
      "validation_error: wait: Too big: expected number to be <=25",
    );
    const missing = await callTool(user.apiKey, "get_call", { id: "no-such-call" });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toMatch(/^call_not_found: No call no-such-call on your account/);
  });

  it("list_calls pages newest first and filters by status", async () => {
    const user = await linkedUser();
    const ids: string[] = [];
    for (const task of ["Ask about store hours today", "Ask whether they deliver today", "Ask if they have oat milk"]) {
      ids.push(
        (await callTool(user.apiKey, "place_call", { phone: "+14155551234", task })).structuredContent!.id as string,
      );
    }
    await endSandboxCall(ids[0]!);
    await callTool(user.apiKey, "get_call", { id: ids[0] });
    const page = await callTool(user.apiKey, "list_calls", { limit: 2 });
    const body = page.structuredContent as { items: { id: string }[]; next_cursor: string };
    expect(body.items.map((c) => c.id)).toEqual([ids[2], ids[1]]);
    expect(textOf(page)).toContain(`More calls: list_calls with cursor ${body.next_cursor}`);
    const rest = await callTool(user.apiKey, "list_calls", { limit: 2, cursor: body.next_cursor });
    expect((rest.structuredContent as { items: { id: string }[] }).items.map((c) => c.id)).toEqual([ids[0]]);
    const done = await callTool(user.apiKey, "list_calls", { status: ["success"] });
    expect((done.structuredContent as { items: { id: string }[] }).items.map((c) => c.id)).toEqual([ids[0]]);
    expect(textOf(await callTool(user.apiKey, "list_calls", { status: ["ringing"] }))).toMatch(
      /^validation_error: status\.0: Invalid option: expected one of "queued"\|"in_progress"\|"success"/,
    );
  });

  it("cancel_call cancels a running call", async () => {
    const user = await linkedUser();
    const id = (await callTool(user.apiKey, "place_call", reservation)).structuredContent!.id as string;
    const cancelled = await callTool(user.apiKey, "cancel_call", { id });
    expect(cancelled.structuredContent).toMatchObject({ id, status: "cancelled", finished: true });
    expect(textOf(cancelled)).toContain("Call to Italian Bistro was cancelled.");
  });
});

describe("the account", () => {
  it("get_usage, get_subscription and billing_portal answer what the REST endpoints answer", async () => {
    const user = await linkedUser();
    const usage = await callTool(user.apiKey, "get_usage");
    expect(usage.structuredContent).toHaveProperty("minutes_remaining");
    expect(textOf(usage)).toMatch(/^You have .* left this period/);
    const sub = await callTool(user.apiKey, "get_subscription");
    expect(sub.structuredContent).toHaveProperty("has_active_subscription");
    expect(textOf(sub)).toMatch(/subscription/i);
    const billing = await callTool(user.apiKey, "billing_portal");
    expect(billing.structuredContent!.portal_url).toMatch(/^https?:\/\//);
    expect(textOf(billing)).toContain(billing.structuredContent!.portal_url as string);
  });
});

describe("resources and prompts", () => {
  it("a call is a resource: listed among the latest, read by id, its transcript too", async () => {
    const user = await linkedUser();
    const id = (await callTool(user.apiKey, "place_call", reservation)).structuredContent!.id as string;
    const templates = await rpc<{ resourceTemplates: { uriTemplate: string }[] }>(
      user.apiKey,
      "resources/templates/list",
    );
    expect(templates.result!.resourceTemplates.map((t) => t.uriTemplate)).toEqual([
      "kallyai://calls/{id}",
      "kallyai://calls/{id}/transcript",
    ]);
    const listed = await rpc<{ resources: { uri: string; title: string }[] }>(user.apiKey, "resources/list");
    expect(listed.result!.resources).toEqual([
      expect.objectContaining({ uri: `kallyai://calls/${id}`, title: expect.stringMatching(/^Italian Bistro: /) }),
    ]);
    const read = await rpc<{ contents: { mimeType: string; text: string }[] }>(user.apiKey, "resources/read", {
      uri: `kallyai://calls/${id}`,
    });
    expect(read.result!.contents[0]!.mimeType).toBe("application/json");
    expect(JSON.parse(read.result!.contents[0]!.text)).toMatchObject({ id, business: "Italian Bistro" });
    await endSandboxCall(id);
    const transcript = await rpc<{ contents: { text: string }[] }>(user.apiKey, "resources/read", {
      uri: `kallyai://calls/${id}/transcript`,
    });
    expect(transcript.result!.contents[0]!.text).toMatch(/^(Assistant|Business): /);
    const missing = await rpc(user.apiKey, "resources/read", { uri: "kallyai://calls/nope" });
    expect(missing.error).toMatchObject({
      code: -32002,
      message: expect.stringContaining("call_not_found: No call nope on your account."),
    });
  });

  it("make_a_call walks through the seed's 'gather call details' step", async () => {
    const user = await linkedUser();
    const list = await rpc<{ prompts: { name: string }[] }>(user.apiKey, "prompts/list");
    expect(list.result!.prompts.map((p) => p.name)).toEqual(["make_a_call"]);
    const got = await rpc<{ messages: { role: string; content: { text: string } }[] }>(user.apiKey, "prompts/get", {
      name: "make_a_call",
      arguments: { request: "book Luigi's for 4 tomorrow at 8" },
    });
    const text = got.result!.messages[0]!.content.text;
    expect(text).toMatch(
      /phone number to call \(required\)[\s\S]*what to accomplish[\s\S]*restaurant, clinic, hotel or general[\s\S]*party size/,
    );
    expect(text).toContain("place_call");
    expect(text).toContain("What I want: book Luigi's for 4 tomorrow at 8");
  });
});
