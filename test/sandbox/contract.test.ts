import { describe, expect, it } from "vitest";
import { readUpstreamError } from "../../src/kallyai/errors";
import {
  QuotaExceededBody,
  TokenSet,
  UpstreamBillingPortal,
  UpstreamCall,
  UpstreamCallList,
  UpstreamStatistics,
  UpstreamSubscription,
  UpstreamTranscript,
} from "../../src/kallyai/schemas";
import { FIXTURES, type Fixture, type Kind } from "../fixtures/kallyai";
import { bridge, json } from "../support/bridge";
import { auth, callBody, endSandboxCall, sandboxSignIn } from "../support/sandbox";
import {
  authorizationCode,
  createdCall,
  freshEmail,
  SANDBOX_OAUTH_CLIENT,
  sandboxGet,
  sandboxWithVars,
  tokenRequest,
} from "../support/sandbox-extra";

/**
 * The sandbox's answers against KallyAI's published examples (test/fixtures/kallyai.ts): each parses
 * with the schema the bridge's client reads that answer with, and carries every field the reference's
 * own example has, so the sandbox cannot drift from the reference while the client still passes.
 */
const referenceExample = (kind: Kind, name?: string): Fixture => {
  const found = FIXTURES.find((f) => f.source === "reference" && f.kind === kind && (!name || f.name === name));
  if (!found) throw new Error(`no reference fixture of kind ${kind}`);
  return found;
};

/** The reference example's keys, recursively for objects (lists are compared by their first item). */
function keysOf(value: unknown, prefix = ""): string[] {
  if (Array.isArray(value)) return value.length ? keysOf(value[0], `${prefix}[]`) : [];
  if (!value || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => [`${prefix}${k}`, ...keysOf(v, `${prefix}${k}.`)]);
}

/** Every field of the reference's example is in the sandbox's answer too (the sandbox may say more), but `optional`. */
function expectFieldsOf(example: Fixture, answer: unknown, optional: string[] = []) {
  const missing = keysOf(example.body).filter((k) => !keysOf(answer).includes(k) && !optional.includes(k));
  expect(missing, `fields of "${example.name}" the sandbox left out`).toEqual([]);
}

async function endedCall(token: string, overrides: Record<string, unknown> = {}) {
  const call = await createdCall(token, "+14155551234", overrides);
  await endSandboxCall(call.call_id);
  return call.call_id;
}

describe("the sandbox's answers, read with the client's schemas", () => {
  it("POST /v1/calls (synchronous, as documented): 201 with the finished CallResponse", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await sandboxWithVars({ SANDBOX_PLACEMENT: "sync", SANDBOX_CALL_SECONDS: "0.3" }, "/v1/calls", {
      method: "POST",
      headers: { ...auth(accessToken), "content-type": "application/json" },
      body: JSON.stringify(callBody("+14155551234")),
    });
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(UpstreamCall.parse(body).status).toBe("success");
    expectFieldsOf(referenceExample("call", "POST /v1/calls → 201 CallResponse"), body);
  });

  it("GET /v1/calls/{id} and GET /v1/calls", async () => {
    const { accessToken } = await sandboxSignIn();
    const id = await endedCall(accessToken);
    const one = await (await sandboxGet(`/v1/calls/${id}`, accessToken)).json();
    expect(UpstreamCall.parse(one).call_id).toBe(id);
    expectFieldsOf(referenceExample("call", "GET /v1/calls/{call_id}"), one);
    const list = await (await sandboxGet("/v1/calls", accessToken)).json();
    expect(UpstreamCallList.parse(list).items.map((c) => c.call_id)).toEqual([id]);
    expectFieldsOf(referenceExample("call_list"), list);
  });

  it("GET /v1/calls/{id}/transcript (the reference's shape, for a number without a variant)", async () => {
    const { accessToken } = await sandboxSignIn();
    const id = await endedCall(accessToken);
    const body = await (await sandboxGet(`/v1/calls/${id}/transcript`, accessToken)).json();
    expect(UpstreamTranscript.parse(body).entries.length).toBeGreaterThan(0);
    expectFieldsOf(referenceExample("transcript"), body);
  });

  it("subscription, statistics and the billing portal", async () => {
    const { accessToken } = await sandboxSignIn();
    const subscription = await (await sandboxGet("/v1/users/me/subscription", accessToken)).json();
    expect(UpstreamSubscription.safeParse(subscription).success).toBe(true);
    expectFieldsOf(referenceExample("subscription"), subscription);
    const statistics = await (await sandboxGet("/v1/users/me/statistics", accessToken)).json();
    expect(UpstreamStatistics.safeParse(statistics).success).toBe(true);
    expectFieldsOf(referenceExample("statistics"), statistics);
    const billing = await (await sandboxGet("/v1/stripe/billing-portal", accessToken)).json();
    expect(UpstreamBillingPortal.parse(billing)).toBeTruthy();
    expectFieldsOf(referenceExample("billing"), billing);
  });

  it("the OAuth code exchange's token answer, and a CLI refresh's", async () => {
    const { code } = await authorizationCode();
    const exchanged = await tokenRequest({
      grant_type: "authorization_code",
      code,
      redirect_uri: "https://app.example/oauth/callback",
      client_id: SANDBOX_OAUTH_CLIENT.id,
      client_secret: SANDBOX_OAUTH_CLIENT.secret,
    });
    expect(exchanged.status).toBe(200);
    const body = await exchanged.json();
    expect(TokenSet.parse(body).refresh_token).toBeTruthy();
    expectFieldsOf(referenceExample("token", "token answer of the OAuth code exchange"), body);

    // The reference shows no refresh answer; KallyAI's CLI reads access_token, refresh_token (if any), expires_in.
    const { refreshToken } = await sandboxSignIn();
    const refreshed = await (await json("/sandbox/v1/auth/refresh", { refresh_token: refreshToken })).json();
    expect(TokenSet.parse(refreshed)).toMatchObject({ access_token: expect.any(String), expires_in: 3600 });
  });

  it("the bare 402 and the standard error format", async () => {
    const { accessToken } = await sandboxSignIn(freshEmail("broke").replace("@", "+calls0@"));
    const quota = await json("/sandbox/v1/calls", callBody("+14155551234"), { headers: auth(accessToken) });
    expect(quota.status).toBe(402);
    const quotaBody = await quota.json();
    expect(QuotaExceededBody.parse(quotaBody)).toBeTruthy();
    expectFieldsOf(referenceExample("quota"), quotaBody);
    expect(readUpstreamError(quotaBody, 402)).toMatchObject({ code: "quota_exceeded" });

    const missing = await bridge(`/sandbox/v1/calls/${crypto.randomUUID()}`, { headers: auth(accessToken) });
    expect(missing.status).toBe(404);
    const errorBody = await missing.json();
    // `details.reason` is "additional context", which a plain not-found has none of.
    expectFieldsOf(referenceExample("error", "the standard error format"), errorBody, ["error.details.reason"]);
    expect(readUpstreamError(errorBody, 404)).toMatchObject({ code: "call_not_found", message: expect.any(String) });
  });
});
