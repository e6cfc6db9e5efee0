import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { dumpAllTables } from "../support/accounts";
import { consoleSignIn, cookieOf, csrfOf, LOCAL, local, postForm, revealed, signInAtSandbox } from "../support/console";

// Each test signs in through the sandbox like a browser (several requests): generous under a busy machine.
vi.setConfig({ testTimeout: 30_000 });

const page = (cookie: string, path = "/console") => local(path, { headers: { cookie } });

describe("console sessions", () => {
  it("a missing session goes to sign-in, and back to where the person was afterwards", async () => {
    const res = await local("/console/calls?status=success");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/auth/login?return_to=%2Fconsole%2Fcalls%3Fstatus%3Dsuccess");
    const user = await consoleSignIn(undefined, { returnTo: "/console/calls?status=success" });
    expect(user.location).toBe("/console/calls?status=success");
    expect(user.firstPage).toContain("<h1>Calls</h1>");
  });

  it("never returns to another site after sign-in", async () => {
    for (const target of [
      "https://evil.example/console",
      "//evil.example/console",
      "/console/../auth",
      "/\\evil.example",
      "javascript:alert(1)",
    ]) {
      const user = await consoleSignIn(undefined, { returnTo: target });
      expect(user.location).toBe("/console");
    }
  });

  it("signing in ends in the console with the first key shown once, working on the API", async () => {
    const user = await consoleSignIn();
    expect(user.location).toBe("/console");
    expect(user.firstPage).toContain("Shown only this once");
    const me = await local("/v1/me", { headers: { authorization: `Bearer ${user.apiKey}` } });
    expect(me.status).toBe(200);
    const again = await (await page(user.cookie)).text();
    expect(again).toContain("<h1>Overview</h1>");
    expect(revealed(again)).toBeUndefined();
    expect(again).not.toContain(user.apiKey);
  });

  it("the cookie is HttpOnly, SameSite=Lax, host-wide, and stored only as a hash with an expiry", async () => {
    const user = await consoleSignIn();
    const token = user.cookie.split("=")[1]!;
    const tables = await dumpAllTables();
    expect(tables).not.toContain(token);
    expect(tables).not.toContain(user.apiKey);
    const row = await env.DB.prepare(
      "SELECT expires_at, created_at FROM console_sessions ORDER BY created_at DESC LIMIT 1",
    ).first<{ expires_at: number; created_at: number }>();
    expect(row!.expires_at - row!.created_at).toBe(12 * 3600_000);

    // The attributes, from a fresh sign-in's Set-Cookie.
    const fresh = await consoleSignInRaw();
    expect(fresh).toMatch(/^kallyai_console=[\w-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it("an expired session goes back to sign-in and clears the cookie", async () => {
    const user = await consoleSignIn();
    await env.DB.prepare("UPDATE console_sessions SET expires_at = ?")
      .bind(Date.now() - 1)
      .run();
    const res = await page(user.cookie, "/console/keys");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/auth/login?return_to=%2Fconsole%2Fkeys");
    expect(res.headers.getSetCookie().join()).toMatch(/kallyai_console=;/);
  });

  it("sign-out ends the session: the old cookie no longer works", async () => {
    const user = await consoleSignIn();
    const out = await postForm(user, "/console/sign-out", {});
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/?signed_out=1");
    expect((await page(user.cookie)).status).toBe(303);
    // The key it signed in with still works for the tool it was given to.
    expect((await local("/v1/me", { headers: { authorization: `Bearer ${user.apiKey}` } })).status).toBe(200);
  });

  it("unlinking (confirmed) ends every session of the account and revokes its keys", async () => {
    const email = `unlink-${crypto.randomUUID()}@example.com`;
    const first = await consoleSignIn(email);
    const second = await consoleSignIn(email);
    const confirm = await (await page(first.cookie, "/console/unlink")).text();
    expect(confirm).toContain("every API key of this account stops working");
    const res = await postForm(first, "/console/unlink", {}, { csrf: csrfOf(confirm) });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/?unlinked=1");
    expect((await page(first.cookie)).status).toBe(303);
    expect((await page(second.cookie)).status).toBe(303);
    expect((await local("/v1/me", { headers: { authorization: `Bearer ${second.apiKey}` } })).status).toBe(401);
  });

  it("POST /v1/unlink from a tool also ends the console sessions", async () => {
    const user = await consoleSignIn();
    const res = await local("/v1/unlink", { method: "POST", headers: { authorization: `Bearer ${user.apiKey}` } });
    expect(res.status).toBe(200);
    expect((await page(user.cookie)).status).toBe(303);
  });

  it("relinking as another account in the same browser ends the first account's session", async () => {
    const alice = await consoleSignIn(`alice-${crypto.randomUUID()}@example.com`);
    const bob = await consoleSignIn(`bob-${crypto.randomUUID()}@example.com`, { cookie: alice.cookie });
    expect(bob.cookie).not.toBe(alice.cookie);
    expect((await page(alice.cookie)).status).toBe(303);
    const bobs = await (await page(bob.cookie)).text();
    const bobUser = (await (await local("/v1/me", { headers: { authorization: `Bearer ${bob.apiKey}` } })).json()) as {
      user_id: string;
    };
    expect(bobs).toContain(bobUser.user_id);
  });

  it("revoking the key the console signed in with signs the console out", async () => {
    const user = await consoleSignIn();
    const keyId = (
      (await (await local("/v1/me", { headers: { authorization: `Bearer ${user.apiKey}` } })).json()) as {
        key: { id: string };
      }
    ).key.id;
    const confirm = await (await page(user.cookie, `/console/keys/${keyId}/revoke`)).text();
    expect(confirm).toContain("revoking it also signs you out");
    const res = await postForm(user, `/console/keys/${keyId}/revoke`, {}, { csrf: csrfOf(confirm) });
    expect(res.status).toBe(303);
    expect((await page(user.cookie)).status).toBe(303);
  });
});

describe("cross-site request protection", () => {
  it("refuses a form without the session's CSRF token", async () => {
    const user = await consoleSignIn();
    const res = await postForm(
      user,
      "/console/keys",
      { name: "x", scopes: "calls:read", calls_per_hour: "5", expires: "never" },
      { csrf: "forged" },
    );
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("out of date");
  });

  it("refuses a form from another origin, or with no origin at all, even with the right token", async () => {
    const user = await consoleSignIn();
    const fields = { name: "x", scopes: "calls:read", calls_per_hour: "5", expires: "never" };
    expect((await postForm(user, "/console/keys", fields, { origin: "https://evil.example" })).status).toBe(403);
    expect((await postForm(user, "/console/keys", fields, { origin: null })).status).toBe(403);
    expect((await postForm(user, "/console/keys", fields)).status).toBe(303);
  });

  it("refuses another session's token", async () => {
    const alice = await consoleSignIn();
    const bob = await consoleSignIn();
    const bobsToken = csrfOf(await (await page(bob.cookie)).text());
    const res = await postForm(
      alice,
      "/console/keys",
      { name: "x", scopes: "calls:read", calls_per_hour: "5", expires: "never" },
      { csrf: bobsToken },
    );
    expect(res.status).toBe(403);
  });

  it("a form sent after the session ended goes to sign-in, not through", async () => {
    const res = await local("/console/keys", {
      method: "POST",
      headers: { origin: LOCAL, referer: `${LOCAL}/console/keys`, "content-type": "application/x-www-form-urlencoded" },
      body: "name=x",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/auth/login?return_to=%2Fconsole%2Fkeys");
  });
});

/** The Set-Cookie of the console session from a fresh sign-in. */
async function consoleSignInRaw(): Promise<string> {
  const login = await local("/auth/login");
  const state = login.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .filter((c) => !c.endsWith("="));
  const callback = await signInAtSandbox(login.headers.get("location")!, `raw-${crypto.randomUUID()}@example.com`);
  const done = await local(callback.pathname + callback.search, { headers: { cookie: state.join("; ") } });
  expect(cookieOf(done)).toBeTruthy();
  return done.headers.getSetCookie().find((c) => c.startsWith("kallyai_console="))!;
}
