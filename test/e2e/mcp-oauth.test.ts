import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { auth, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, clientMetadataDocument, HeadlessApp, signInAndConsent } from "../support/mcp-oauth";
import { type DevServer, startDevServer } from "./dev-server";

// The acceptance test of connecting by click: the MCP SDK's own client, given nothing but the
// /mcp URL of `npm run dev`, connects by OAuth (no key pasted), by dynamic client registration and
// by a Client ID Metadata Document served over https on loopback (the dev server trusts the test
// CA, test/e2e/fixtures), places a sandbox call and follows it to its end, refreshes, and is
// refused once the person revokes it in the console.

const FIXTURES = new URL("./fixtures/", import.meta.url);
const APP_CALLBACK = "http://127.0.0.1:33419/callback";

let server: DevServer;
let documents: Server;
let cimdUrl: string;
let cimdFetches = 0;

beforeAll(async () => {
  documents = createServer(
    {
      cert: readFileSync(new URL("loopback-cert.pem", FIXTURES)),
      key: readFileSync(new URL("loopback-key.pem", FIXTURES)),
    },
    (req, res) => {
      cimdFetches++;
      if (req.url !== "/oauth/client.json") return void res.writeHead(404).end();
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify(clientMetadataDocument(cimdUrl, APP_CALLBACK, "Loopback CIMD client")));
    },
  );
  await new Promise<void>((r) => documents.listen(0, "127.0.0.1", r));
  cimdUrl = `https://127.0.0.1:${(documents.address() as AddressInfo).port}/oauth/client.json`;
  server = await startDevServer(["--var", "SANDBOX_CALL_SECONDS:2"], {
    env: { SSL_CERT_FILE: new URL("loopback-ca.pem", FIXTURES).pathname },
  });
});
afterAll(async () => {
  await server?.stop();
  await new Promise((r) => documents?.close(r));
});

async function connectByOAuth(app: HeadlessApp, email: string) {
  const mcpUrl = new URL(`${server.origin}/mcp`);
  const first = new StreamableHTTPClientTransport(mcpUrl, { authProvider: app });
  await expect(new Client({ name: "e2e", version: "1" }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
  const browser = new Browser(fetch);
  const { redirect, consentHtml } = await signInAndConsent(browser, app.authorizationUrl!, { email });
  expect(redirect.origin + redirect.pathname).toBe(APP_CALLBACK);
  await first.finishAuth(redirect.searchParams.get("code")!);
  const client = new Client({ name: "e2e", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: app }));
  return { client, browser, consentHtml, mcpUrl };
}

describe("an MCP client given only http://127.0.0.1:<port>/mcp of npm run dev", () => {
  it("curl's view: the 401 challenge, the protected-resource metadata and the server metadata", async () => {
    const challenge = await fetch(`${server.origin}/mcp`, { method: "POST" });
    expect(challenge.status).toBe(401);
    const metadataUrl = `${server.origin}/.well-known/oauth-protected-resource/mcp`;
    expect(challenge.headers.get("www-authenticate")).toContain(`resource_metadata="${metadataUrl}"`);
    const prm = await (await fetch(metadataUrl)).json();
    expect(prm).toMatchObject({ resource: `${server.origin}/mcp`, authorization_servers: [server.origin] });
    const as = await (await fetch(`${server.origin}/.well-known/oauth-authorization-server`)).json();
    expect(as).toMatchObject({ issuer: server.origin, code_challenge_methods_supported: ["S256"] });
  });

  it("connects by DCR, places a sandbox call and follows it to the end, refreshes, and gets 401 once revoked in the console", async () => {
    const app = new HeadlessApp(APP_CALLBACK, "e2e DCR client");
    const { client, browser, mcpUrl } = await connectByOAuth(app, `mcp-dcr-${Date.now()}@example.com`);
    expect(app.authorizationUrl!.searchParams.get("resource")).toBe(mcpUrl.href);
    const placed = await client.callTool({
      name: "place_call",
      arguments: { phone: "(415) 555-1234", task: "Ask about store hours today", category: "general" },
    });
    expect(placed.isError, JSON.stringify(placed.content)).toBeFalsy();
    const id = (placed.structuredContent as { id: string }).id;
    let call: { finished?: boolean; status?: string } = {};
    for (let i = 0; i < 10 && !call.finished; i++)
      call = (await client.callTool({ name: "get_call", arguments: { id, wait: 5 } })).structuredContent as typeof call;
    expect(call).toMatchObject({ finished: true, status: "success" });

    const before = app.tokens()!;
    expect(await auth(app, { serverUrl: mcpUrl })).toBe("AUTHORIZED");
    expect(await auth(app, { serverUrl: mcpUrl })).toBe("AUTHORIZED");
    const stale = await fetch(`${server.origin}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: before.refresh_token!,
        client_id: app.clientInformation()!.client_id,
      }),
    });
    expect(stale.status).toBe(400);
    expect(await stale.json()).toMatchObject({ error: "invalid_grant" });
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);

    const apps = await browser.follow(new URL(`${server.origin}/console/apps`), [server.origin]);
    const html = await apps.res.text();
    expect(html).toContain("e2e DCR client");
    const revokePath = html.match(/href="(\/console\/apps\/[^"]+\/revoke)"/)![1]!;
    const confirm = await browser.follow(new URL(server.origin + revokePath), [server.origin]);
    await browser.submit({ url: confirm.url, html: await confirm.res.text() }, {}, [server.origin], revokePath);
    const refused = await fetch(mcpUrl, {
      method: "POST",
      headers: {
        authorization: `Bearer ${app.tokens()!.access_token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(refused.status).toBe(401);
    await client.close();
  });

  it("connects by a Client ID Metadata Document served over https on loopback", async () => {
    const app = new HeadlessApp(APP_CALLBACK, "Loopback CIMD client", cimdUrl);
    const { client, consentHtml } = await connectByOAuth(app, `mcp-cimd-${Date.now()}@example.com`);
    expect(cimdFetches).toBeGreaterThan(0);
    expect(app.clientInformation()).toMatchObject({ client_id: cimdUrl });
    expect(consentHtml).toContain("Published by <strong>127.0.0.1</strong>");
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("get_call");
    await client.close();
  });
});
