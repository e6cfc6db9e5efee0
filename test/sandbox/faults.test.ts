import { describe, expect, it } from "vitest";
import { bridge, errorOf } from "../support/bridge";
import { auth, sandboxRequestCount, sandboxSignIn } from "../support/sandbox";
import { createdCall, placeSandboxCall, sandboxGet, sandboxWithVars, settledWithin } from "../support/sandbox-extra";
import { sandboxPhone } from "../support/sandbox-phones";

// SANDBOX_HANG_SECONDS is 5 in tests: a hanging request is still unanswered well after this.
const HANG_PROBE_MS = 400;

const total = async (token: string) =>
  ((await (await sandboxGet("/v1/calls", token)).json()) as { total: number }).total;

describe("fault injection by the number's last four digits (POST /sandbox/v1/calls)", () => {
  it("…0500 answers 500 with an error body, and places no call", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await placeSandboxCall(accessToken, sandboxPhone("fault:500"));
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({
      code: "internal_error",
      details: { message: expect.any(String) },
      correlation_id: expect.any(String),
    });
    expect(await total(accessToken)).toBe(0);
  });

  it("…0429 answers 429 with Retry-After, and places no call", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await placeSandboxCall(accessToken, sandboxPhone("fault:429"));
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await errorOf(res)).toMatchObject({ code: "rate_limited" });
    expect(await total(accessToken)).toBe(0);
  });

  it("…0408 hangs (no answer for SANDBOX_HANG_SECONDS)", async () => {
    const { accessToken } = await sandboxSignIn();
    const pending = placeSandboxCall(accessToken, sandboxPhone("fault:hang"));
    expect(await settledWithin(pending, HANG_PROBE_MS)).toBe("pending");
  });

  it("…0408 answers 500 once SANDBOX_HANG_SECONDS have passed", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await sandboxWithVars({ SANDBOX_HANG_SECONDS: "0.2" }, "/v1/calls", {
      method: "POST",
      headers: { ...auth(accessToken), "content-type": "application/json" },
      body: JSON.stringify({
        submission: {
          task_category: "general",
          task_description: "Ask about opening hours",
          respondent_phone: sandboxPhone("fault:hang"),
        },
        timezone: "UTC",
      }),
    });
    expect(res.status).toBe(500);
    expect(await errorOf(res)).toMatchObject({ code: "internal_error" });
    expect(await total(accessToken)).toBe(0);
  });

  it("…0206 answers 200 with a JSON content type and a body that is not JSON", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await placeSandboxCall(accessToken, sandboxPhone("fault:malformed"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow();
  });

  it("a refused number is refused before any fault (…0500 in an unsupported country is still 403)", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await placeSandboxCall(accessToken, "+8613800130500");
    expect(res.status).toBe(403);
  });
});

describe("fault injection by the X-Sandbox-Fault header, on any request", () => {
  const withFault = async (fault: string, path = "/v1/users/me/statistics") => {
    const { accessToken } = await sandboxSignIn();
    return bridge(`/sandbox${path}`, { headers: { ...auth(accessToken), "x-sandbox-fault": fault } });
  };

  it.each([["/v1/users/me/statistics"], ["/v1/calls"], ["/v1/stripe/billing-portal"]])(
    "500 answers 500 on GET %s",
    async (path) => {
      const res = await withFault("500", path);
      expect(res.status).toBe(500);
      expect(await errorOf(res)).toMatchObject({ code: "internal_error" });
    },
  );

  it("500 answers 500 even without a token, and on the auth endpoints", async () => {
    const noToken = await bridge("/sandbox/v1/calls", { headers: { "x-sandbox-fault": "500" } });
    expect(noToken.status).toBe(500);
    const refresh = await bridge("/sandbox/v1/auth/refresh", {
      method: "POST",
      headers: { "x-sandbox-fault": "500", "content-type": "application/json" },
      body: "{}",
    });
    expect(refresh.status).toBe(500);
  });

  it("429 answers 429 with Retry-After", async () => {
    const res = await withFault("429");
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("malformed answers 200 with a body that is not JSON", async () => {
    const res = await withFault("malformed", "/v1/calls");
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.length).toBeGreaterThan(0);
    expect(() => JSON.parse(text)).toThrow();
  });

  it("hang leaves the request unanswered", async () => {
    const { accessToken } = await sandboxSignIn();
    const pending = bridge("/sandbox/v1/users/me/statistics", {
      headers: { ...auth(accessToken), "x-sandbox-fault": "hang" },
    });
    expect(await settledWithin(pending, HANG_PROBE_MS)).toBe("pending");
  });

  it("a fault on POST /v1/calls places no call", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await placeSandboxCall(accessToken, "+14155551234", {}, { "x-sandbox-fault": "500" });
    expect(res.status).toBe(500);
    expect(await total(accessToken)).toBe(0);
  });

  it("an unknown fault name is ignored", async () => {
    const res = await withFault("teapot");
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty("calls_used");
  });

  it("a faulted request is still logged", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken);
    const res = await bridge(`/sandbox/v1/calls/${call.call_id}`, {
      headers: { ...auth(accessToken), "x-sandbox-fault": "500" },
    });
    expect(res.status).toBe(500);
    expect(await sandboxRequestCount("GET", `/v1/calls/${call.call_id}`)).toBe(1);
  });
});
