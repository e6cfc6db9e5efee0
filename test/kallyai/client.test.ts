import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import type { Bindings } from "../../src/env";
import { ApiError } from "../../src/errors";
import { type ClientOptions, KallyAIClient } from "../../src/kallyai/client";
import { UpstreamCall } from "../../src/kallyai/schemas";
import { route } from "../support/network";
import {
  callBody,
  endSandboxCall,
  expireSandboxAccessTokens,
  sandboxRequestCount,
  sandboxSignIn,
} from "../support/sandbox";
import { authorizationCode, SANDBOX_OAUTH_CLIENT } from "../support/sandbox-extra";
import { sandboxPhone } from "../support/sandbox-phones";

/** Access tokens are opaque to clients (the sandbox may issue random strings or JWTs). */
const OPAQUE_TOKEN = /^[A-Za-z0-9._~-]{20,}$/;

const SANDBOX = "http://bridge.test/sandbox";
const FAKE = "http://fake.test";

/** The body placeCall() sends: the sandbox helper's restaurant task for `phone`. */
const request = (phone: string, overrides: Record<string, unknown> = {}) => callBody(phone, overrides);

const client = (opts: Partial<ClientOptions> = {}) => new KallyAIClient({ baseUrl: SANDBOX, timeoutMs: 500, ...opts });

/** A client whose every request carries `X-Sandbox-Fault: fault`. */
const faultyClient = (fault: string, opts: Partial<ClientOptions> = {}) =>
  client({
    ...opts,
    fetch: (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set("x-sandbox-fault", fault);
      return fetch(input, { ...init, headers });
    },
  });

/** The ApiError a promise rejects with (fails the test if it resolves or rejects with anything else). */
async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

/** Serves canned answers on http://fake.test and records what was asked. */
function fake(answer: (req: Request, attempt: number) => Response | Promise<Response>) {
  const requests: Request[] = [];
  route(FAKE, (req) => {
    requests.push(req);
    return answer(req, requests.length);
  });
  return { requests, client: (opts: Partial<ClientOptions> = {}) => client({ baseUrl: FAKE, ...opts }) };
}

const jsonResponse = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

/** A user with a placed call, for tests that need one. */
async function withCall(phone = "+14155551234") {
  const { accessToken } = await sandboxSignIn();
  const call = await client().placeCall(accessToken, request(phone), crypto.randomUUID());
  return { accessToken, call };
}

const attemptsOf = async (method: string, path: string, run: () => Promise<unknown>) => {
  const before = await sandboxRequestCount(method, path);
  await run();
  return (await sandboxRequestCount(method, path)) - before;
};

