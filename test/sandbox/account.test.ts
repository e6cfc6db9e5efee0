import { describe, expect, it } from "vitest";
import { bridge, errorOf, json } from "../support/bridge";
import { auth, endSandboxCall, sandboxSignIn } from "../support/sandbox";
import { createdCall, placeSandboxCall, type SandboxCall, sandboxGet } from "../support/sandbox-extra";
import { sandboxPhone } from "../support/sandbox-phones";

interface Statistics {
  plan_type: string;
  minutes_allocated: number;
  minutes_used: number;
  minutes_remaining: number;
  calls_allocated: number;
  calls_used: number;
  calls_remaining: number;
  period_start: string;
  period_end: string;
  usage_percentage: number;
  subscription_status: string;
}

const statistics = async (token: string) => {
  const res = await sandboxGet("/v1/users/me/statistics", token);
  expect(res.status).toBe(200);
  return (await res.json()) as Statistics;
};

const quotaEmail = (calls: number) => `quota-${crypto.randomUUID()}+calls${calls}@example.com`;

describe("GET /sandbox/v1/users/me/statistics", () => {
  it("describes a new user's plan: 300 calls, 300 minutes (an hour of every recipe), nothing used", async () => {
    const { accessToken } = await sandboxSignIn();
    const stats = await statistics(accessToken);
    expect(stats).toMatchObject({
      plan_type: "sandbox",
      minutes_allocated: 300,
      minutes_used: 0,
      minutes_remaining: 300,
      calls_allocated: 300,
      calls_used: 0,
      calls_remaining: 300,
      usage_percentage: 0,
      subscription_status: "active",
    });
    expect(Date.parse(stats.period_end)).toBeGreaterThan(Date.parse(stats.period_start));
  });

  it("counts calls as they are placed, and minutes only once successful calls have ended", async () => {
    const { accessToken } = await sandboxSignIn();
    const first = await createdCall(accessToken);
    const second = await createdCall(accessToken);
    let stats = await statistics(accessToken);
    expect(stats).toMatchObject({ calls_used: 2, calls_remaining: 298, minutes_used: 0, minutes_remaining: 300 });

    await endSandboxCall(first.call_id);
    const ended = (await (await sandboxGet(`/v1/calls/${first.call_id}`, accessToken)).json()) as SandboxCall;
    expect(ended.status).toBe("success");
    const minutes = Math.ceil(ended.duration_seconds! / 60);
    expect(minutes).toBeGreaterThan(0);
    stats = await statistics(accessToken);
    expect(stats).toMatchObject({
      calls_used: 2,
      calls_remaining: 298,
      minutes_used: minutes,
      minutes_remaining: 300 - minutes,
    });
    expect(stats.usage_percentage).toBeCloseTo((minutes / 300) * 100, 0);
    expect(second.call_id).not.toBe(first.call_id);
  });

  it("counts voicemail minutes, but none for calls nobody answered", async () => {
    const { accessToken } = await sandboxSignIn();
    const busy = await createdCall(accessToken, sandboxPhone("busy"));
    const noAnswer = await createdCall(accessToken, sandboxPhone("no_answer"));
    await endSandboxCall(busy.call_id);
    await endSandboxCall(noAnswer.call_id);
    expect(await statistics(accessToken)).toMatchObject({ calls_used: 2, minutes_used: 0 });

    const voicemail = await createdCall(accessToken, sandboxPhone("voicemail"));
    await endSandboxCall(voicemail.call_id);
    expect((await statistics(accessToken)).minutes_used).toBeGreaterThan(0);
  });

  it("charges no minutes for a cancelled call", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken);
    await bridge(`/sandbox/v1/calls/${call.call_id}/cancel`, { method: "POST", headers: auth(accessToken) });
    await endSandboxCall(call.call_id);
    expect(await statistics(accessToken)).toMatchObject({ calls_used: 1, minutes_used: 0 });
  });

  it("is per user", async () => {
    const alice = await sandboxSignIn();
    const bob = await sandboxSignIn();
    await createdCall(alice.accessToken);
    expect((await statistics(bob.accessToken)).calls_used).toBe(0);
  });
});

