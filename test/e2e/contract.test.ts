import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxPhone } from "../support/sandbox-phones";
import { type DevServer, startDevServer, until } from "./dev-server";
import { Contract, type Operation } from "./openapi-contract";
import { sandboxTokens } from "./sandbox-account";

// The OpenAPI document against `npm run dev`: every operation is sent its documented example
// (with real ids this test creates) and the answer's status, headers and body must match what the
// document says of it. Then the answers to bad requests (no key, malformed JSON, a foreign
// content type, a huge body, a wrong method) must be documented too.

let server: DevServer;
let receiver: Server;
let receiverUrl: string;
let contract: Contract;

/** What the operations need, created as the test goes. */
const ctx: Record<string, string> = {};

const fireCron = () => fetch(`${server.origin}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${server.origin}${path}`, {
    ...init,
    redirect: "manual",
    headers: { authorization: `Bearer ${ctx.key}`, ...(init.headers as Record<string, string>) },
  });
const postJson = async (path: string, body: unknown) => {
  const res = await api(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Record<string, any>;
};

/** A browser's sign-in: /auth/login sets the state cookie, KallyAI's sign-in returns to /auth/callback. */
async function browserSignIn(email: string): Promise<Response> {
  const login = await fetch(`${server.origin}/auth/login`, { redirect: "manual" });
  const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  const kallyai = new URL(login.headers.get("location")!);
  const back = await fetch(kallyai.origin + kallyai.pathname, {
    method: "POST",
    body: new URLSearchParams({
      redirect_uri: kallyai.searchParams.get("redirect_uri")!,
      state: kallyai.searchParams.get("state")!,
      email,
    }),
    redirect: "manual",
  });
  return fetch(back.headers.get("location")!, { headers: { cookie, accept: "text/html" }, redirect: "manual" });
}

const cookiesOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(";")[0]!);

/** An app connecting by OAuth (the documented example's redirect URI), as the plans below walk it. */
const app = {
  redirectUri: "http://127.0.0.1:33418/callback",
  verifier: randomBytes(32).toString("base64url"),
  clientId: "",
  consent: { handle: "", csrf: "", cookie: "" },
  code: "",
};

/** The consent page for the registered app, as a signed-in browser opens it. */
async function openConsent(): Promise<Response> {
  const signedIn = await browserSignIn(`contract-oauth-${Date.now()}@example.com`);
  const session = cookiesOf(signedIn).find((c) => c.startsWith("kallyai_console="))!;
  const url = new URL(`${server.origin}/authorize`);
  for (const [k, v] of Object.entries({
    response_type: "code",
    client_id: app.clientId,
    redirect_uri: app.redirectUri,
    code_challenge: createHash("sha256").update(app.verifier).digest("base64url"),
    code_challenge_method: "S256",
    state: "contract",
    resource: `${server.origin}/mcp`,
    scope: "calls:read",
  }))
    url.searchParams.set(k, v);
  const res = await fetch(url, { headers: { cookie: session }, redirect: "manual" });
  const html = await res.clone().text();
  app.consent = {
    handle: html.match(/name="handle" value="([^"]+)"/)?.[1] ?? "",
    csrf: html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? "",
    cookie: [session, ...cookiesOf(res)].join("; "),
  };
  return res;
}

