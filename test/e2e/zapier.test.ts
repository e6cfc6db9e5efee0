import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, signInAndConsent } from "../support/mcp-oauth";
import { sandboxPhone } from "../support/sandbox-phones";
import { type DevServer, startDevServer, until } from "./dev-server";
import { createAppTester, zapierApp } from "./zapier-app";

// The Zapier integration run by zapier-platform-core's app tester against `npm run dev`, over real
// sockets: connect by OAuth (the consent approved headlessly), refresh, subscribe the "Call Finished" hook (Zapier's target URL is a receiver on
// loopback), place a sandbox call, receive its delivery and run `perform` on it, list samples,
// search, read the transcript, cancel, unsubscribe.

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

let server: DevServer;
let receiver: Server;
let targetUrl: string;
const received: Received[] = [];
const appTester = createAppTester(zapierApp);
let authData: { bridge_url: string; access_token: string; refresh_token: string };
const bundle = (extra: Record<string, unknown> = {}) => ({
  authData,
  inputData: {},
  meta: { timezone: "Europe/Madrid" },
  ...extra,
});

const ADMIN_TOKEN = "zapier-e2e-admin-token";
/** Zapier's own OAuth callback, registered with the bridge as the Zapier app's redirect URI. */
const ZAPIER_REDIRECT = "https://zapier.com/dashboard/auth/oauth/return/App123456CLIAPI/";

/** The bridge operator pre-registers the Zapier app once; its id and secret become the app's environment. */
async function registerZapier(origin: string) {
  const res = await fetch(`${origin}/admin/oauth/clients`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ client_name: "Zapier", redirect_uris: [ZAPIER_REDIRECT] }),
  });
  expect(res.status).toBe(201);
  const client = await res.json();
  process.env.CLIENT_ID = client.client_id;
  process.env.CLIENT_SECRET = client.client_secret;
}

const b64url = (bytes: Buffer) => bytes.toString("base64url");

/**
 * What Zapier does when a person clicks Connect: the app's authorizeUrl (Zapier adds redirect_uri,
 * state and the PKCE challenge), the person signs in and allows on the bridge's consent page
 * (driven headlessly), then the app's getAccessToken with the code.
 */
async function connectZapier(email: string, callsPerHour = "20") {
  const bridge_url = `${server.origin}/`;
  const url = new URL(
    await appTester(zapierApp.authentication.oauth2Config.authorizeUrl, { inputData: { bridge_url } }),
  );
  const verifier = b64url(randomBytes(32));
  url.searchParams.set("redirect_uri", ZAPIER_REDIRECT);
  url.searchParams.set("state", "zapier-state");
  url.searchParams.set("code_challenge", b64url(createHash("sha256").update(verifier).digest()));
  url.searchParams.set("code_challenge_method", "S256");
  const { redirect, consentHtml } = await signInAndConsent(new Browser(fetch), url, { email, callsPerHour });
  expect(consentHtml).toContain("Allow Zapier to use your KallyAI account?");
  expect(redirect.origin + redirect.pathname).toBe(ZAPIER_REDIRECT);
  expect(redirect.searchParams.get("state")).toBe("zapier-state");
  const tokens = await appTester(zapierApp.authentication.oauth2Config.getAccessToken, {
    inputData: {
      bridge_url,
      code: redirect.searchParams.get("code"),
      redirect_uri: ZAPIER_REDIRECT,
      code_verifier: verifier,
    },
  });
  return { bridge_url, ...tokens };
}

const fireCron = (origin: string) => fetch(`${origin}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"success"}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  targetUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/standard/123/abc/`;
  // Sandbox calls end after 1 s; one poller sweep per cron tick, fired by the test.
  // KallyAI answering at once (SANDBOX_PLACEMENT=async), so that a running call can be cancelled at
  // KallyAI: KallyAI's documented API has no cancel, and a call it is placing answers 409 cannot_cancel.
  server = await startDevServer([
    "--var",
    "SANDBOX_CALL_SECONDS:1",
    "POLLER_SWEEP_SECONDS:0",
    "SANDBOX_PLACEMENT:async",
    `ADMIN_TOKEN:${ADMIN_TOKEN}`,
  ]);
  await registerZapier(server.origin);
  authData = await connectZapier(`zapier-${Date.now()}@example.com`);
});
afterAll(async () => {
  await server?.stop();
  await new Promise((r) => receiver?.close(r));
});

