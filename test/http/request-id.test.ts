import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { linkedUser, withKey } from "../support/accounts";
import { bridge, json } from "../support/bridge";

const expectRequestId = (res: Response, what: string) =>
  expect(res.headers.get("x-request-id"), what).toMatch(/^[\w=-]{8,}$/);

describe("X-Request-Id", () => {
  it("is on every error answer: 401, 404, 405, 413, 415, 422", async () => {
    const user = await linkedUser();
    const answers: Array<[string, number, Response]> = [
      ["401", 401, await bridge("/v1/me")],
      ["404", 404, await bridge("/nope")],
      ["405", 405, await bridge("/health", { method: "DELETE" })],
      ["413", 413, await json("/v1/link", { refresh_token: "x".repeat(20_000) })],
      [
        "415",
        415,
        await bridge("/v1/link", { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" }),
      ],
      ["422", 422, await json("/v1/keys", {}, withKey(user.apiKey))],
    ];
    for (const [what, status, res] of answers) {
      expect(res.status, what).toBe(status);
      expectRequestId(res, what);
    }
  });

  it("is on a 429", async () => {
    const ip = crypto.randomUUID();
    let res: Response | undefined;
    for (let i = 0; i < 11; i++)
      res = await json("/v1/link", { refresh_token: "not-a-token" }, { headers: { "cf-connecting-ip": ip } });
    expect(res!.status).toBe(429);
    expectRequestId(res!, "429");
  });

  it("is on a 500, and the log line names it", async () => {
    const app = createApp();
    app.get("/v1/boom", () => {
      throw new Error("secret detail");
    });
    const res = await app.request("http://bridge.test/v1/boom", {}, env);
    expect(res.status).toBe(500);
    expectRequestId(res, "500");
    expect(await res.text()).not.toContain("secret detail");
  });

  it("is on the sandbox's answers", async () => {
    expectRequestId(await bridge("/sandbox/v1/nope"), "sandbox 404");
    expectRequestId(await bridge("/sandbox/v1/users/me/statistics"), "sandbox 401");
  });

  it("keeps a plain id the caller sent, and replaces one that is not plain", async () => {
    expect((await bridge("/health", { headers: { "x-request-id": "zap-123" } })).headers.get("x-request-id")).toBe(
      "zap-123",
    );
    expect((await bridge("/nope", { headers: { "x-request-id": "a b<c>" } })).headers.get("x-request-id")).not.toBe(
      "a b<c>",
    );
  });
});
