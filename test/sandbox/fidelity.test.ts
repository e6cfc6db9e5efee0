import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorOf, json } from "../support/bridge";
import { auth, callBody, endSandboxCall, sandboxSignIn } from "../support/sandbox";
import {
  createdCall,
  freshEmail,
  type SandboxCall,
  sandboxGet,
  sandboxWithVars,
  settledWithin,
  tokenRequest,
} from "../support/sandbox-extra";
import { sandboxPhone } from "../support/sandbox-phones";

/**
 * The sandbox as KallyAI documents its API (docs/sandbox.md): POST /v1/calls answers once the
 * call has ended, a call is invisible until then, and the other facts of KallyAI's reference.
 */
const SYNC = { SANDBOX_PLACEMENT: "sync", SANDBOX_CALL_SECONDS: "0.6" } as const;
const sync = (path: string, init?: RequestInit) => sandboxWithVars(SYNC, path, init);
const placeSync = (token: string, phone: string, headers: Record<string, string> = {}, overrides = {}) =>
  sync("/v1/calls", {
    method: "POST",
    headers: { ...auth(token), "content-type": "application/json", ...headers },
    body: JSON.stringify(callBody(phone, overrides)),
  });
const END_STATUSES = ["success", "no_answer", "busy", "failed", "voicemail", "cancelled", "terminated"];
const callsOfKey = async (key: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM sandbox_calls WHERE idempotency_key = ?")
    .bind(key)
    .first<{ n: number }>())!.n;