describe("the Zapier integration against npm run dev", () => {
  let subscription: { id: string; url: string; events: string[]; secret: string };
  let callId: string;

  it("connects by OAuth: the tokens are for the bridge's /v1, with the scopes Zapier asked for", async () => {
    expect(authData.access_token).toMatch(/^[^:]+:[^:]+:[^:]+$/);
    expect(authData.refresh_token).toBeTruthy();
    const mcp = await fetch(`${server.origin}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${authData.access_token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: "{}",
    });
    expect(mcp.status).toBe(401); // a /v1 token is not an /mcp token
  });

  it("tests the connection with GET /v1/me and labels it with the connection's name and account", async () => {
    const me = await appTester(zapierApp.authentication.test, bundle());
    expect(me).toMatchObject({
      linked: true,
      key: { name: "Zapier", scopes: ["calls:write", "calls:read", "webhooks"] },
    });
    const label = await appTester(zapierApp.authentication.connectionLabel, bundle({ inputData: me }));
    expect(label).toBe(`Zapier (${me.user_id})`);
  });

  it("refreshes: the bridge rotates the refresh token, and the new access token works", async () => {
    const refreshed = await appTester(zapierApp.authentication.oauth2Config.refreshAccessToken, bundle());
    expect(refreshed.refresh_token).not.toBe(authData.refresh_token);
    authData = { ...authData, ...refreshed };
    expect(await appTester(zapierApp.authentication.test, bundle())).toMatchObject({ linked: true });
  });

  it("a refused access token (a 401) asks Zapier to refresh it and try again (auto-refresh), in a step and in the connection test", async () => {
    const stale = { ...authData, access_token: "usr_x:grant_x:not-a-token" };
    const step = await appTester(zapierApp.creates.place_call.operation.perform, {
      ...bundle(),
      authData: stale,
      inputData: { phone: "+14155557777", task: "Ask about store hours today" },
    }).catch((e: Error) => e);
    expect(step).toMatchObject({ name: "RefreshAuthError" });
    const testing = await appTester(zapierApp.authentication.test, {
      ...bundle(),
      authData: stale,
      meta: { isTestingAuth: true },
    }).catch((e: Error) => e);
    expect(testing).toMatchObject({ name: "RefreshAuthError" });
  });

  it("subscribes Call Finished: a bridge webhook to Zapier's target URL", async () => {
    subscription = await appTester(
      zapierApp.triggers.call_finished.operation.performSubscribe,
      bundle({ targetUrl, inputData: { outcome: "call.completed" } }),
    );
    expect(subscription).toMatchObject({
      id: expect.stringMatching(/^wh_/),
      url: targetUrl,
      events: ["call.completed"],
      secret: expect.stringMatching(/^whsec_/),
    });
  });

  it("places a call with every field filled, from strings as Zapier maps them", async () => {
    const placed = await appTester(
      zapierApp.creates.place_call.operation.perform,
      bundle({
        inputData: {
          phone: "(415) 555-1234",
          task: "Reserve a table for 4 at 8pm",
          category: "restaurant",
          language: "en",
          call_language: "en",
          business: "Italian Bistro",
          name: "John Smith",
          party_size: "4",
          date: "2026-01-28",
          time: "20:00",
          time_preference: "",
          user_phone: "",
          urgent: "false",
          instructions: ["Ask for a window table"],
          country: "US",
          idempotency_key: "",
        },
      }),
    );
    expect(placed).toMatchObject({
      id: expect.any(String),
      status: expect.stringMatching(/queued|in_progress/),
      links: { self: expect.stringContaining(placed.id) },
    });
    callId = placed.id;
  });

  it("the same mapped idempotency key places no second call", async () => {
    const inputData = {
      phone: "+14155559876",
      task: "Ask about store hours today",
      idempotency_key: `row-${Date.now()}`,
    };
    const first = await appTester(zapierApp.creates.place_call.operation.perform, bundle({ inputData }));
    const again = await appTester(zapierApp.creates.place_call.operation.perform, bundle({ inputData }));
    expect(again.id).toBe(first.id);
  });

  it("the runaway guard's 429 asks Zapier to retry later, with the bridge's message and Retry-After", async () => {
    // Another person connects Zapier allowing 1 call an hour on the consent page.
    const limitedAuth = await connectZapier(`zapier-limited-${Date.now()}@example.com`, "1");
    const place = () =>
      appTester(zapierApp.creates.place_call.operation.perform, {
        ...bundle(),
        authData: limitedAuth,
        inputData: { phone: "+14155557777", task: "Ask about store hours today" },
      });
    await place();
    const error = await place().catch((e: Error) => e);
    expect(error).toMatchObject({ name: "ThrottledError" });
    const { message, delay } = JSON.parse((error as Error).message);
    expect(message).toMatch(/calls per hour|hour/i);
    expect(delay).toBeGreaterThan(0);
  });

  it("a refused call fails the step with the bridge's message", async () => {
    const emergency = await appTester(
      zapierApp.creates.place_call.operation.perform,
      bundle({ inputData: { phone: "911", task: "Ask about store hours today" } }),
    ).catch((e: Error) => e);
    expect(emergency).toMatchObject({ name: "AppError" });
    expect(JSON.parse((emergency as Error).message)).toMatchObject({
      code: "emergency_number",
      status: 422,
      message: expect.stringMatching(/never called/),
    });
  });

  it("finds the call by ID, and by phone number and status once it ended", async () => {
    const byId = await until("the call to end", async () => {
      const [call] = await appTester(
        zapierApp.searches.find_call.operation.perform,
        bundle({ inputData: { id: callId } }),
      );
      return call.finished ? call : undefined;
    });
    expect(byId).toMatchObject({
      id: callId,
      status: "success",
      phone: "+14155551234",
      business: "Italian Bistro",
      party_size: 4,
      timezone: "Europe/Madrid",
      instructions: ["Ask for a window table"],
    });
    const byPhone = await appTester(
      zapierApp.searches.find_call.operation.perform,
      bundle({ inputData: { phone: "(415) 555-1234", status: ["success"] } }),
    );
    expect(byPhone.map((c: { id: string }) => c.id)).toEqual([callId]);
    const none = await appTester(
      zapierApp.searches.find_call.operation.perform,
      bundle({ inputData: { id: "00000000-0000-4000-8000-000000000000" } }),
    );
    expect(none).toEqual([]);
  });

  it("the finished call fires the hook; perform turns the delivery into the event, the same object as the feed's sample", async () => {
    const delivery = await until("the webhook delivery", async () => {
      await fireCron(server.origin);
      return received.find((r) => JSON.parse(r.body).data?.id === callId);
    });
    const body = JSON.parse(delivery.body);
    const webhookId = delivery.headers["webhook-id"] as string;
    expect(delivery.headers["webhook-signature"]).toMatch(/^v1,/);

    const events = await appTester(
      zapierApp.triggers.call_finished.operation.perform,
      bundle({
        inputData: { outcome: "call.completed" },
        cleanedRequest: body,
        rawRequest: { headers: { "Http-Webhook-Id": webhookId }, content: delivery.body },
        subscribeData: subscription,
      }),
    );
    expect(body.id).toBe(webhookId);
    expect(events).toEqual([body]);
    expect(events[0]).toMatchObject({ type: "call.completed", data: { id: callId, status: "success" } });

    const list = await appTester(
      zapierApp.triggers.call_finished.operation.performList,
      bundle({ inputData: { outcome: "call.completed" } }),
    );
    expect(Array.isArray(list)).toBe(true);
    expect(list[0]).toEqual(body);
  });

  it("a test delivery runs no Zap", async () => {
    const test = await fetch(`${server.origin}/v1/webhooks/${subscription.id}/test`, {
      method: "POST",
      headers: { authorization: `Bearer ${authData.access_token}` },
    });
    expect(test.status).toBe(200);
    const { event_id } = await test.json();
    const delivered = received.find((r) => r.headers["webhook-id"] === event_id);
    const sample = JSON.parse(delivered!.body);
    expect(sample).toMatchObject({ id: event_id, test: true });
    expect(
      await appTester(zapierApp.triggers.call_finished.operation.perform, bundle({ cleanedRequest: sample })),
    ).toEqual([]);
  });

  it("gets the transcript as entries and as text", async () => {
    const [transcript] = await appTester(
      zapierApp.searches.get_transcript.operation.perform,
      bundle({ inputData: { call_id: callId } }),
    );
    expect(transcript.id).toBe(callId);
    expect(transcript.entries.length).toBeGreaterThan(0);
    expect(transcript.text).toContain(transcript.entries[0].content);
  });

  it("cancels a running call; cancelling an ended one fails with the bridge's message", async () => {
    const placed = await appTester(
      zapierApp.creates.place_call.operation.perform,
      bundle({ inputData: { phone: sandboxPhone("never"), task: "Ask about store hours today" } }),
    );
    const cancelled = await appTester(
      zapierApp.creates.cancel_call.operation.perform,
      bundle({ inputData: { id: placed.id } }),
    );
    expect(cancelled).toMatchObject({ id: placed.id, status: "cancelled", finished: true });
    const ended = await appTester(
      zapierApp.creates.cancel_call.operation.perform,
      bundle({ inputData: { id: callId } }),
    ).catch((e: Error) => e);
    expect(JSON.parse((ended as Error).message)).toMatchObject({ code: "call_already_ended", status: 409 });
  });

  it("unsubscribes (and unsubscribing again still succeeds)", async () => {
    await appTester(
      zapierApp.triggers.call_finished.operation.performUnsubscribe,
      bundle({ subscribeData: subscription }),
    );
    const gone = await fetch(`${server.origin}/v1/webhooks/${subscription.id}`, {
      headers: { authorization: `Bearer ${authData.access_token}` },
    });
    expect(gone.status).toBe(404);
    await expect(
      appTester(zapierApp.triggers.call_finished.operation.performUnsubscribe, bundle({ subscribeData: subscription })),
    ).resolves.toBeDefined();
  });
});
