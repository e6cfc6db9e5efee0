import { exports } from "cloudflare:workers";
import { auth, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { describe, expect, it } from "vitest";
import { LOCAL } from "../support/console";
import { Browser, clientMetadataDocument, HeadlessApp, signInAndConsent } from "../support/mcp-oauth";
import { BRIDGE_ORIGIN, blocked, route } from "../support/network";
import { endSandboxCall } from "../support/sandbox";

// The MCP SDK's own client inside the test pool, given nothing but the /mcp URL. The bridge is on
// a loopback origin (as under `npm run dev`); the app's CIMD document is served on the test network.
const MCP_URL = new URL(`${LOCAL}/mcp`);
const APP_CALLBACK = "http://127.0.0.1:33418/callback";

function onTheNetwork() {
  route(LOCAL, (req) => exports.default.fetch(req));
}

/** The app's requests to the token endpoint, as sent. */
const tokenRequests: URLSearchParams[] = [];
const recording = async (input: string | URL | Request, init?: RequestInit) => {
  const request = new Request(input, init);
  if (new URL(request.url).pathname === "/oauth/token")
    tokenRequests.push(new URLSearchParams(new TextDecoder().decode(await request.clone().arrayBuffer())));
  return fetch(request);
};

/** Connects the SDK client: the first try ends at the authorization URL, the person consents, the second connects. */
async function connectByOAuth(app: HeadlessApp, email: string) {
  tokenRequests.length = 0;
  const first = new StreamableHTTPClientTransport(MCP_URL, { authProvider: app, fetch: recording });
  await expect(new Client({ name: "headless", version: "1" }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
  expect(app.authorizationUrl).toBeDefined();
  const browser = new Browser(fetch, { "cf-connecting-ip": `10.9.${Math.floor(Math.random() * 250)}.7` });
  const { redirect, consentHtml } = await signInAndConsent(browser, app.authorizationUrl!, {
    email,
    signInOrigin: BRIDGE_ORIGIN,
  });
  expect(redirect.origin + redirect.pathname).toBe(APP_CALLBACK);
  expect(redirect.searchParams.get("iss")).toBe(LOCAL);
  await first.finishAuth(redirect.searchParams.get("code")!);
  const client = new Client({ name: "headless", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(MCP_URL, { authProvider: app, fetch: recording }));
  return { client, consentHtml, browser };
}

describe("an MCP client given only the /mcp URL connects by OAuth", () => {
  it("by dynamic client registration: 401 → metadata → register → sign in and consent → token for /mcp → a call followed to its end → refresh → revoked in the console → 401", async () => {
    onTheNetwork();
    const app = new HeadlessApp(APP_CALLBACK, "Headless DCR client");
    const { client, consentHtml, browser } = await connectByOAuth(app, `dcr-${crypto.randomUUID()}@example.com`);
    expect(consentHtml).toContain("This app registered itself");
    expect(consentHtml).toContain("a program on your computer");
    expect(app.authorizationUrl!.searchParams.get("resource")).toBe(MCP_URL.href);
    expect(app.authorizationUrl!.searchParams.get("code_challenge_method")).toBe("S256");
    expect(tokenRequests[0]).toBeDefined();
    expect(tokenRequests[0]!.get("grant_type")).toBe("authorization_code");
    expect(tokenRequests[0]!.get("resource")).toBe(MCP_URL.href);
    expect(app.tokens()).toMatchObject({ scope: "calls:write calls:read account:read" });
    const first = app.tokens()!;
    // The token is for /mcp only.
    expect((await fetch(`${LOCAL}/v1/me`, { headers: { authorization: `Bearer ${first.access_token}` } })).status).toBe(
      401,
    );

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("place_call");
    const placed = await client.callTool({
      name: "place_call",
      arguments: { phone: "+14155551234", task: "Ask about store hours today", category: "general" },
    });
    expect(placed.isError, JSON.stringify(placed.content)).toBeFalsy();
    const callId = (placed.structuredContent as { id: string }).id;
    await endSandboxCall(callId);
    const followed = await client.callTool({ name: "get_call", arguments: { id: callId, wait: 5 } });
    expect(followed.structuredContent).toMatchObject({ id: callId, finished: true });

    // Refresh, twice, as the SDK does when its token runs out: the first refresh token is then refused.
    for (let i = 0; i < 2; i++) expect(await auth(app, { serverUrl: MCP_URL, fetchFn: recording })).toBe("AUTHORIZED");
    expect(tokenRequests.filter((r) => r.get("grant_type") === "refresh_token")).toHaveLength(2);
    expect(app.tokens()!.refresh_token).not.toBe(first.refresh_token);
    const stale = await fetch(`${LOCAL}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: first.refresh_token!,
        client_id: app.clientInformation()!.client_id,
      }),
    });
    expect(stale.status).toBe(400);
    expect(await stale.json()).toMatchObject({ error: "invalid_grant" });
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);

    // Revoked from the console: the very next request is refused.
    const apps = await browser.follow(new URL(`${LOCAL}/console/apps`), [LOCAL]);
    const revokePath = (await apps.res.text()).match(/href="(\/console\/apps\/[^"]+\/revoke)"/)![1]!;
    const confirm = await browser.follow(new URL(LOCAL + revokePath), [LOCAL]);
    const done = await browser.submit({ url: confirm.url, html: await confirm.res.text() }, {}, [LOCAL], revokePath);
    expect(done.url.pathname).toBe("/console/apps");
    const refused = await fetch(`${LOCAL}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${app.tokens()!.access_token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toContain('error="invalid_token"');
    await expect(client.listTools()).rejects.toThrow();
    await client.close();
  });

  it("by a Client ID Metadata Document: the bridge fetches it, shows its domain, and the app needs no registration", async () => {
    onTheNetwork();
    const clientId = "https://client.test/oauth/client.json";
    let fetched = 0;
    route("https://client.test", (req) => {
      fetched++;
      expect(new URL(req.url).pathname).toBe("/oauth/client.json");
      return Response.json(clientMetadataDocument(clientId, APP_CALLBACK, "Headless CIMD client"));
    });
    const app = new HeadlessApp(APP_CALLBACK, "Headless CIMD client", clientId);
    const { client, consentHtml } = await connectByOAuth(app, `cimd-${crypto.randomUUID()}@example.com`);
    expect(fetched).toBeGreaterThan(0);
    expect(app.clientInformation()).toMatchObject({ client_id: clientId });
    expect(consentHtml).toContain("Published by <strong>client.test</strong>");
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    await client.close();
    expect(blocked).toEqual([]);
  });
});