describe("KallyAIClient against the sandbox: happy paths", () => {
  it("refresh() of an account that keeps its refresh token answers without one", async () => {
    const { refreshToken } = await sandboxSignIn(`keep-${crypto.randomUUID()}+norotate@example.com`);
    const tokens = await client().refresh(refreshToken);
    expect(tokens.access_token).toMatch(OPAQUE_TOKEN);
    expect(tokens.refresh_token ?? null).toBeNull();
    expect((await client().refresh(refreshToken)).access_token).toMatch(OPAQUE_TOKEN);
  });

  it("refresh() returns a new token set, and the old refresh token is then refused", async () => {
    const { refreshToken, accessToken } = await sandboxSignIn();
    const tokens = await client().refresh(refreshToken);
    expect(tokens).toMatchObject({
      access_token: expect.stringMatching(OPAQUE_TOKEN),
      refresh_token: expect.stringMatching(/^sbx_rt_/),
      expires_in: 3600,
    });
    expect(tokens.access_token).not.toBe(accessToken);
    const err = await failure(client().refresh(refreshToken));
    expect(err).toMatchObject({ status: 401, code: "upstream_unauthorized" });
  });

  it("exchangeCode() trades an authorization code for tokens", async () => {
    const redirect = "https://app.example/oauth/callback";
    const { code } = await authorizationCode(undefined, redirect);
    const tokens = await client().exchangeCode({
      code,
      redirect_uri: redirect,
      client_id: SANDBOX_OAUTH_CLIENT.id,
      client_secret: SANDBOX_OAUTH_CLIENT.secret,
    });
    expect(tokens.access_token).toMatch(OPAQUE_TOKEN);
    expect((await client().statistics(tokens.access_token)).calls_used).toBe(0);
  });

  it("placeCall() against the documented, synchronous KallyAI answers the finished call", async () => {
    const { accessToken } = await sandboxSignIn();
    const sync = client({
      fetch: (input, init) =>
        Promise.resolve(
          app.request(new Request(input, init), undefined, {
            ...env,
            SANDBOX_PLACEMENT: "sync",
            SANDBOX_CALL_SECONDS: "0.3",
          } as Bindings),
        ),
    });
    const call = await sync.placeCall(accessToken, request(sandboxPhone("busy")), crypto.randomUUID(), {
      timeoutMs: 5000,
    });
    expect(call).toMatchObject({ status: "busy", highlights: expect.stringContaining("busy") });
  });

  it("placeCall() returns the call; the same idempotency key returns the same call", async () => {
    const { accessToken } = await sandboxSignIn();
    const key = crypto.randomUUID();
    const call = await client().placeCall(accessToken, request("+14155551234"), key);
    expect(call).toMatchObject({
      call_id: expect.any(String),
      status: "queued",
      to: "+14155551234",
      business_name: "Italian Bistro",
    });
    expect(call.metadata?.created_at).toEqual(expect.any(String));
    const again = await client().placeCall(accessToken, request("+14155551234"), key);
    expect(again.call_id).toBe(call.call_id);
  });

  it("listCalls() returns {items, total}, paged", async () => {
    const { accessToken, call } = await withCall();
    await client().placeCall(accessToken, request("+14155551235"), crypto.randomUUID());
    const page = await client().listCalls(accessToken, { limit: 1, offset: 1 });
    expect(page.total).toBe(2);
    expect(page.items.map((c) => c.call_id)).toEqual([call.call_id]);
  });

  it("getCall() returns the call, finished once its time has passed", async () => {
    const { accessToken, call } = await withCall();
    await endSandboxCall(call.call_id);
    const ended = await client().getCall(accessToken, call.call_id);
    expect(ended).toMatchObject({
      call_id: call.call_id,
      status: "success",
      highlights: expect.stringContaining("Reserve a table"),
      duration_seconds: expect.any(Number),
    });
  });

  it("transcript() returns the entries", async () => {
    const { accessToken, call } = await withCall();
    await endSandboxCall(call.call_id);
    const { entries } = await client().transcript(accessToken, call.call_id);
    expect(entries.length).toBeGreaterThan(0);
    expect(entries[0]).toMatchObject({ speaker: expect.stringMatching(/^(AI|HUMAN)$/), content: expect.any(String) });
  });

  it("recording() returns the recording_url", async () => {
    const { accessToken, call } = await withCall();
    await endSandboxCall(call.call_id);
    const { recording_url } = await client().recording(accessToken, call.call_id);
    expect(recording_url).toBe(`${SANDBOX}/v1/calls/${call.call_id}/recording.wav`);
  });

  it("cancelCall() cancels a running call", async () => {
    const { accessToken, call } = await withCall();
    expect((await client().cancelCall(accessToken, call.call_id)).status).toBe("cancelled");
  });

  it("statistics(), subscription() and billingPortal() parse", async () => {
    const { accessToken } = await withCall();
    expect(await client().statistics(accessToken)).toMatchObject({
      plan_type: "sandbox",
      calls_used: 1,
      calls_remaining: 299,
      minutes_allocated: 300,
    });
    expect(await client().subscription(accessToken)).toMatchObject({
      has_active_subscription: true,
      plan: { type: "sandbox" },
      status: "active",
    });
    // KallyAI (and the sandbox) name the link `url`; the client answers it as portal_url.
    expect(await client().billingPortal(accessToken)).toEqual({ portal_url: `${SANDBOX}/billing-portal` });
  });

  it("tolerates a trailing slash on the base URL", async () => {
    const { accessToken } = await sandboxSignIn();
    expect((await client({ baseUrl: `${SANDBOX}/` }).statistics(accessToken)).calls_used).toBe(0);
  });
});

