import { describe, expect, it } from "vitest";
import { sourceHash } from "../../src/http/security-headers";
import { linkedUser, withKey } from "../support/accounts";
import { bridge, json } from "../support/bridge";

const BROWSER = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };

/** Checks a page's headers, and that each inline <style>/<script> block is allowed by hash, never by 'unsafe-inline'. */
async function expectSecurePage(res: Response, what: string) {
  expect(res.headers.get("content-type"), what).toMatch(/^text\/html/);
  const csp = res.headers.get("content-security-policy") ?? "";
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(csp, what).toContain("default-src 'none'");
  expect(csp, what).not.toContain("unsafe-inline");
  expect(res.headers.get("x-content-type-options"), what).toBe("nosniff");
  expect(res.headers.get("referrer-policy"), what).toBe("no-referrer");
  const html = await res.text();
  const directive = (name: string) =>
    csp
      .split(";")
      .map((d) => d.trim())
      .find((d) => d.startsWith(`${name} `)) ?? "";
  for (const [, block] of html.matchAll(/<style>([\s\S]*?)<\/style>/g))
    expect(directive("style-src"), `${what}: style`).toContain(await sourceHash(block!));
  for (const [, block] of html.matchAll(/<script>([\s\S]*?)<\/script>/g))
    expect(directive("script-src"), `${what}: script`).toContain(await sourceHash(block!));
  expect(html, `${what}: no inline handlers or style attributes`).not.toMatch(/\s(on\w+|style)\s*=/i);
}

describe("security headers on every HTML page", () => {
  it("the sign-in error page", async () => {
    await expectSecurePage(await bridge("/auth/callback", { headers: BROWSER }), "/auth/callback");
  });

  it("the sandbox's sign-in and billing pages", async () => {
    await expectSecurePage(
      await bridge("/sandbox/v1/auth/cli?redirect_uri=http://127.0.0.1:8740&state=s", { headers: BROWSER }),
      "sandbox sign-in",
    );
    await expectSecurePage(await bridge("/sandbox/billing-portal", { headers: BROWSER }), "sandbox billing");
  });

  it("a trigger URL opened in a browser", async () => {
    await expectSecurePage(await bridge(`/t/${"x".repeat(32)}`, { headers: BROWSER }), "trigger error");
    const user = await linkedUser();
    const { url } = (await (
      await json(
        "/v1/triggers",
        { name: "t", phone: "+14155551234", task: "Ask whether they have oat milk in stock" },
        withKey(user.apiKey),
      )
    ).json()) as { url: string };
    await expectSecurePage(await bridge(new URL(url).pathname, { headers: BROWSER }), "trigger page");
  });

  it("JSON answers are marked nosniff too", async () => {
    const res = await bridge("/health");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });
});
