import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SANDBOX_OAUTH_CLIENT } from "../../src/sandbox/auth";
import { bridgeWith } from "../support/accounts";
import { errorOf, json } from "../support/bridge";
import { revealed } from "../support/console";
import { route } from "../support/network";
import { sandboxRequestCount } from "../support/sandbox";

const LOCAL = "http://localhost:8787";
const local = (path: string, init?: RequestInit) =>
  exports.default.fetch(new Request(LOCAL + path, { redirect: "manual", ...init }));

/** The browser's part: follow /auth/login to the sandbox's form and submit it. */
async function signInAtSandbox(loginLocation: string, email: string) {
  const form = await fetch(loginLocation);
  expect(form.status).toBe(200);
  const html = await form.text();
  expect(html).toContain("<form");
  const hidden = Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [
      m[1]!,
      m[2]!.replace(/&#38;/g, "&"),
    ]),
  );
  const action = new URL(html.match(/action="([^"]+)"/)![1]!, loginLocation);
  const submitted = await fetch(action, {
    method: "POST",
    body: new URLSearchParams({ ...hidden, email }),
    redirect: "manual",
  });
  expect(submitted.status).toBe(302);
  return new URL(submitted.headers.get("location")!);
}

/** The browser after the callback: its 303 to the console (a clean URL), with the session cookie it set. */
async function followToConsole(
  callback: Response,
  fetcher: (path: string, init?: RequestInit) => Response | Promise<Response> = local,
  name = "kallyai_console",
) {
  expect(callback.status).toBe(303);
  const location = callback.headers.get("location")!;
  expect(location).toBe("/console");
  const sessionCookie = callback.headers.getSetCookie().find((c) => c.startsWith(`${name}=`))!;
  expect(sessionCookie).toMatch(/HttpOnly/i);
  expect(sessionCookie).toMatch(/SameSite=Lax/i);
  const cookie = sessionCookie.split(";")[0]!;
  return {
    cookie,
    setCookie: sessionCookie,
    page: await fetcher(location, { headers: { cookie, accept: "text/html" } }),
  };
}
const apiKeyIn = revealed;

async function startLocalLogin() {
  const res = await local("/auth/login");
  expect(res.status).toBe(302);
  const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  return { location: res.headers.get("location")!, cookie };
}

