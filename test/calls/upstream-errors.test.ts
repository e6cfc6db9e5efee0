import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { upstreamFailure } from "../../src/kallyai/errors";
import { linkedUser, withKey } from "../support/accounts";
import { bridge, errorOf } from "../support/bridge";
import { place, placed, upstreamIdOf } from "../support/calls";
import { holdPlacements, settlePlacements, takeEnqueued } from "../support/queues";
import { sandboxRequestCount } from "../support/sandbox";
import { sandboxPhone } from "../support/sandbox-phones";

describe("KallyAI's refusals reach the caller with the same code and advice", () => {
  it("quota_exceeded → 402 with where to get more (in test mode, the sandbox's free top-up, not real pricing)", async () => {
    const user = await linkedUser(
      `broke+calls0-${crypto.randomUUID()}@example.com`
        .replace("+calls0-", "-x+calls0@")
        .replace("@example.com", ".example.com"),
    );
    const res = await place(user.apiKey);
    expect(res.status).toBe(402);
    const error = await errorOf(res);
    expect(error.code).toBe("quota_exceeded");
    expect(error.message).toContain("http://bridge.test/sandbox/top-up");
    expect(error.message).not.toContain("kallyai.com/pricing");
  });

  it.each([
    ["+8613800138000", 403, "country_restriction", "Spain"],
    ["+19005551234", 422, "toll_number", "regular number"],
    [sandboxPhone("blocked"), 403, "blocked_number", "another number"],
  ])("%s → %i %s", async (phone, status, code, advice) => {
    const user = await linkedUser();
    const res = await place(user.apiKey, { phone, task: "Ask about store hours today" });
    expect(res.status).toBe(status);
    const error = await errorOf(res);
    expect(error.code).toBe(code);
    expect(error.message).toContain(advice);
  });

  it("safety_violation → 422", async () => {
    const user = await linkedUser();
    const res = await place(user.apiKey, { phone: "+14155551234", task: "Threaten the owner about the refund" });
    expect(await errorOf(res)).toMatchObject({
      code: "safety_violation",
      message: expect.stringContaining("Rephrase"),
    });
  });

  it.each([
    [402, "quota_exceeded", 402],
    [422, "missing_phone_number", 422],
    [422, "emergency_number", 422],
    [422, "toll_number", 422],
    [403, "blocked_number", 403],
    [403, "suppression_violation", 403],
    [422, "scheduling_violation", 422],
    [422, "consent_denied", 422],
    [422, "safety_violation", 422],
    [403, "country_restriction", 403],
    [403, "unsupported_country", 403],
    [422, "unsupported_language", 422],
    [403, "forbidden", 403],
    [404, "call_not_found", 404],
    [404, "transcript_not_found", 404],
  ])("upstream %i %s → bridge %i with the same code (both error shapes)", (upstreamStatus, code, status) => {
    for (const body of [
      { error: { code, message: "x" } },
      { error: { code, details: { message: "x" }, correlation_id: "c" } },
    ]) {
      const err = upstreamFailure(upstreamStatus, body);
      expect(err.status).toBe(status);
      expect(err.code).toBe(code);
      expect(err.message.length).toBeGreaterThan(20);
    }
  });

  it("a quota body's own upgrade_url is the one advised", () => {
    expect(
      upstreamFailure(402, { error: { code: "quota_exceeded", upgrade_url: "https://kallyai.com/upgrade?plan=pro" } })
        .message,
    ).toContain("https://kallyai.com/upgrade?plan=pro");
  });

  it("an unknown 4xx code passes through as a refusal, never as 5xx", () => {
    expect(upstreamFailure(422, { error: { code: "new_rule", message: "Something new" } })).toMatchObject({
      status: 422,
      code: "new_rule",
    });
    expect(upstreamFailure(400, "not json")).toMatchObject({ status: 422, code: "upstream_rejected" });
  });
});

describe("KallyAI failing: the call is accepted and its placement retried in the background, and nothing leaks", () => {
  const placementOf = (id: string) =>
    env.DB.prepare("SELECT state, attempts, due_at FROM call_placements WHERE call_id = ?")
      .bind(id)
      .first<{ state: string; attempts: number; due_at: number }>();

  it.each([
    [sandboxPhone("fault:500"), "500"],
    [sandboxPhone("fault:429"), "429 with Retry-After"],
    [sandboxPhone("fault:malformed"), "a malformed answer"],
  ])("sandbox fault %s (%s) → 202, queued again for a later attempt with the same key", async (phone) => {
    const user = await linkedUser();
    const res = await place(user.apiKey, { phone, task: "Ask about store hours today" });
    expect(res.status).toBe(202);
    const text = await res.text();
    expect(text).not.toMatch(/sbx_|eyJ|at \w+ \(|stack/);
    const { id } = JSON.parse(text) as { id: string };
    await settlePlacements();
    expect(await placementOf(id)).toMatchObject({ state: "queued", attempts: 1 });
    expect(takeEnqueued("placements").map((m) => m.body.call)).toEqual([id]);
  });

  it("a hang: no refusal within the answer window, so the call is accepted (202) while its POST waits", async () => {
    holdPlacements();
    const user = await linkedUser();
    const res = await place(user.apiKey, { phone: sandboxPhone("fault:hang"), task: "Ask about store hours today" });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { status: string }).status).toBe("queued");
  });

  it("a call KallyAI keeps failing for 15 minutes ends failed, with a call.failed event", async () => {
    holdPlacements();
    const user = await linkedUser();
    const { id } = (await (
      await place(user.apiKey, { phone: sandboxPhone("fault:500"), task: "Ask about store hours today" })
    ).json()) as {
      id: string;
    };
    await env.DB.prepare("UPDATE calls SET created_at = created_at - ? WHERE id = ?")
      .bind(15 * 60_000 + 1, id)
      .run();
    const { consume } = await import("../support/queues");
    const [message] = takeEnqueued("placements");
    await consume("placements", [message!.body]);
    const row = await env.DB.prepare("SELECT status, highlights FROM calls WHERE id = ?")
      .bind(id)
      .first<{ status: string; highlights: string }>();
    expect(row).toMatchObject({ status: "failed", highlights: expect.stringContaining("upstream_unavailable") });
    const types = await env.DB.prepare("SELECT type FROM events WHERE call_id = ? ORDER BY type").bind(id).all();
    expect(types.results.map((r) => r.type)).toEqual(["call.completed", "call.failed"]);
  });

  it("GETs are retried on a 5xx; the answer is 502 after the retries", async () => {
    const user = await linkedUser();
    const { id } = await placed(user.apiKey);
    const path = `/v1/calls/${await upstreamIdOf(id)}`;
    const before = await sandboxRequestCount("GET", path);
    const res = await bridge(`/v1/calls/${id}`, withKey(user.apiKey, { "x-sandbox-fault": "500" }));
    // The fault header is not forwarded: the bridge's own requests to KallyAI carry only what the client sends.
    expect(res.status).toBe(200);
    expect(await sandboxRequestCount("GET", path)).toBe(before + 1);
  });
});
