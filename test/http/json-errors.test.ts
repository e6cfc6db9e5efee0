import { describe, expect, it } from "vitest";
import { linkedUser, withKey } from "../support/accounts";
import { bridge, json } from "../support/bridge";

/** What n8n's HTTP Request node sends, and what a browser sends. */
const N8N_ACCEPT =
  "application/json,text/html,application/xhtml+xml,application/xml,text/*;q=0.9, image/*;q=0.8, */*;q=0.7";
const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

async function expectJsonError(res: Response, status: number, code?: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error).toEqual(
    expect.objectContaining({ code: code ?? expect.any(String), message: expect.any(String) }),
  );
}

describe("API errors are JSON whatever Accept says", () => {
  it("POST /v1/keys with Accept: text/html and no key is a JSON 401, not a sign-in page", async () => {
    const res = await bridge("/v1/keys", { method: "POST", headers: { accept: "text/html" } });
    await expectJsonError(res, 401, "missing_api_key");
  });

  for (const accept of [N8N_ACCEPT, BROWSER_ACCEPT, "text/html", "*/*", "text/plain"]) {
    it(`answers JSON errors to Accept: ${accept}`, async () => {
      const user = await linkedUser();
      await expectJsonError(await bridge("/v1/me", { headers: { accept } }), 401);
      await expectJsonError(await bridge("/v1/nope", { headers: { accept } }), 404, "not_found");
      await expectJsonError(
        await bridge("/health", { method: "DELETE", headers: { accept } }),
        405,
        "method_not_allowed",
      );
      await expectJsonError(
        await json("/v1/keys", { name: "" }, withKey(user.apiKey, { accept })),
        422,
        "validation_error",
      );
      await expectJsonError(await bridge("/v1/calls/nope", withKey(user.apiKey, { accept })), 404);
    });
  }
});

describe("pages made for browsers", () => {
  it("/auth/* shows a browser an HTML error page, and a program the JSON error", async () => {
    const page = await bridge("/auth/callback", { headers: { accept: BROWSER_ACCEPT } });
    expect(page.status).toBe(400);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain("Sign-in did not complete");
    expect(html).toContain(page.headers.get("x-request-id"));
    await expectJsonError(await bridge("/auth/callback", { headers: { accept: N8N_ACCEPT } }), 400);
  });

  it("an unknown /auth/ page is an HTML 404 for a browser", async () => {
    const res = await bridge("/auth/nope", { headers: { accept: BROWSER_ACCEPT } });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("a browser opening an unknown trigger URL reads what went wrong, not a sign-in error", async () => {
    const res = await bridge(`/t/${"x".repeat(32)}`, { headers: { accept: BROWSER_ACCEPT } });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain("This trigger URL did not place a call");
    expect(html).toContain("does not exist or was revoked");
    expect(html).not.toContain("Sign-in");
    await expectJsonError(
      await bridge(`/t/${"x".repeat(32)}`, { headers: { accept: N8N_ACCEPT } }),
      404,
      "trigger_not_found",
    );
  });

  it("a browser opening a trigger URL sees that the call is being placed", async () => {
    const user = await linkedUser();
    const created = await json(
      "/v1/triggers",
      { name: "t", phone: "+14155551234", business: "Corner Shop", task: "Ask whether they have oat milk in stock" },
      withKey(user.apiKey),
    );
    const { url } = (await created.json()) as { url: string };
    const res = await bridge(new URL(url).pathname, { headers: { accept: BROWSER_ACCEPT } });
    expect(res.status).toBe(202);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toContain("Calling Corner Shop now.");
  });
});