describe("KallyAIClient requests", () => {
  it("sends the bearer token, the Idempotency-Key and a JSON body to POST /v1/calls", async () => {
    const f = fake(() => jsonResponse({ call_id: "c1", status: "queued" }, 201));
    await f.client().placeCall("tok", request("+14155551234"), "key-1");
    const [req] = f.requests;
    expect(req!.method).toBe("POST");
    expect(new URL(req!.url).pathname).toBe("/v1/calls");
    expect(req!.headers.get("authorization")).toBe("Bearer tok");
    expect(req!.headers.get("idempotency-key")).toBe("key-1");
    expect(req!.headers.get("content-type")).toBe("application/json");
    expect(await req!.json()).toEqual(callBody("+14155551234"));
  });

  it("pages GET /v1/calls with limit and offset", async () => {
    const f = fake(() => jsonResponse({ calls: [], total: 0 }));
    await f.client().listCalls("tok", { limit: 5, offset: 10 });
    const url = new URL(f.requests[0]!.url);
    expect(url.pathname).toBe("/v1/calls");
    expect(Object.fromEntries(url.searchParams)).toEqual({ limit: "5", offset: "10" });
  });

  it("asks for at most 200 calls, the reference's limit", async () => {
    const f = fake(() => jsonResponse({ calls: [], total: 0 }));
    await f.client().listCalls("tok", { limit: 500, offset: 0 });
    expect(new URL(f.requests[0]!.url).searchParams.get("limit")).toBe("200");
  });

  it("introduces itself as KallyAI-Bridge/<version> on every request", async () => {
    const f = fake(() => jsonResponse({ calls: [], total: 0 }));
    await f.client().listCalls("tok", { limit: 1, offset: 0 });
    expect(f.requests[0]!.headers.get("user-agent")).toMatch(/^KallyAI-Bridge\/\d+\.\d+\.\d+$/);
  });

  it("refreshes an OAuth client's tokens at /v1/auth/gpt/token with the client's credentials", async () => {
    const f = fake(() => jsonResponse({ access_token: "a2", expires_in: 3600, scope: "calls:read calls:write" }));
    const tokens = await f.client().refreshClient("r1", { client_id: "id", client_secret: "s" });
    const req = f.requests[0]!;
    expect(new URL(req.url).pathname).toBe("/v1/auth/gpt/token");
    expect(Object.fromEntries(await req.formData())).toEqual({
      grant_type: "refresh_token",
      refresh_token: "r1",
      client_id: "id",
      client_secret: "s",
    });
    expect(tokens).toMatchObject({ access_token: "a2" });
    expect(tokens.refresh_token ?? null).toBeNull();
  });

  it("gives placeCall() its own timeout: KallyAI answers when the call has ended", async () => {
    const f = fake(
      () =>
        new Promise<Response>((resolve) =>
          setTimeout(() => resolve(jsonResponse({ call_id: "c1", status: "success" }, 201)), 800),
        ),
    );
    expect(
      (await f.client({ timeoutMs: 200 }).placeCall("tok", request("+14155551234"), "k", { timeoutMs: 3000 })).status,
    ).toBe("success");
  });

  it("reads calendar.ics as text", async () => {
    const f = fake(
      () => new Response("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", { headers: { "content-type": "text/calendar" } }),
    );
    const ics = await f.client().calendar("tok", "c1");
    expect(ics).toEqual({ text: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", contentType: "text/calendar" });
    expect(new URL(f.requests[0]!.url).pathname).toBe("/v1/calls/c1/calendar.ics");
    expect(f.requests[0]!.headers.get("accept")).toBe("text/calendar");
  });

  it("refuses a call id that is not a plain token before any request is sent", async () => {
    const f = fake(() => jsonResponse({ call_id: "a/b", status: "queued" }));
    for (const id of ["a/b?x", "x\u0000y", "x\ny", "..", "é"]) {
      await expect((async () => f.client().getCall("tok", id))()).rejects.toMatchObject({
        status: 422,
        code: "validation_error",
      });
      await expect((async () => f.client().cancelCall("tok", id))()).rejects.toMatchObject({
        status: 422,
        code: "validation_error",
      });
    }
    expect(f.requests).toHaveLength(0);
  });

  it("sends the code exchange as a form", async () => {
    const f = fake(() => jsonResponse({ access_token: "a", refresh_token: "r", expires_in: 60 }));
    await f
      .client()
      .exchangeCode({ code: "c", redirect_uri: "https://x.example/cb", client_id: "id", client_secret: "s" });
    const req = f.requests[0]!;
    expect(req.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    expect(Object.fromEntries(await req.formData())).toEqual({
      grant_type: "authorization_code",
      code: "c",
      redirect_uri: "https://x.example/cb",
      client_id: "id",
      client_secret: "s",
    });
  });
});

describe("KallyAIClient parses leniently", () => {
  const call = {
    call_id: "c1",
    status: "success",
    highlights: "Booked.",
    next_steps: null,
    duration_seconds: 90,
    metadata: { created_at: "2026-01-01T00:00:00Z", ended_at: null },
  };

  it("accepts the billing portal as {url} (the reference) or {portal_url}", async () => {
    for (const body of [{ url: "https://billing.example/p/1" }, { portal_url: "https://billing.example/p/1" }]) {
      const f = fake(() => jsonResponse(body));
      expect(await f.client().billingPortal("tok")).toEqual({ portal_url: "https://billing.example/p/1" });
    }
  });

  it("accepts the list as {items, total}", async () => {
    const f = fake(() => jsonResponse({ items: [call], total: 7 }));
    expect(await f.client().listCalls("tok", { limit: 1, offset: 0 })).toMatchObject({
      items: [{ call_id: "c1" }],
      total: 7,
    });
  });

  it("accepts the reference's {calls} list, counting the total itself when missing", async () => {
    const f = fake(() => jsonResponse({ calls: [call, { ...call, call_id: "c2" }] }));
    const list = await f.client().listCalls("tok", { limit: 10, offset: 0 });
    expect(list.items.map((c) => c.call_id)).toEqual(["c1", "c2"]);
    expect(list.total).toBe(2);
  });

  it("tolerates unknown fields and keeps them", async () => {
    const f = fake(() =>
      jsonResponse({
        ...call,
        sentiment: "positive",
        metadata: { ...call.metadata, agent: "v2" },
        cost: { cents: 12 },
      }),
    );
    const got = await f.client().getCall("tok", "c1");
    expect(got).toMatchObject({
      call_id: "c1",
      status: "success",
      highlights: "Booked.",
      sentiment: "positive",
      cost: { cents: 12 },
    });
  });

  it("tolerates unknown fields in lists, statistics and subscriptions", async () => {
    const f = fake((req) => {
      const path = new URL(req.url).pathname;
      if (path === "/v1/calls") return jsonResponse({ items: [{ ...call, extra: 1 }], total: 1, next_cursor: "abc" });
      if (path === "/v1/users/me/statistics")
        return jsonResponse({ plan_type: "pro", minutes_used: 3, bonus_minutes: 10 });
      return jsonResponse({ has_active_subscription: false, plan: null, coupon: "X" });
    });
    expect((await f.client().listCalls("t", { limit: 1, offset: 0 })).items[0]).toMatchObject({ call_id: "c1" });
    expect(await f.client().statistics("t")).toMatchObject({ plan_type: "pro", minutes_used: 3 });
    expect(await f.client().subscription("t")).toMatchObject({ has_active_subscription: false, plan: null });
  });

  it("accepts any status word for a call in progress", async () => {
    const f = fake(() => jsonResponse({ call_id: "c1", status: "ringing" }));
    expect((await f.client().getCall("tok", "c1")).status).toBe("ringing");
  });

  it.each([
    ["a bare string", "https://media.example/r.wav"],
    ["{recording_url}", { recording_url: "https://media.example/r.wav" }],
    ["{url}", { url: "https://media.example/r.wav" }],
  ])("accepts the recording as %s", async (_, body) => {
    const f = fake(() => jsonResponse(body));
    expect(await f.client().recording("tok", "c1")).toEqual({ recording_url: "https://media.example/r.wav" });
  });

  it("a call without call_id is an invalid response (502 upstream_invalid_response)", async () => {
    const f = fake(() => jsonResponse({ status: "queued" }));
    expect(await failure(f.client().getCall("tok", "c1"))).toMatchObject({
      status: 502,
      code: "upstream_invalid_response",
    });
  });

  it("the call schema itself accepts the sandbox's call object", () => {
    expect(
      UpstreamCall.safeParse({
        ...call,
        submission: { task_category: "general" },
        to: "+1",
        business_name: null,
        result_summary: null,
      }).success,
    ).toBe(true);
  });
});

describe("KallyAIClient maps each upstream fault to the bridge's error", () => {
  it("500 → 502 upstream_unavailable", async () => {
    const { accessToken } = await sandboxSignIn();
    const err = await failure(client().placeCall(accessToken, request(sandboxPhone("fault:500")), crypto.randomUUID()));
    expect(err).toMatchObject({ status: 502, code: "upstream_unavailable" });
    expect(err.message).toMatch(/KallyAI/);
  });

  it("429 → 503 upstream_unavailable, with retryAfter from Retry-After", async () => {
    const { accessToken } = await sandboxSignIn();
    const err = await failure(client().placeCall(accessToken, request(sandboxPhone("fault:429")), crypto.randomUUID()));
    expect(err).toMatchObject({ status: 503, code: "upstream_unavailable", extra: { retryAfter: 7 } });
  });

  it("429 without Retry-After still tells the caller when to come back", async () => {
    const f = fake(() => jsonResponse({ error: { code: "rate_limited" } }, 429));
    const err = await failure(f.client({ maxAttempts: 1 }).statistics("tok"));
    expect(err).toMatchObject({ status: 503, code: "upstream_unavailable" });
    expect(err.extra.retryAfter).toBeGreaterThan(0);
  });

  it("a hang → 504 upstream_unavailable (timeout)", async () => {
    const { accessToken } = await sandboxSignIn();
    const err = await failure(
      client().placeCall(accessToken, request(sandboxPhone("fault:hang")), crypto.randomUUID()),
    );
    expect(err).toMatchObject({ status: 504, code: "upstream_unavailable" });
    expect(err.message).toMatch(/in time/);
  });

  it("a hang on a GET → 504, and is not retried", async () => {
    const { accessToken } = await sandboxSignIn();
    const attempts = await attemptsOf("GET", "/v1/users/me/statistics", async () => {
      expect(await failure(faultyClient("hang").statistics(accessToken))).toMatchObject({
        status: 504,
        code: "upstream_unavailable",
      });
    });
    expect(attempts).toBe(1);
  });

  it("malformed JSON → 502 upstream_invalid_response", async () => {
    const { accessToken } = await sandboxSignIn();
    const err = await failure(
      client().placeCall(accessToken, request(sandboxPhone("fault:malformed")), crypto.randomUUID()),
    );
    expect(err).toMatchObject({ status: 502, code: "upstream_invalid_response" });
  });

  it.each([
    ["500", 502, "upstream_unavailable"],
    ["429", 503, "upstream_unavailable"],
    ["malformed", 502, "upstream_invalid_response"],
    ["hang", 504, "upstream_unavailable"],
  ])("X-Sandbox-Fault: %s on GET → %i %s", async (fault, status, code) => {
    const { accessToken } = await sandboxSignIn();
    expect(
      await failure(faultyClient(fault, { maxAttempts: 1 }).listCalls(accessToken, { limit: 5, offset: 0 })),
    ).toMatchObject({ status, code });
  });

  it("a network failure → 502 upstream_unavailable", async () => {
    const f = fake(() => {
      throw new TypeError("connection reset");
    });
    expect(await failure(f.client({ maxAttempts: 1 }).statistics("tok"))).toMatchObject({
      status: 502,
      code: "upstream_unavailable",
    });
  });

  it("a 200 with an empty body → 502 upstream_invalid_response", async () => {
    const f = fake(() => new Response("", { status: 200 }));
    expect(await failure(f.client().statistics("tok"))).toMatchObject({
      status: 502,
      code: "upstream_invalid_response",
    });
  });
});

describe("KallyAIClient passes upstream refusals through", () => {
  it("quota_exceeded → 402 quota_exceeded, pointing at the upgrade URL KallyAI gives (the sandbox's free top-up)", async () => {
    const { accessToken } = await sandboxSignIn(`q-${crypto.randomUUID()}+calls0@example.com`);
    const err = await failure(client().placeCall(accessToken, request("+14155551234"), crypto.randomUUID()));
    expect(err).toMatchObject({ status: 402, code: "quota_exceeded" });
    expect(err.message).toContain("/sandbox/top-up");
  });

  it("emergency_number → 422 emergency_number", async () => {
    const { accessToken } = await sandboxSignIn();
    const err = await failure(client().placeCall(accessToken, request("911"), crypto.randomUUID()));
    expect(err).toMatchObject({ status: 422, code: "emergency_number" });
    expect(err.message).toMatch(/never called/);
  });

  it("country_restriction → 403 country_restriction, naming the supported countries", async () => {
    const { accessToken } = await sandboxSignIn();
    const err = await failure(client().placeCall(accessToken, request("+8613800138000"), crypto.randomUUID()));
    expect(err).toMatchObject({ status: 403, code: "country_restriction" });
    expect(err.message).toMatch(/US/);
  });

  it("call_not_found → 404 call_not_found", async () => {
    const { accessToken } = await sandboxSignIn();
    const err = await failure(client().getCall(accessToken, crypto.randomUUID()));
    expect(err).toMatchObject({ status: 404, code: "call_not_found" });
    expect(err.message).toMatch(/List your calls/);
  });

  it.each([
    ["+19005551234", {}, 422, "toll_number"],
    [sandboxPhone("blocked"), {}, 403, "blocked_number"],
    ["+14155551234", { task_description: "Threaten them until they refund me" }, 422, "safety_violation"],
    ["+14155551234", { language: "fr" }, 422, "unsupported_language"],
    ["+1 415 555 1234", {}, 422, "missing_phone_number"],
    ["+14155551234", { party_size: 0 }, 422, "validation_error"],
  ])("%s %j → %i %s", async (phone, overrides, status, code) => {
    const { accessToken } = await sandboxSignIn();
    const err = await failure(client().placeCall(accessToken, request(phone, overrides), crypto.randomUUID()));
    expect(err).toMatchObject({ status, code });
    expect(err.message.length).toBeGreaterThan(20);
  });

  it.each([
    ["unsupported_country", 403],
    ["country_restriction", 403],
    ["quota_exceeded", 402],
    ["recording_not_found", 404],
  ])("%s from any upstream keeps its code with status %i", async (code, status) => {
    const f = fake(() => jsonResponse({ error: { code, message: "upstream says no" } }, status === 402 ? 402 : 400));
    expect(await failure(f.client().getCall("tok", "c1"))).toMatchObject({ status, code });
  });

  it("the reference's bare 402 → 402 quota_exceeded with its upgrade_url", async () => {
    const f = fake(() =>
      jsonResponse(
        { plan_type: "trial", minutes_allocated: 30, minutes_used: 30, upgrade_url: "https://kallyai.com/pricing" },
        402,
      ),
    );
    const err = await failure(f.client().placeCall("tok", request("+14155551234"), "k"));
    expect(err).toMatchObject({
      status: 402,
      code: "quota_exceeded",
      extra: { upgradeUrl: "https://kallyai.com/pricing" },
    });
    expect(err.message).toContain("https://kallyai.com/pricing");
  });

  it.each([
    ["blocked_number", 403],
    ["suppression_violation", 403],
    ["scheduling_violation", 422],
    ["consent_denied", 422],
  ])("%s → %i, the reference's status, with advice", async (code, status) => {
    const f = fake(() => jsonResponse({ error: { code, details: { message: "no" } } }, status));
    const err = await failure(f.client().placeCall("tok", request("+14155551234"), "k"));
    expect(err).toMatchObject({ status, code });
    expect(err.message).not.toBe("no");
  });

  it("quota_exceeded names the upgrade_url KallyAI sent", async () => {
    const f = fake(() =>
      jsonResponse(
        { error: { code: "quota_exceeded", message: "No minutes", upgrade_url: "https://kallyai.example/upgrade" } },
        402,
      ),
    );
    expect((await failure(f.client().placeCall("tok", request("+14155551234"), "k"))).message).toContain(
      "https://kallyai.example/upgrade",
    );
  });

  it("forbidden → 403 forbidden", async () => {
    const { call } = await withCall();
    const other = await sandboxSignIn();
    expect(await failure(client().getCall(other.accessToken, call.call_id))).toMatchObject({
      status: 403,
      code: "forbidden",
    });
  });

  it("call_already_ended → 409 call_already_ended", async () => {
    const { accessToken, call } = await withCall();
    await endSandboxCall(call.call_id);
    expect(await failure(client().cancelCall(accessToken, call.call_id))).toMatchObject({
      status: 409,
      code: "call_already_ended",
    });
  });

  it("transcript_not_found and recording_not_found → 404 with their codes", async () => {
    const { accessToken, call } = await withCall();
    expect(await failure(client().transcript(accessToken, call.call_id))).toMatchObject({
      status: 404,
      code: "transcript_not_found",
    });
    expect(await failure(client().recording(accessToken, call.call_id))).toMatchObject({
      status: 404,
      code: "recording_not_found",
    });
  });

  it("idempotency_conflict → 422 idempotency_conflict", async () => {
    const { accessToken } = await sandboxSignIn();
    const key = crypto.randomUUID();
    await client().placeCall(accessToken, request("+14155551234"), key);
    expect(
      await failure(client().placeCall(accessToken, request("+14155551234", { party_size: 2 }), key)),
    ).toMatchObject({
      status: 422,
      code: "idempotency_conflict",
    });
  });

  it("an expired access token (401) → 401 upstream_unauthorized", async () => {
    const { accessToken } = await sandboxSignIn();
    await expireSandboxAccessTokens();
    expect(await failure(client().statistics(accessToken))).toMatchObject({
      status: 401,
      code: "upstream_unauthorized",
    });
  });

  it("an unknown access token (401) → 401 upstream_unauthorized", async () => {
    expect(await failure(client().listCalls("sbx_at_nope", { limit: 1, offset: 0 }))).toMatchObject({
      status: 401,
      code: "upstream_unauthorized",
    });
  });

  it("reads the message from error.details.message, and keeps an unknown code", async () => {
    const f = fake(() =>
      jsonResponse(
        { error: { code: "slot_unavailable", details: { message: "No tables left at 8pm" }, correlation_id: "abc" } },
        409,
      ),
    );
    const err = await failure(f.client().getCall("tok", "c1"));
    expect(err).toMatchObject({ code: "slot_unavailable" });
    expect(err.message).toContain("No tables left at 8pm");
  });

  it("a 4xx without an error body is upstream_rejected", async () => {
    const f = fake(() => new Response("nope", { status: 400 }));
    expect(await failure(f.client().statistics("tok"))).toMatchObject({ status: 422, code: "upstream_rejected" });
  });
});

describe("KallyAIClient retries only what is safe to repeat", () => {
  it("retries a GET on 500 (3 attempts by default), then gives up with 502", async () => {
    const { accessToken } = await sandboxSignIn();
    const attempts = await attemptsOf("GET", "/v1/users/me/statistics", async () => {
      expect(await failure(faultyClient("500").statistics(accessToken))).toMatchObject({
        status: 502,
        code: "upstream_unavailable",
      });
    });
    expect(attempts).toBe(3);
  });

  it("honours maxAttempts", async () => {
    const { accessToken } = await sandboxSignIn();
    const attempts = await attemptsOf("GET", "/v1/users/me/subscription", () =>
      failure(faultyClient("500", { maxAttempts: 2 }).subscription(accessToken)),
    );
    expect(attempts).toBe(2);
  });

  it("a GET that fails once and then answers succeeds", async () => {
    const f = fake((_, attempt) =>
      attempt === 1
        ? jsonResponse({ error: { code: "internal_error" } }, 503)
        : jsonResponse({ portal_url: "https://billing.example/p" }),
    );
    expect(await f.client().billingPortal("tok")).toEqual({ portal_url: "https://billing.example/p" });
    expect(f.requests).toHaveLength(2);
  });

  it("retries a GET after a network failure", async () => {
    const f = fake((_, attempt) => {
      if (attempt < 3) throw new TypeError("connection reset");
      return jsonResponse({ items: [], total: 0 });
    });
    expect(await f.client().listCalls("tok", { limit: 1, offset: 0 })).toEqual({ items: [], total: 0 });
    expect(f.requests).toHaveLength(3);
  });

  it("does not retry a POST without an idempotency key", async () => {
    const { accessToken } = await sandboxSignIn();
    const attempts = await attemptsOf("POST", "/v1/calls", async () => {
      const err = await failure(
        client().send(
          { method: "POST", path: "/v1/calls", token: accessToken, json: callBody(sandboxPhone("fault:500")) },
          UpstreamCall,
        ),
      );
      expect(err).toMatchObject({ status: 502, code: "upstream_unavailable" });
    });
    expect(attempts).toBe(1);
  });

  it("does not retry refresh() (a POST without a key) on 500", async () => {
    const { refreshToken } = await sandboxSignIn();
    const attempts = await attemptsOf("POST", "/v1/auth/refresh", () =>
      failure(faultyClient("500").refresh(refreshToken)),
    );
    expect(attempts).toBe(1);
  });

  it("retries a POST with an idempotency key", async () => {
    const { accessToken } = await sandboxSignIn();
    const attempts = await attemptsOf("POST", "/v1/calls", async () => {
      const err = await failure(
        client().placeCall(accessToken, request(sandboxPhone("fault:500")), crypto.randomUUID()),
      );
      expect(err).toMatchObject({ status: 502 });
    });
    expect(attempts).toBe(3);
  });

  it("a retried POST with a key places the call once", async () => {
    const f = fake((req, attempt) =>
      attempt === 1
        ? jsonResponse({ error: { code: "internal_error" } }, 500)
        : jsonResponse({ call_id: "c1", status: "queued", key: req.headers.get("idempotency-key") }, 201),
    );
    const call = await f.client().placeCall("tok", request("+14155551234"), "k-7");
    expect(call).toMatchObject({ call_id: "c1", key: "k-7" });
    expect(f.requests.map((r) => r.headers.get("idempotency-key"))).toEqual(["k-7", "k-7"]);
  });

  it("does not retry a 4xx", async () => {
    const { accessToken } = await sandboxSignIn();
    const id = crypto.randomUUID();
    const attempts = await attemptsOf("GET", `/v1/calls/${id}`, () => failure(client().getCall(accessToken, id)));
    expect(attempts).toBe(1);
  });

  it("does not retry malformed JSON", async () => {
    const { accessToken } = await sandboxSignIn();
    const attempts = await attemptsOf("GET", "/v1/calls", () =>
      failure(faultyClient("malformed").listCalls(accessToken, { limit: 1, offset: 0 })),
    );
    expect(attempts).toBe(1);
  });

  it("does not wait for a Retry-After longer than maxRetryWaitMs: one attempt, retryAfter handed back", async () => {
    const { accessToken } = await sandboxSignIn();
    const attempts = await attemptsOf("GET", "/v1/users/me/statistics", async () => {
      const err = await failure(faultyClient("429").statistics(accessToken));
      expect(err).toMatchObject({ status: 503, code: "upstream_unavailable", extra: { retryAfter: 7 } });
    });
    expect(attempts).toBe(1);
  });

  it("waits for a Retry-After within maxRetryWaitMs, then retries", async () => {
    const f = fake((_, attempt) =>
      attempt === 1
        ? jsonResponse({ error: { code: "rate_limited" } }, 429, { "retry-after": "0" })
        : jsonResponse({ plan_type: "pro" }),
    );
    expect(await f.client().statistics("tok")).toMatchObject({ plan_type: "pro" });
    expect(f.requests).toHaveLength(2);
  });

  it("a Retry-After beyond a lowered maxRetryWaitMs is handed back at once", async () => {
    const f = fake(() => jsonResponse({ error: { code: "rate_limited" } }, 429, { "retry-after": "1" }));
    const err = await failure(f.client({ maxRetryWaitMs: 500 }).statistics("tok"));
    expect(err).toMatchObject({ status: 503, extra: { retryAfter: 1 } });
    expect(f.requests).toHaveLength(1);
  });

  it("options passed as undefined keep their defaults (3 attempts, the global fetch)", async () => {
    const f = fake(() => jsonResponse({ error: { code: "internal_error" } }, 500));
    const err = await failure(
      f.client({ maxAttempts: undefined, maxRetryWaitMs: undefined, fetch: undefined }).statistics("tok"),
    );
    expect(err).toMatchObject({ status: 502, code: "upstream_unavailable" });
    expect(f.requests).toHaveLength(3);
  });

  it("a timeout is not retried", async () => {
    const f = fake(() => new Promise<Response>(() => {}));
    expect(await failure(f.client({ timeoutMs: 100 }).statistics("tok"))).toMatchObject({
      status: 504,
      code: "upstream_unavailable",
    });
    expect(f.requests).toHaveLength(1);
  });
});

describe("KallyAIClient.url", () => {
  it("joins the base URL, the path and the query", () => {
    expect(client().url("/v1/calls", { limit: "2" })).toBe(`${SANDBOX}/v1/calls?limit=2`);
    expect(client({ baseUrl: `${SANDBOX}//` }).url("/v1/calls")).toBe(`${SANDBOX}/v1/calls`);
  });
});
