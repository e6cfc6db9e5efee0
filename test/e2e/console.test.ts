import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually, launchBrowser, PageChecker, SCREENSHOTS, webhookReceiver } from "./browser";
import { type DevServer, startDevServer } from "./dev-server";

// The console's journey in a real Chromium against `npm run dev`, as a person would click it.
// Every page is checked with axe, for console errors and for sideways scrolling at 390 px.
let server: DevServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let pages: PageChecker;
let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
const journey: {
  firstKey?: string;
  secondKeyId?: string;
  callId?: string;
  triggerUrl?: string;
  triggerCallId?: string;
  webhookPath?: string;
  cookie?: string;
  receiverReady?: boolean;
} = {};

beforeAll(async () => {
  process.env.DEV_CRON_SECONDS = "2";
  [server, browser] = await Promise.all([startDevServer(["--var", "SANDBOX_CALL_SECONDS:3"]), launchBrowser()]);
  context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    timezoneId: "Europe/Madrid",
    locale: "en-GB",
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.origin });
  page = await context.newPage();
  pages = new PageChecker(context, page, server.origin);
  await pages.offlineOnly();
  // Test events are welcome; real deliveries fail until the person retries one from the log.
  receiver = await webhookReceiver((_, headers) =>
    String(headers["webhook-id"]).startsWith("evt_test_") || journey.receiverReady ? 200 : 503,
  );
}, 180_000);

afterEach(async ({ task }) => {
  // What the browser showed when a step failed, for the person reading the failure.
  if (task.result?.state === "fail")
    await page
      ?.screenshot({
        path: join(SCREENSHOTS, `FAILED-${task.name.slice(0, 40).replace(/\W+/g, "-")}.png`),
        fullPage: true,
      })
      .catch(() => undefined);
});

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await server?.stop();
});

const go = (path: string) => page.goto(server.origin + path);
/** Follows a link of the console's navigation, as a person moves between pages. */
const nav = async (name: string) => {
  const link = page.getByRole("navigation", { name: "Console" }).getByRole("link", { name, exact: true });
  const href = await link.getAttribute("href");
  await link.click();
  // Until the new page has loaded, a check would run on the old one (and lose it midway).
  await page.waitForURL(new URL(href ?? "", server.origin).toString());
};
const apiStatus = async (path: string, key: string) =>
  (await fetch(server.origin + path, { headers: { authorization: `Bearer ${key}` } })).status;