describe("POST /v1/calls with synchronous placement (the documented behaviour)", () => {
  it("holds the request for the call's length and answers 201 with the finished call", async () => {
    const { accessToken } = await sandboxSignIn();
    const started = Date.now();
    const res = await placeSync(accessToken, "+14155551234", { "idempotency-key": crypto.randomUUID() });
    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    const call = (await res.json()) as SandboxCall;
    expect(END_STATUSES).toContain(call.status);
    expect(call).toMatchObject({ status: "success", highlights: expect.stringContaining("Reserve") });
    expect(call.metadata.ended_at).not.toBeNull();
  });

  it("a second POST with the same key while the call runs waits for it and answers the same call; one call is placed", async () => {
    const { accessToken } = await sandboxSignIn();
    const key = crypto.randomUUID();
    const first = placeSync(accessToken, "+14155551234", { "idempotency-key": key });
    await new Promise((r) => setTimeout(r, 150));
    const second = await placeSync(accessToken, "+14155551234", { "idempotency-key": key });
    const [a, b] = [(await (await first).json()) as SandboxCall, (await second.json()) as SandboxCall];
    expect(second.status).toBe(201);
    expect(b.call_id).toBe(a.call_id);
    expect(b.status).toBe("success");
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(await callsOfKey(key)).toBe(1);
  });

  it("after the call ended, the same key answers the same call at once", async () => {
    const { accessToken } = await sandboxSignIn();
    const key = crypto.randomUUID();
    const a = (await (
      await placeSync(accessToken, sandboxPhone("no_answer"), { "idempotency-key": key })
    ).json()) as SandboxCall;
    const started = Date.now();
    const again = (await (
      await placeSync(accessToken, sandboxPhone("no_answer"), { "idempotency-key": key })
    ).json()) as SandboxCall;
    expect(Date.now() - started).toBeLessThan(500);
    expect(again).toMatchObject({ call_id: a.call_id, status: "no_answer" });
  });

  it("a call is invisible until it has ended: GET answers 404 call_not_found and the list leaves it out", async () => {
    const { accessToken } = await sandboxSignIn();
    const placing = placeSync(accessToken, "+14155551234", { "idempotency-key": crypto.randomUUID() }, {});
    let id: string | null = null;
    while (!id) {
      await new Promise((r) => setTimeout(r, 50));
      id =
        (await env.DB.prepare("SELECT id FROM sandbox_calls ORDER BY rowid DESC LIMIT 1").first<{ id: string }>())
          ?.id ?? null;
    }
    const during = await sync(`/v1/calls/${id}`, { headers: auth(accessToken) });
    expect(during.status).toBe(404);
    expect(await errorOf(during)).toMatchObject({ code: "call_not_found" });
    const listed = (await (await sync("/v1/calls", { headers: auth(accessToken) })).json()) as {
      calls: unknown[];
      total: number;
    };
    expect(listed).toEqual({ calls: [], total: 0 });
    await placing;
    const after = await sync(`/v1/calls/${id}`, { headers: auth(accessToken) });
    expect(after.status).toBe(200);
    const list = (await (await sync("/v1/calls", { headers: auth(accessToken) })).json()) as { total: number };
    expect(list.total).toBe(1);
  });

  it("a call that never ends holds the request until the client gives up", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = placeSync(accessToken, sandboxPhone("never"), { "idempotency-key": crypto.randomUUID() });
    expect(await settledWithin(res, 1500)).toBe("pending");
    await env.DB.prepare("UPDATE sandbox_calls SET outcome = 'success', ends_at = ? WHERE outcome = 'never'")
      .bind(Date.now() - 1)
      .run();
    expect((await res).status).toBe(201);
  });

  it("cancel and recording, which KallyAI's reference does not have, answer 404 as unknown endpoints", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = (await (await placeSync(accessToken, "+14155551234")).json()) as SandboxCall;
    const cancel = await sync(`/v1/calls/${call.call_id}/cancel`, { method: "POST", headers: auth(accessToken) });
    const recording = await sync(`/v1/calls/${call.call_id}/recording`, { headers: auth(accessToken) });
    const audio = await sync(`/v1/calls/${call.call_id}/recording.wav`);
    for (const res of [cancel, recording, audio]) {
      expect(res.status).toBe(404);
      expect(await errorOf(res)).toMatchObject({ code: "not_found" });
    }
    expect((await sync(`/v1/calls/${call.call_id}`, { headers: auth(accessToken) })).status).toBe(200);
  });

  it("refusals come at once, as before (a refused call is never held)", async () => {
    const { accessToken } = await sandboxSignIn();
    const started = Date.now();
    const res = await placeSync(accessToken, sandboxPhone("blocked"));
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: "blocked_number" });
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe("SANDBOX_PLACEMENT=async keeps the earlier behaviour", () => {
  it("answers 201 at once with a queued call, visible while it runs", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken);
    expect(call.status).toBe("queued");
    expect((await sandboxGet(`/v1/calls/${call.call_id}`, accessToken)).status).toBe(200);
  });

  it("still offers cancel and recording, so that the bridge's cancel at KallyAI stays tested", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken);
    const cancel = await json(`/sandbox/v1/calls/${call.call_id}/cancel`, {}, { headers: auth(accessToken) });
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toMatchObject({ call_id: call.call_id, status: "cancelled" });
    const ended = await createdCall(accessToken);
    await endSandboxCall(ended.call_id);
    const recording = await sandboxGet(`/v1/calls/${ended.call_id}/recording`, accessToken);
    expect(await recording.json()).toEqual({ recording_url: expect.stringMatching(/\/recording\.wav$/) });
  });
});