/** Allow on the consent page, posted from the bridge's own origin: back to the app with a code. */
async function allowConsent(): Promise<Response> {
  const res = await fetch(`${server.origin}/authorize`, {
    method: "POST",
    headers: {
      cookie: app.consent.cookie,
      origin: server.origin,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({
      handle: app.consent.handle,
      _csrf: app.consent.csrf,
      decision: "approve",
      scope: "calls:read",
      calls_per_hour: "20",
    }),
    redirect: "manual",
  });
  app.code = new URL(res.headers.get("location") ?? "http://invalid/").searchParams.get("code") ?? "";
  return res;
}

const exchangeCode = () =>
  fetch(`${server.origin}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: app.code,
      redirect_uri: app.redirectUri,
      client_id: app.clientId,
      code_verifier: app.verifier,
      resource: `${server.origin}/mcp`,
    }),
  });

interface Plan {
  /** The status the example must answer (default: the operation's first 2xx). */
  status?: number;
  /** Runs before the request: creates what it needs. */
  before?: () => Promise<void>;
  /** Replaces fields of the documented example that must name real things. */
  body?: (example: any) => unknown;
  query?: () => Record<string, string>;
  headers?: () => Record<string, string>;
  /** Sends the request itself (a browser flow, say). */
  send?: () => Promise<Response>;
}

/** In the order they run: creating before reading, removing last; unlinking ends the account. */
const PLANS: Record<string, Plan> = {
  getHealth: {},
  startSignIn: {},
  finishSignIn: { send: () => browserSignIn("contract-browser@example.com") },
  linkAccount: { body: (example) => ({ ...example, refresh_token: ctx.refreshToken }) },
  getMe: {},
  createApiKey: {},
  listApiKeys: {},
  placeCall: { headers: () => ({ "idempotency-key": `contract-${Date.now()}` }) },
  listCalls: {},
  getCall: { query: () => ({ wait: "10" }) },
  getTranscript: {},
  getRecording: {},
  getCallCalendar: {
    // A call that booked something, once it has ended: only such a call has a calendar event.
    before: async () => {
      const booked = { phone: "+14155551234", task: "Reserve a table for 2 at 8pm", category: "restaurant" };
      ctx.callId = (await postJson("/v1/calls", { ...booked, party_size: 2, date: "2026-01-28", time: "20:00" })).id;
      await until(
        "the booked call to end",
        async () => ((await (await api(`/v1/calls/${ctx.callId}?wait=10`)).json()).finished ? true : undefined),
        120,
      );
    },
  },
  cancelCall: {
    before: async () => {
      ctx.callId = (
        await postJson("/v1/calls", { phone: sandboxPhone("never"), task: "Ask about store hours today" })
      ).id;
    },
  },
  getUsage: {},
  getSubscription: {},
  getBillingPortal: {},
  createTrigger: {},
  listTriggers: {},
  getTrigger: {},
  editTrigger: {},
  hitTrigger: { status: 202 },
  hitTriggerWithGet: { status: 202 },
  createWebhook: { body: (example) => ({ ...example, url: receiverUrl }) },
  listWebhooks: {},
  getWebhook: {},
  // An active subscription answers as it is (the console's re-enable button).
  enableWebhook: {},
  testWebhook: {},
  listEvents: {},
  listDeliveries: {
    // A real delivery: a finished call, the cron's sweep, the receiver's 200.
    before: async () => {
      await fireCron();
      ctx.deliveryId = await until("a delivery", async () => {
        const { items } = (await (await api(`/v1/webhooks/${ctx.webhookId}/deliveries`)).json()) as {
          items: Array<{ id: string; state: string }>;
        };
        return items.find((d) => d.state === "succeeded")?.id ?? void (await fireCron());
      });
    },
  },
  retryDelivery: {},
  deleteWebhook: {},
  revokeTrigger: {},
  revokeApiKey: {},
  // An app connects by OAuth: discovery, registration, the consent page, Allow, the token.
  protectedResourceMetadata: {},
  protectedResourceMetadataMcp: {},
  protectedResourceMetadataApi: {},
  authorizationServerMetadata: {},
  oauthRegister: { status: 201 },
  oauthAuthorize: { send: openConsent },
  oauthConsent: { status: 302, send: allowConsent },
  oauthToken: { send: exchangeCode },
  unlinkAccount: {},
};

/** Real ids for the path's parameters, by what the path names. */
function pathFor(op: Operation): string {
  const id = op.path.startsWith("/v1/calls/")
    ? ctx.callId
    : op.path.startsWith("/v1/keys/")
      ? ctx.createdKeyId
      : op.path.startsWith("/v1/triggers/")
        ? ctx.triggerId
        : op.path.startsWith("/v1/webhooks/")
          ? ctx.webhookId
          : ctx.deliveryId;
  return op.path.replace("{id}", id ?? "missing").replace("{token}", ctx.triggerToken ?? "missing");
}

/** What a successful answer gives the operations after it. */
function remember(op: Operation, body: any) {
  if (op.id === "linkAccount") ctx.key = body.api_key;
  if (op.id === "createApiKey") ctx.createdKeyId = body.id;
  if (op.id === "placeCall") ctx.callId = body.id;
  if (op.id === "createTrigger") [ctx.triggerId, ctx.triggerToken] = [body.id, body.url.split("/t/")[1]];
  if (op.id === "createWebhook") ctx.webhookId = body.id;
  if (op.id === "oauthRegister") app.clientId = body.client_id;
}

async function send(op: Operation, plan: Plan): Promise<Response> {
  if (plan.send) return plan.send();
  const example = contract.requestExample(op);
  const url = new URL(server.origin + pathFor(op));
  const documented = (op.op.parameters ?? [])
    .filter((p: any) => p.in === "query" && p.schema?.example !== undefined)
    .map((p: any) => [p.name, String(p.schema.example)]);
  for (const [k, v] of [...documented, ...Object.entries(plan.query?.() ?? {})]) url.searchParams.set(k, v);
  const headers: Record<string, string> = { ...plan.headers?.() };
  if (op.op.security?.length !== 0 && ctx.key) headers.authorization = `Bearer ${ctx.key}`;
  let body: string | undefined;
  if (op.op.requestBody) {
    const value = plan.body ? plan.body(example?.example) : example?.example;
    headers["content-type"] = example?.type ?? "application/json";
    body = JSON.stringify(value ?? {});
  }
  return fetch(url, { method: op.method.toUpperCase(), headers, body, redirect: "manual" });
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "text/plain" }).end("ok"));
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/contract`;
  // Sandbox calls end after 2 s; one poller sweep per cron tick, fired by the test.
  // KallyAI answering at once (SANDBOX_PLACEMENT=async), so that a running call can be cancelled at
  // KallyAI: KallyAI's documented API has no cancel, and a call it is placing answers 409 cannot_cancel.
  server = await startDevServer([
    "--var",
    "SANDBOX_CALL_SECONDS:2",
    "--var",
    "POLLER_SWEEP_SECONDS:0",
    "--var",
    "SANDBOX_PLACEMENT:async",
  ]);
  contract = new Contract(await (await fetch(`${server.origin}/openapi.json`)).json());
  ctx.refreshToken = (await sandboxTokens(server.origin, `contract-${Date.now()}@example.com`)).refresh_token;
});
afterAll(async () => {
  await server?.stop();
  await new Promise((r) => receiver?.close(r));
});