describe("quota", () => {
  it("an email like name+calls2@example.com gets a plan of 2 calls", async () => {
    const { accessToken } = await sandboxSignIn(quotaEmail(2));
    expect(await statistics(accessToken)).toMatchObject({
      calls_allocated: 2,
      calls_remaining: 2,
      minutes_allocated: 10,
    });
  });

  it("the call after the plan's last is refused with the reference's bare 402: the plan and the upgrade link", async () => {
    const { accessToken } = await sandboxSignIn(quotaEmail(2));
    await createdCall(accessToken);
    await createdCall(accessToken);
    expect(await statistics(accessToken)).toMatchObject({ calls_used: 2, calls_remaining: 0 });

    const res = await placeSandboxCall(accessToken, "+14155551234");
    expect(res.status).toBe(402);
    expect(await res.json()).toEqual({
      plan_type: "sandbox",
      minutes_allocated: 10,
      minutes_used: 0,
      upgrade_url: expect.stringMatching(/\/sandbox\/top-up$/),
    });
    expect((await statistics(accessToken)).calls_used).toBe(2);
  });

  it("test mode says how to get more: POST /sandbox/top-up adds the default plan, and calls go through again", async () => {
    const email = quotaEmail(1);
    const { accessToken } = await sandboxSignIn(email);
    await createdCall(accessToken);
    const refused = await placeSandboxCall(accessToken, "+14155551234");
    expect(refused.status).toBe(402);
    const { upgrade_url } = (await refused.json()) as { upgrade_url: string };
    const topUp = await json(new URL(upgrade_url).pathname, { email });
    expect(topUp.status).toBe(200);
    expect(await statistics(accessToken)).toMatchObject({ calls_allocated: 301, calls_remaining: 300 });
    expect((await placeSandboxCall(accessToken, "+14155551234")).status).toBe(201);
    const page = await bridge(new URL(upgrade_url).pathname);
    expect(await page.text()).toContain("<form");
    const unknown = await json(new URL(upgrade_url).pathname, { email: `nobody-${crypto.randomUUID()}@example.com` });
    expect(unknown.status).toBe(404);
    expect((await json(new URL(upgrade_url).pathname, { email: "not an email" })).status).toBe(422);
  });

  it("a plan of 0 calls refuses the first call", async () => {
    const { accessToken } = await sandboxSignIn(quotaEmail(0));
    const res = await placeSandboxCall(accessToken, "+14155551234");
    expect(res.status).toBe(402);
    expect(await res.json()).toMatchObject({ upgrade_url: expect.any(String) });
  });

  it("replaying an accepted call's Idempotency-Key still answers with that call once the plan is used up", async () => {
    const { accessToken } = await sandboxSignIn(quotaEmail(1));
    const first = await placeSandboxCall(accessToken, "+14155551234", {}, { "idempotency-key": "only-call" });
    expect(first.status).toBe(201);
    const replay = await placeSandboxCall(accessToken, "+14155551234", {}, { "idempotency-key": "only-call" });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(((await replay.json()) as SandboxCall).call_id).toBe(((await first.json()) as SandboxCall).call_id);
    expect((await placeSandboxCall(accessToken, "+14155551234", {}, { "idempotency-key": "another" })).status).toBe(
      402,
    );
  });

  it("refused calls do not use up the plan", async () => {
    const { accessToken } = await sandboxSignIn(quotaEmail(1));
    expect((await placeSandboxCall(accessToken, "911")).status).toBe(422);
    expect((await placeSandboxCall(accessToken, "+14155551234", { party_size: 0 })).status).toBe(422);
    expect((await placeSandboxCall(accessToken, "+14155551234")).status).toBe(201);
  });
});

describe("GET /sandbox/v1/users/me/subscription", () => {
  it("describes the sandbox subscription", async () => {
    const { accessToken } = await sandboxSignIn(quotaEmail(3));
    const res = await sandboxGet("/v1/users/me/subscription", accessToken);
    expect(res.status).toBe(200);
    const sub = (await res.json()) as Record<string, unknown>;
    expect(sub).toMatchObject({
      has_active_subscription: true,
      provider: "sandbox",
      plan: { type: "sandbox", period: "monthly", minutes_included: 15 },
      status: "active",
      auto_renew: true,
      management_url: "http://bridge.test/sandbox/billing-portal",
    });
    expect(Date.parse(sub.expires_at as string)).toBeGreaterThan(Date.now());
  });
});

describe("GET /sandbox/v1/stripe/billing-portal", () => {
  it("answers with the portal's `url` (the reference's name), which serves a page", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await sandboxGet("/v1/stripe/billing-portal", accessToken);
    expect(res.status).toBe(200);
    const { url } = (await res.json()) as { url: string };
    expect(url).toBe("http://bridge.test/sandbox/billing-portal");
    const page = await bridge(new URL(url).pathname);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("billing portal");
  });
});

describe("unknown sandbox endpoints", () => {
  it("are 404 with a JSON error", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await sandboxGet("/v1/users/me/nothing-here", accessToken);
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toEqual(expect.any(String));
  });
});