describe("the reference's other facts", () => {
  it("the list is {calls, total}, limit 1–200 (default 50)", async () => {
    const { accessToken } = await sandboxSignIn();
    await createdCall(accessToken);
    const body = (await (await sandboxGet("/v1/calls?limit=500", accessToken)).json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["calls", "total"]);
  });

  it("the billing portal's link is `url`", async () => {
    const { accessToken } = await sandboxSignIn();
    const body = (await (await sandboxGet("/v1/stripe/billing-portal", accessToken)).json()) as Record<string, unknown>;
    expect(body).toEqual({ url: expect.stringMatching(/^http:\/\/bridge\.test\/sandbox\/billing-portal$/) });
  });

  it("a 402 comes bare: {plan_type, minutes_allocated, minutes_used, upgrade_url}, no error wrapper", async () => {
    const { accessToken } = await sandboxSignIn(freshEmail("broke").replace("@", "+calls0@"));
    const res = await json("/sandbox/v1/calls", callBody("+14155551234"), { headers: auth(accessToken) });
    expect(res.status).toBe(402);
    expect(await res.json()).toEqual({
      plan_type: "sandbox",
      minutes_allocated: 0,
      minutes_used: 0,
      upgrade_url: "http://bridge.test/sandbox/top-up",
    });
  });

  it("errors follow the standard format: code, details.message and a correlation_id", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await sandboxGet(`/v1/calls/${crypto.randomUUID()}`, accessToken);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body.error).toEqual({
      code: "call_not_found",
      details: { message: expect.any(String) },
      correlation_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it("a number ending in 0006 ends `terminated`", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken, sandboxPhone("terminated"));
    await endSandboxCall(call.call_id);
    const ended = (await (await sandboxGet(`/v1/calls/${call.call_id}`, accessToken)).json()) as SandboxCall;
    expect(ended).toMatchObject({ status: "terminated", highlights: expect.stringContaining("cut off") });
  });

  it.each([
    ["+14155551234", (b: any) => b.entries[0].speaker, "HUMAN"],
    [sandboxPhone("transcript_key"), (b: any) => b.transcript[0].speaker, "HUMAN"],
    [sandboxPhone("bare_list"), (b: any) => b[0].content, expect.stringContaining("Italian Bistro")],
    [
      sandboxPhone("role_text"),
      (b: any) => [b.entries[0].role, b.entries[0].timestamp],
      ["user", expect.stringMatching(/^00:00:\d\d$/)],
    ],
  ])("the transcript of %s has its own shape", async (phone, pick, expected) => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken, phone);
    await endSandboxCall(call.call_id);
    const body = await (await sandboxGet(`/v1/calls/${call.call_id}/transcript`, accessToken)).json();
    expect(pick(body)).toEqual(expected);
  });

  it("calendar.ics for a call that booked something; 404 for one that did not", async () => {
    const { accessToken } = await sandboxSignIn();
    const booked = await createdCall(accessToken, "+14155551234", {
      appointment_date: "2026-01-28",
      appointment_time: "20:00",
    });
    const asked = await createdCall(accessToken, "+14155551234", { task_category: "general" });
    await endSandboxCall(booked.call_id);
    await endSandboxCall(asked.call_id);
    const ics = await sandboxGet(`/v1/calls/${booked.call_id}/calendar.ics`, accessToken);
    expect(ics.status).toBe(200);
    expect(ics.headers.get("content-type")).toContain("text/calendar");
    const text = await ics.text();
    expect(text).toMatch(/^BEGIN:VCALENDAR\r\n/);
    expect(text).toContain("DTSTART;TZID=America/New_York:20260128T200000");
    expect(text).toContain("SUMMARY:Table for 4 at Italian Bistro");
    expect((await sandboxGet(`/v1/calls/${asked.call_id}/calendar.ics`, accessToken)).status).toBe(404);
  });
});

describe("refresh tokens", () => {
  it("an account with +norotate gets no new refresh token; the old one keeps working", async () => {
    const { refreshToken } = await sandboxSignIn(freshEmail("keep").replace("@", "+norotate@"));
    for (let i = 0; i < 2; i++) {
      const res = await json("/sandbox/v1/auth/refresh", { refresh_token: refreshToken });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ access_token: expect.any(String), expires_in: 3600 });
      expect(body).not.toHaveProperty("refresh_token");
    }
  });

  it("other accounts' refresh tokens rotate: the old one is refused after use", async () => {
    const { refreshToken } = await sandboxSignIn();
    const res = await json("/sandbox/v1/auth/refresh", { refresh_token: refreshToken });
    expect((await res.json()) as Record<string, unknown>).toHaveProperty("refresh_token");
    expect((await json("/sandbox/v1/auth/refresh", { refresh_token: refreshToken })).status).toBe(401);
  });

  it("CLI tokens do not refresh at the OAuth token endpoint, and OAuth tokens not at /v1/auth/refresh", async () => {
    const { refreshToken } = await sandboxSignIn();
    const atClient = await tokenRequest({
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: "sandbox-client",
      client_secret: "sandbox-secret",
    });
    expect(atClient.status).toBe(401);
    expect(await errorOf(atClient)).toMatchObject({ code: "invalid_grant" });
    // Still unused: the CLI endpoint takes it.
    expect((await json("/sandbox/v1/auth/refresh", { refresh_token: refreshToken })).status).toBe(200);
  });
});
