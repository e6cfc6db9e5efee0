import { describe, expect, it } from "vitest";
import { linkedUser, withKey } from "../support/accounts";
import { bridge, errorOf } from "../support/bridge";
import { placed } from "../support/calls";

describe("GET /v1/usage", () => {
  it("answers minutes and calls, which go down as calls are placed", async () => {
    const user = await linkedUser();
    const before = (await (await bridge("/v1/usage", withKey(user.apiKey))).json()) as Record<string, number>;
    expect(before).toMatchObject({
      plan_type: "sandbox",
      calls_used: 0,
      minutes_allocated: expect.any(Number),
      minutes_remaining: expect.any(Number),
      calls_remaining: expect.any(Number),
    });
    await placed(user.apiKey);
    const after = (await (await bridge("/v1/usage", withKey(user.apiKey))).json()) as Record<string, number>;
    expect(after.calls_used).toBe(1);
    expect(after.calls_remaining).toBe(before.calls_remaining! - 1);
  });

  it("?format=text answers a sentence", async () => {
    const user = await linkedUser();
    const text = await (await bridge("/v1/usage?format=text", withKey(user.apiKey))).text();
    expect(text).toMatch(/^You have 300 minutes and 300 calls left this period \(0 of 300 minutes used\)\.$/);
  });

  it("needs the account:read scope", async () => {
    const user = await linkedUser();
    const narrow = (await (
      await bridge("/v1/keys", {
        method: "POST",
        ...withKey(user.apiKey, { "content-type": "application/json" }),
        body: JSON.stringify({ name: "c", scopes: ["calls:read"] }),
      })
    ).json()) as { api_key: string };
    for (const path of ["/v1/usage", "/v1/subscription", "/v1/billing"])
      expect((await errorOf(await bridge(path, withKey(narrow.api_key)))).code, path).toBe("insufficient_scope");
  });
});

describe("GET /v1/subscription", () => {
  it("answers the plan", async () => {
    const user = await linkedUser();
    expect(await (await bridge("/v1/subscription", withKey(user.apiKey))).json()).toMatchObject({
      has_active_subscription: true,
      status: "active",
      plan: { type: "sandbox", minutes_included: 300 },
    });
  });
});

describe("GET /v1/billing", () => {
  it("answers the portal URL, or redirects a browser there", async () => {
    const user = await linkedUser();
    const { portal_url } = (await (await bridge("/v1/billing", withKey(user.apiKey))).json()) as { portal_url: string };
    expect(portal_url).toMatch(/^http:\/\/bridge\.test\/sandbox\/billing-portal$/);
    const redirect = await bridge("/v1/billing?redirect=1", { ...withKey(user.apiKey), redirect: "manual" });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe(portal_url);
  });

  it("refuses an unknown redirect value", async () => {
    const user = await linkedUser();
    expect(await errorOf(await bridge("/v1/billing?redirect=maybe", withKey(user.apiKey)))).toMatchObject({
      code: "validation_error",
      field: "redirect",
    });
  });
});