describe("the web console, in Chromium", () => {
  it("/ says what the bridge does and signs in through KallyAI (the sandbox), ending in the console with the first key shown once", async () => {
    await go("/");
    expect(await page.textContent("h1")).toBe("KallyAI Bridge");
    await pages.check("landing");
    await page.getByRole("link", { name: "Sign in with KallyAI" }).click();
    await page.waitForURL(/\/sandbox\/v1\/auth\/cli/);
    await page.getByLabel("Email").fill(`journey-${Date.now()}@example.com`);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL(`${server.origin}/console`);
    expect(await page.textContent("h1")).toBe("Overview");
    await page.locator("#revealed").waitFor();
    await pages.check("overview-first-key");

    await page.getByRole("button", { name: "Copy", exact: true }).first().click();
    await page.getByText("Copied to the clipboard.").waitFor();
    journey.firstKey = await page.evaluate(() => navigator.clipboard.readText());
    expect(journey.firstKey).toBe((await page.textContent("#revealed"))!.trim());
    expect(await apiStatus("/v1/me", journey.firstKey)).toBe(200);

    await page.reload();
    expect(await page.locator("#revealed").count()).toBe(0);
    expect(await page.content()).not.toContain(journey.firstKey);
    await pages.check("overview");
  });

  it("creates a second key with chosen scopes, shows it once, and revokes it after a confirmation", async () => {
    await nav("Keys");
    await pages.check("keys");
    await page.getByLabel("Name").fill("Zapier");
    await page.getByLabel(/webhooks —/).uncheck();
    await page.getByLabel("Calls per hour").fill("5");
    await page.getByLabel("Expires").selectOption("30d");
    await page.getByRole("button", { name: "Create key" }).click();
    const secondKey = (await page.textContent("#revealed"))!.trim();
    expect(await apiStatus("/v1/calls", secondKey)).toBe(200);
    expect(await apiStatus("/v1/webhooks", secondKey)).toBe(403);
    await pages.check("keys-created");

    await page.getByRole("link", { name: /^Revoke\s+Zapier/ }).click();
    await pages.check("keys-revoke-confirm");
    await page.getByRole("button", { name: "Revoke the key" }).click();
    await page.getByText(/was revoked/).waitFor();
    expect(await apiStatus("/v1/calls", secondKey)).toBe(401);
    expect(await page.getByRole("list", { name: "Active keys" }).getByText("Zapier").count()).toBe(0);
  });

  it("an app asks to connect by OAuth: the consent page, Deny, then Allow; Connected apps lists it, and revoking it ends its token", async () => {
    // The app: registered by DCR, its redirect URI a real server on loopback (Chromium follows the
    // consent's 302 there; a route would not see a redirect's request).
    const landed: URL[] = [];
    const app = createServer((req, res) => {
      landed.push(new URL(req.url ?? "/", "http://127.0.0.1"));
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>App</title><h1>App</h1>");
    });
    await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
    const callback = `http://127.0.0.1:${(app.address() as AddressInfo).port}/callback`;
    const registered = await fetch(`${server.origin}/oauth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        client_name: "Journey <b>App</b>",
        redirect_uris: [callback],
        token_endpoint_auth_method: "none",
      }),
    });
    const { client_id } = await registered.json();
    const authorize = async () => {
      const verifier = randomBytes(32).toString("base64url");
      const url = new URL(`${server.origin}/authorize`);
      for (const [k, v] of Object.entries({
        response_type: "code",
        client_id,
        redirect_uri: callback,
        state: "journey",
        code_challenge: createHash("sha256").update(verifier).digest("base64url"),
        code_challenge_method: "S256",
        resource: `${server.origin}/v1`,
        scope: "calls:write calls:read account:read webhooks",
      }))
        url.searchParams.set(k, v);
      await page.goto(url.toString());
      return verifier;
    };
    try {
      await authorize();
      expect(await page.textContent("h1")).toBe("Allow Journey <b>App</b> to use your KallyAI account?");
      await page.getByText("This sends access to a program on your computer").waitFor();
      await pages.check("oauth-consent");
      await page.getByRole("button", { name: "Deny" }).click();
      await page.waitForURL(`${callback}**`);
      expect(landed.at(-1)!.searchParams.get("error")).toBe("access_denied");

      const verifier = await authorize();
      await page.getByLabel(/manage webhooks/).uncheck();
      await page.getByLabel("Calls per hour").fill("3");
      await page.getByRole("button", { name: "Allow" }).click();
      await page.waitForURL(`${callback}**`);
      const code = landed.at(-1)!.searchParams.get("code")!;
      const tokens = await (
        await fetch(`${server.origin}/oauth/token`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            grant_type: "authorization_code",
            code,
            redirect_uri: callback,
            client_id,
            code_verifier: verifier,
          }),
        })
      ).json();
      expect(await apiStatus("/v1/calls", tokens.access_token)).toBe(200);
      expect(await apiStatus("/v1/webhooks", tokens.access_token)).toBe(403);

      await go("/console");
      await nav("Connected apps");
      const apps = page.getByRole("list", { name: "Connected apps" });
      await apps.getByRole("listitem").filter({ hasText: "Journey <b>App</b>" }).waitFor();
      expect(await apps.textContent()).toContain("calls:write, calls:read, account:read");
      await pages.check("apps");
      await page.getByRole("link", { name: /^Revoke\s+Journey/ }).click();
      await pages.check("apps-revoke-confirm");
      await page.getByRole("button", { name: "Revoke the app" }).click();
      await page.getByText(/was revoked/).waitFor();
      expect(await apiStatus("/v1/calls", tokens.access_token)).toBe(401);
      expect(await page.getByRole("list", { name: "Connected apps" }).count()).toBe(0);
    } finally {
      app.closeAllConnections();
      await new Promise<void>((r) => app.close(() => r()));
    }
  });

  it("places a call from the form with a national-format phone, after a field error shown next to the field", async () => {
    await nav("Calls");
    await pages.check("calls-empty");
    await page.getByRole("link", { name: "Place a call" }).first().click();
    // The page's script fills in the browser's own timezone.
    await page.waitForFunction(
      () => (document.getElementById("f-timezone") as HTMLInputElement | null)?.value === "Europe/Madrid",
    );
    await pages.check("call-form");
    await page.getByLabel("Phone number to call").fill("12");
    await page.getByLabel("What should the AI do?").fill("Ask whether they have oat milk in stock");
    await page.getByRole("button", { name: "Place the call" }).click();
    await page.locator("#f-phone-error").waitFor();
    expect(await page.getByLabel("Phone number to call").getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByLabel("What should the AI do?").inputValue()).toBe(
      "Ask whether they have oat milk in stock",
    );
    await pages.check("call-form-error");

    await page.getByLabel("Phone number to call").fill("(415) 555-0134");
    await page.getByLabel("Business").fill("Corner Shop");
    await page.getByLabel("Party size").fill("2");
    await page.getByRole("button", { name: "Place the call" }).click();
    await page.waitForURL(/\/console\/calls\/[^/]+$/);
    journey.callId = decodeURIComponent(page.url().split("/").pop()!);
    expect(await page.textContent("main")).toContain("+14155550134");
    await pages.check("call-running");
  });

  it("watches the call finish (the page follows it by itself) and reads its transcript", async () => {
    await page.getByText(/^Finished: /).waitFor({ timeout: 60_000 });
    await page.locator("ol.transcript li").first().waitFor();
    expect(await page.locator("ol.transcript li").count()).toBeGreaterThan(1);
    expect(await page.getByRole("button", { name: "Cancel the call" }).count()).toBe(0);
    await pages.check("call-finished");
  });

  it("adds a webhook to a loopback receiver: the whsec_ secret once, then a test event", async () => {
    await nav("Webhooks");
    await pages.check("webhooks-empty");
    await page.getByLabel("Address (for an address)").fill(receiver.url);
    await page.getByLabel("Description").fill("Journey <receiver>");
    await page.getByRole("button", { name: "Add the webhook" }).click();
    expect((await page.textContent("#revealed"))!.trim()).toMatch(/^whsec_/);
    journey.webhookPath = new URL(page.url()).pathname;
    await pages.check("webhook-added");
    await page.getByRole("button", { name: "Send a test event" }).click();
    await page.getByText(/Test event delivered: HTTP 200/).waitFor();
    const testId = String(receiver.received.at(-1)!.headers["webhook-id"]);
    expect(testId).toMatch(/^evt_test_/);
    // The test delivery is in the log, marked as a test, with what was sent and what came back.
    const tests = page.getByRole("list", { name: "Test deliveries, newest first" });
    await expect.poll(() => tests.getByText("test", { exact: true }).count()).toBe(1);
    await tests.getByText("Request body").click();
    expect(await tests.locator("pre").first().textContent()).toContain(`"id": "${testId}"`);
    await tests.getByText("Test: the answer (first 2 KB)").click();
    expect(await tests.locator("pre").nth(1).textContent()).toBe("ok");
  });

  it("creates a trigger URL from a template, with examples filled with it, and hits it", async () => {
    await nav("Trigger URLs");
    await pages.check("triggers-empty");
    await page.getByLabel("Name", { exact: true }).fill("Oat milk check");
    await page.getByLabel("Phone number to call").fill("+1 415 555 0135");
    await page.getByLabel("What should the AI do?").fill("Ask whether they have {{value1}} in stock");
    await page.getByRole("button", { name: "Make the trigger URL" }).click();
    journey.triggerUrl = (await page.textContent("#revealed"))!.trim();
    expect(journey.triggerUrl).toMatch(new RegExp(`^${server.origin}/t/[\\w-]+$`));
    expect(await page.textContent("main")).toContain(`Get Contents of URL: ${journey.triggerUrl}`);
    expect(await page.textContent("main")).toContain("Make a web request");
    await pages.check("trigger-created");

    const hit = await fetch(journey.triggerUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ value1: "oat milk" }),
    });
    expect(hit.status).toBe(202);
    journey.triggerCallId = ((await hit.json()) as { id: string }).id;
    await page.reload();
    expect(await page.locator("#revealed").count()).toBe(0);
    await pages.check("triggers");
  });

  it("sees the trigger's call in the history, and its delivery in the webhook's log, and retries it", async () => {
    await nav("Calls");
    const link = page.locator(`a[href="/console/calls/${encodeURIComponent(journey.triggerCallId!)}"]`);
    await link.waitFor();
    await pages.check("calls");
    await link.click();
    await page.getByText(/^Finished: /).waitFor({ timeout: 60_000 });
    expect(await page.textContent("main")).toContain("oat milk");

    await go(journey.webhookPath!);
    await eventually(
      page,
      async () => (await page.getByText("HTTP 503").count()) > 0,
      "the first delivery attempt (answered 503)",
    );
    await pages.check("webhook-deliveries");
    journey.receiverReady = true;
    await page
      .getByRole("button", { name: /^Retry now/ })
      .first()
      .click();
    await page.getByText(/Retried: HTTP 200/).waitFor();
    // Succeeded now: the delivery offers "Send again", and its first attempt shows the 503's answer.
    const log = page.getByRole("list", { name: "Deliveries, newest first" });
    expect(await log.getByRole("button", { name: /^Retry now/ }).count()).toBe(0);
    expect(await log.getByRole("button", { name: /^Send again/ }).count()).toBeGreaterThan(0);
    await log.getByText("Attempt 1: the answer (first 2 KB)").first().click();
    await log.getByText("not now", { exact: true }).first().waitFor();
    const real = receiver.received.filter((r) => !String(r.headers["webhook-id"]).startsWith("evt_test_"));
    expect(real[0]!.status).toBe(503);
    expect(real.at(-1)!.status).toBe(200);
    expect(new Set(real.map((r) => r.headers["webhook-id"])).size).toBe(1);
    expect(JSON.parse(real.at(-1)!.body)).toMatchObject({
      type: "call.completed",
      data: { id: journey.triggerCallId },
    });
    await pages.check("webhook-retried");
  });

  it("the recipes, the unlink confirmation and the API reference (every operation, no network)", async () => {
    await nav("Recipes");
    expect(await page.textContent("main")).toContain(`${server.origin}/v1/calls`);
    await pages.check("recipes");
    await go("/console/unlink");
    expect(await page.textContent("main")).toContain("every API key of this account stops working");
    await pages.check("unlink-confirm");

    await nav("API reference");
    const spec = (await (await fetch(`${server.origin}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
      webhooks?: Record<string, Record<string, unknown>>;
    };
    // Swagger UI shows the paths' operations and the webhooks' (the events the bridge sends).
    const operations = [...Object.values(spec.paths), ...Object.values(spec.webhooks ?? {})].flatMap((item) =>
      Object.keys(item).filter((m) => ["get", "post", "put", "patch", "delete"].includes(m)),
    ).length;
    await page.locator(".opblock").first().waitFor({ timeout: 30_000 });
    expect(await page.locator(".opblock").count()).toBe(operations);
    await pages.check("docs");
    expect(pages.offline).toEqual([]);
  });

  it("every page the journey visited passes the same checks in the dark colour scheme (the CSS follows prefers-color-scheme)", async () => {
    // The same signed-in page, emulating the dark scheme: this Chromium runs single-process, where a second context is not safe to close.
    const visited: Array<[name: string, path: string]> = [
      ["landing", "/"],
      ["overview", "/console"],
      ["keys", "/console/keys"],
      ["apps", "/console/apps"],
      ["calls", "/console/calls"],
      ["call-form", "/console/calls/new"],
      ["call-finished", `/console/calls/${encodeURIComponent(journey.callId!)}`],
      ["webhooks", "/console/webhooks"],
      ["webhook-deliveries", journey.webhookPath!],
      ["triggers", "/console/triggers"],
      ["recipes", "/console/recipes"],
      ["unlink-confirm", "/console/unlink"],
      ["docs", "/docs"],
    ];
    await page.emulateMedia({ colorScheme: "dark" });
    try {
      for (const [name, path] of visited) {
        await go(path);
        if (name === "docs") await page.locator(".opblock").first().waitFor({ timeout: 30_000 });
        expect(await page.evaluate(() => matchMedia("(prefers-color-scheme: dark)").matches)).toBe(true);
        await pages.check(`dark-${name}`);
      }
      // A field error too: the danger colour on the dark background.
      await go("/console/calls/new");
      await page.getByLabel("Phone number to call").fill("12");
      await page.getByLabel("What should the AI do?").fill("Ask whether they have oat milk in stock");
      await page.getByRole("button", { name: "Place the call" }).click();
      await page.locator("#f-phone-error").waitFor();
      await pages.check("dark-call-form-error");
    } finally {
      await page.emulateMedia({ colorScheme: "light" });
    }
    expect(pages.checked.filter((name) => name.startsWith("dark-"))).toHaveLength(visited.length + 1);
    expect(pages.offline).toEqual([]);
    // Fourteen pages, each through axe and two screenshots: more than the default on a busy machine.
  }, 180_000);

  it("signs out; the old cookie no longer opens the console", async () => {
    const cookie = (await context.cookies(server.origin)).find((c) => c.name === "kallyai_console")!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax" });
    await go("/console");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You signed out.").waitFor();
    const old = await fetch(`${server.origin}/console`, {
      headers: { cookie: `kallyai_console=${cookie.value}` },
      redirect: "manual",
    });
    expect(old.status).toBe(303);
    expect(old.headers.get("location")).toMatch(/^\/auth\/login\?return_to=/);
    await go("/console/keys");
    await page.waitForURL(/\/sandbox\/v1\/auth\/cli/);
    await pages.check("sign-in-again");
    expect(pages.checked.length).toBeGreaterThanOrEqual(20);
  });
});
