import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer, until } from "./dev-server";
import { createAppTester, zapierApp } from "./zapier-app";

// The Zapier integration run by zapier-platform-core's app tester against `npm run dev`, over real
// sockets: connect, subscribe the "Call Finished" hook (Zapier's target URL is a receiver on
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
let authData: { bridge_url: string; api_key: string };
const bundle = (extra: Record<string, unknown> = {}) => ({
  authData,
  inputData: {},
  meta: { timezone: "Europe/Madrid" },
  ...extra,
});

let signInKey: string;

async function signUp(origin: string): Promise<string> {
  const signIn = await fetch(`${origin}/sandbox/v1/auth/cli`, {
    method: "POST",
    body: new URLSearchParams({
      redirect_uri: "http://127.0.0.1:8740/callback",
      state: "zapier",
      email: `zapier-${Date.now()}@example.com`,
    }),
    redirect: "manual",
  });
  const refreshToken = new URL(signIn.headers.get("location")!).searchParams.get("refresh_token");
  const linked = await (
    await fetch(`${origin}/v1/link`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: refreshToken }),
    })
  ).json();
  signInKey = linked.api_key;
  // A key for Zapier alone, with only the scopes it needs.
  const key = await fetch(`${origin}/v1/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${linked.api_key}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Zapier", scopes: ["calls:write", "calls:read", "webhooks"] }),
  });
  expect(key.status).toBe(201);
  return (await key.json()).api_key;
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
    "--var",
    "POLLER_SWEEP_SECONDS:0",
    "--var",
    "SANDBOX_PLACEMENT:async",
  ]);
  authData = { bridge_url: `${server.origin}/`, api_key: await signUp(server.origin) };
});
afterAll(async () => {
  await server?.stop();
  await new Promise((r) => receiver?.close(r));
});

describe("the Zapier integration against npm run dev", () => {
  let subscription: { id: string; url: string; events: string[]; secret: string };
  let callId: string;

  it("tests the connection with GET /v1/me and labels it with the key's name and account", async () => {
    const me = await appTester(zapierApp.authentication.test, bundle());
    expect(me).toMatchObject({ linked: true, key: { name: "Zapier" } });
    const label = await appTester(zapierApp.authentication.connectionLabel, bundle({ inputData: me }));
    expect(label).toBe(`Zapier (${me.user_id})`);
  });

  it("a wrong key fails the connection test with the bridge's message", async () => {
    const wrong = appTester(zapierApp.authentication.test, {
      ...bundle(),
      authData: { ...authData, api_key: "not-a-key" },
      meta: { isTestingAuth: true },
    });
    await expect(wrong).rejects.toThrow(/API key/i);
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
    const limited = await fetch(`${server.origin}/v1/keys`, {
      method: "POST",
      headers: { "x-api-key": signInKey, "content-type": "application/json" },
      body: JSON.stringify({
        name: "Zapier (1 call an hour)",
        scopes: ["calls:write", "calls:read"],
        calls_per_hour: 1,
      }),
    });
    const limitedAuth = { ...authData, api_key: (await limited.json()).api_key };
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
      headers: { "x-api-key": authData.api_key },
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
      bundle({ inputData: { phone: "+14155550005", task: "Ask about store hours today" } }),
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
      headers: { "x-api-key": authData.api_key },
    });
    expect(gone.status).toBe(404);
    await expect(
      appTester(zapierApp.triggers.call_finished.operation.performUnsubscribe, bundle({ subscribeData: subscription })),
    ).resolves.toBeDefined();
  });
});