describe("GET /auth/login on localhost (KallyAI's CLI sign-in)", () => {
  it("goes through the sandbox's sign-in and shows a working API key once", async () => {
    const { location, cookie } = await startLocalLogin();
    const upstream = new URL(location);
    expect(upstream.pathname).toBe("/sandbox/v1/auth/cli");
    // The reference's CLI redirect: a bare loopback origin, as KallyAI's own clients send it.
    expect(upstream.searchParams.get("redirect_uri")).toBe(LOCAL);
    expect(upstream.searchParams.get("state")).toMatch(/^[\w-]{40,}$/);

    const callback = await signInAtSandbox(location, `cli-${crypto.randomUUID()}@example.com`);
    expect(callback.origin + callback.pathname).toBe(`${LOCAL}/`);
    const redirected = await local(callback.pathname + callback.search, { headers: { cookie, accept: "text/html" } });
    expect(redirected.headers.get("cache-control")).toBe("no-store");
    const { page, cookie: sessionCookie } = await followToConsole(redirected);
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-store");
    const apiKey = apiKeyIn(await page.text())!;

    const me = await local("/v1/me", { headers: { authorization: `Bearer ${apiKey}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ linked: true, upstream: { state: "linked" } });
    // The key is in no URL and in no cookie.
    expect(redirected.headers.get("location")).not.toContain(apiKey);
    expect(decodeURIComponent(sessionCookie)).not.toContain(apiKey);
  });

  it("after the callback the address bar holds no tokens, and reloading the console shows the key no more", async () => {
    const { location, cookie } = await startLocalLogin();
    const callback = await signInAtSandbox(location, `reload-${crypto.randomUUID()}@example.com`);
    expect(callback.searchParams.get("refresh_token")).toBeTruthy();
    const redirected = await local(callback.pathname + callback.search, { headers: { cookie, accept: "text/html" } });
    const target = new URL(redirected.headers.get("location")!, LOCAL);
    expect(target.search).toBe("");
    expect(target.pathname).toBe("/console");
    const { page, cookie: sessionCookie } = await followToConsole(redirected);
    expect(apiKeyIn(await page.text())).toBeTruthy();

    // A reload shows the console without the key; without the session, sign-in is the way forward.
    const again = await local("/console", { headers: { cookie: sessionCookie, accept: "text/html" } });
    expect(again.status).toBe(200);
    expect(apiKeyIn(await again.text())).toBeUndefined();
    const signedOut = await local("/console", { headers: { accept: "text/html" } });
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get("location")).toMatch(/^\/auth\/login\?return_to=/);
  });

  it("a session cookie that is forged, tampered or empty shows no console and no key", async () => {
    for (const cookie of [
      "kallyai_console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "kallyai_console=garbage",
      "kallyai_console=",
    ]) {
      const res = await local("/console", { headers: { cookie } });
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toMatch(/^\/auth\/login/);
    }
  });

  it("callbacks count against the link rate limit of the address, an IPv6 /64 counted as one", async () => {
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:7`;
    for (let i = 1; i <= 10; i++) {
      const res = await json(
        "/v1/link",
        { refresh_token: "bogus" },
        { headers: { "cf-connecting-ip": `${prefix}::${i.toString(16)}` } },
      );
      expect(res.status).toBe(401);
    }
    const { cookie } = await startLocalLogin();
    const limited = await local("/auth/callback?state=x&refresh_token=stolen", {
      headers: { cookie, "cf-connecting-ip": `${prefix}:ffff:1:2:3` },
    });
    expect(limited.status).toBe(429);
    expect(await errorOf(limited)).toMatchObject({ code: "rate_limited" });
    const otherPrefix = await local("/auth/callback?state=x&refresh_token=stolen", {
      headers: { cookie, "cf-connecting-ip": `${prefix.replace(/:7$/, ":8")}::1` },
    });
    expect(otherPrefix.status).toBe(400);
  });

  it("refuses a callback without state", async () => {
    const res = await local("/auth/callback?refresh_token=x");
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_state" });
  });

  it("refuses an unknown state", async () => {
    const { cookie } = await startLocalLogin();
    const res = await local("/auth/callback?refresh_token=x&state=not-a-state", { headers: { cookie } });
    expect(await errorOf(res)).toMatchObject({ code: "invalid_state", message: expect.stringContaining("unknown") });
  });

  it("refuses a reused state", async () => {
    const { location, cookie } = await startLocalLogin();
    const callback = await signInAtSandbox(location, `reuse-${crypto.randomUUID()}@example.com`);
    expect((await local(callback.pathname + callback.search, { headers: { cookie } })).status).toBe(303);
    const again = await local(callback.pathname + callback.search, { headers: { cookie } });
    expect(again.status).toBe(400);
    expect((await errorOf(again)).message).toContain("already completed");
  });

  it("refuses an expired state", async () => {
    const { location, cookie } = await startLocalLogin();
    await env.DB.prepare("UPDATE login_states SET expires_at = ?")
      .bind(Date.now() - 1)
      .run();
    const callback = await signInAtSandbox(location, `late-${crypto.randomUUID()}@example.com`);
    const res = await local(callback.pathname + callback.search, { headers: { cookie } });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toContain("expired");
  });

  it("refuses a state started in another browser (no cookie)", async () => {
    const { location } = await startLocalLogin();
    const callback = await signInAtSandbox(location, `csrf-${crypto.randomUUID()}@example.com`);
    const res = await local(callback.pathname + callback.search);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toContain("another browser");
  });

  it("shows people an HTML page for a refused callback", async () => {
    const res = await local("/auth/callback", { headers: { accept: "text/html" } });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("Start again");
  });
});

describe("GET /auth/login on a deployed bridge", () => {
  it("without an OAuth client, explains the import path", async () => {
    const res = await exports.default.fetch(new Request("https://bridge.example.com/auth/login"));
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe("sign_in_unavailable");
    expect(error.message).toContain("/v1/link");
    expect(error.message).toContain("kallyai --login");
  });

  it("with an OAuth client, runs the authorization-code flow", async () => {
    const deployed = bridgeWith({
      OAUTH_CLIENT_ID: SANDBOX_OAUTH_CLIENT.id,
      OAUTH_CLIENT_SECRET: SANDBOX_OAUTH_CLIENT.secret,
    });
    const origin = "https://bridge.example.com";
    // The deployed bridge's own origin is reachable for the browser in this test.
    route(origin, (req) => deployed(new URL(req.url).pathname + new URL(req.url).search, req, origin));
    const login = await deployed("/auth/login", { redirect: "manual" }, origin);
    expect(login.status).toBe(302);
    const authorize = new URL(login.headers.get("location")!);
    expect(authorize.pathname).toBe("/sandbox/v1/auth/authorize");
    expect(authorize.searchParams.get("client_id")).toBe(SANDBOX_OAUTH_CLIENT.id);
    // The reference's scope names, with colons.
    expect(authorize.searchParams.get("scope")).toBe(
      "calls:read calls:write transcripts:read recordings:read subscription:read billing:manage",
    );
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;

    const callback = await signInAtSandbox(authorize.toString(), `oauth-${crypto.randomUUID()}@example.com`);
    expect(callback.searchParams.get("code")).toBeTruthy();
    const redirected = await deployed(
      callback.pathname + callback.search,
      { headers: { cookie }, redirect: "manual" },
      origin,
    );
    // On https the session cookie is __Host- prefixed and Secure.
    const { page, setCookie } = await followToConsole(
      redirected,
      (path, init) => deployed(path, init, origin),
      "__Host-kallyai_console",
    );
    expect(page.status).toBe(200);
    expect(setCookie).toMatch(/; Secure/i);
    const apiKey = apiKeyIn(await page.text())!;
    const me = await deployed("/v1/me", { headers: { "x-api-key": apiKey } }, origin);
    expect(await me.json()).toMatchObject({ linked: true, user_id: expect.any(String) });

    // Its tokens refresh at the token endpoint with the client's credentials, as the reference says.
    const { user_id } = (await (await deployed("/v1/me", { headers: { "x-api-key": apiKey } }, origin)).json()) as {
      user_id: string;
    };
    expect(await env.DB.prepare("SELECT refresh_grant FROM vault WHERE user_id = ?").bind(user_id).first()).toEqual({
      refresh_grant: "oauth",
    });
    await env.DB.prepare("UPDATE vault SET access_expires_at = 0 WHERE user_id = ?").bind(user_id).run();
    const before = await sandboxRequestCount("POST", "/v1/auth/gpt/token");
    expect((await deployed("/v1/usage", { headers: { "x-api-key": apiKey } }, origin)).status).toBe(200);
    expect(await sandboxRequestCount("POST", "/v1/auth/gpt/token")).toBe(before + 1);

    // Tokens stored before the bridge recorded their grant find it on their next refresh.
    await env.DB.prepare("UPDATE vault SET access_expires_at = 0, refresh_grant = NULL WHERE user_id = ?")
      .bind(user_id)
      .run();
    expect((await deployed("/v1/usage", { headers: { "x-api-key": apiKey } }, origin)).status).toBe(200);
    expect(await env.DB.prepare("SELECT refresh_grant FROM vault WHERE user_id = ?").bind(user_id).first()).toEqual({
      refresh_grant: "oauth",
    });
  });
});