describe("the OpenAPI document is the contract of npm run dev", () => {
  it("plans a request for every operation it documents", () => {
    expect(
      contract
        .operations()
        .map((o) => o.id)
        .sort(),
    ).toEqual(Object.keys(PLANS).sort());
  });

  it("answers each operation's documented example as documented (status, headers, body)", async () => {
    const byId = new Map(contract.operations().map((o) => [o.id, o]));
    const mismatches: string[] = [];
    for (const [id, plan] of Object.entries(PLANS)) {
      const op = byId.get(id)!;
      await plan.before?.();
      const res = await send(op, plan);
      const copy = res.clone();
      const expected =
        plan.status ??
        Math.min(
          ...Object.keys(op.op.responses)
            .map(Number)
            .filter((s) => s < 400),
        );
      if (res.status !== expected)
        mismatches.push(`${id}: answered ${res.status}, expected ${expected}: ${(await copy.text()).slice(0, 300)}`);
      else if ((res.headers.get("content-type") ?? "").includes("json")) remember(op, await copy.json());
      mismatches.push(...(await contract.mismatches(op, res)).map((m) => `${id}: ${m}`));
    }
    expect(mismatches).toEqual([]);
  });

  it("finds a mismatch when there is one (the check can fail)", async () => {
    const getCall = contract.operations().find((o) => o.id === "getCall")!;
    const answer = (
      status: number,
      body: unknown,
      headers: Record<string, string> = { "content-type": "application/json", "x-request-id": "r1" },
    ) => new Response(JSON.stringify(body), { status, headers });
    expect(await contract.mismatches(getCall, answer(418, {}))).toEqual([
      expect.stringContaining("status 418 is not documented"),
    ]);
    const wrongCall = (await contract.mismatches(getCall, answer(200, { id: 7, status: "success" }))).join("\n");
    expect(wrongCall).toContain("/id must be string");
    expect(wrongCall).toContain("must have required property 'finished'");
    expect(
      await contract.mismatches(
        getCall,
        answer(404, { error: { code: "not_found", message: "…" } }, { "content-type": "application/json" }),
      ),
    ).toEqual(["404: required header X-Request-Id is missing"]);
    expect(await contract.mismatches(getCall, answer(404, { error: { code: "not_found" } }))).toEqual([
      expect.stringContaining("must have required property 'message'"),
    ]);
  });

  it("documents its answers to bad requests: no key, malformed JSON, another content type, a huge body, bad ids and queries, a wrong method", async () => {
    // A fresh account: the examples above ended by unlinking theirs.
    const linked = await (
      await fetch(`${server.origin}/v1/link`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          refresh_token: (await sandboxTokens(server.origin, `contract-bad-${Date.now()}@example.com`)).refresh_token,
        }),
      })
    ).json();
    const auth = { authorization: `Bearer ${linked.api_key}` };
    const huge = JSON.stringify({ task: "x".repeat(2 * 1024 * 1024) });
    const mismatches: string[] = [];
    const statuses = new Set<number>();
    const check = async (op: Operation, what: string, path: string, init: RequestInit) => {
      const res = await fetch(`${server.origin}${path}`, {
        ...init,
        method: init.method ?? op.method.toUpperCase(),
        redirect: "manual",
      });
      statuses.add(res.status);
      mismatches.push(...(await contract.mismatches(op, res)).map((m) => `${op.id} (${what}): ${m}`));
    };
    for (const op of contract.operations()) {
      if (op.id === "unlinkAccount") continue; // it would end the account the other probes use
      const path = pathFor(op);
      const keyed = op.op.security?.length !== 0;
      const withKey = keyed ? auth : {};
      if (keyed) await check(op, "no key", path, {});
      if (keyed) await check(op, "a wrong key", path, { headers: { authorization: "Bearer not-a-key" } });
      if (op.op.requestBody) {
        await check(op, "malformed JSON", path, {
          headers: { ...withKey, "content-type": "application/json" },
          body: '{"phone": ',
        });
        await check(op, "a JSON array", path, {
          headers: { ...withKey, "content-type": "application/json" },
          body: "[1, 2]",
        });
        await check(op, "text/plain", path, {
          headers: { ...withKey, "content-type": "text/plain" },
          body: "call the bistro",
        });
        await check(op, "wrong field types", path, {
          headers: { ...withKey, "content-type": "application/json" },
          body: JSON.stringify({
            name: 7,
            phone: { toString: 1 },
            scopes: "all",
            events: "call.completed",
            url: 5,
            refresh_token: [],
          }),
        });
      }
      if (op.method !== "get")
        await check(op, "a 2 MB body", path, {
          headers: { ...withKey, "content-type": "application/json" },
          body: huge,
        });
      if (op.path.includes("{")) {
        await check(op, "an unknown id", op.path.replace(/\{[a-z]+\}/, "no-such-thing"), { headers: withKey });
        await check(op, "a strange id", op.path.replace(/\{[a-z]+\}/, `x%00y%0A${"z".repeat(300)}`), {
          headers: withKey,
        });
      }
      if ((op.op.parameters ?? []).some((p: any) => p.in === "query"))
        await check(
          op,
          "a junk query",
          `${path}?limit=abc&wait=-1&format=xml&type=bogus&cursor=%00&status=${"x,".repeat(150)}&redirect=maybe`,
          { headers: withKey },
        );
      await check(op, "a wrong method", path, { method: "PATCH", headers: withKey });
    }
    expect(mismatches).toEqual([]);
    // The probes reached the error answers they are about.
    expect([...statuses].sort()).toEqual(expect.arrayContaining([400, 401, 404, 405, 413, 415, 422]));
  });
});
