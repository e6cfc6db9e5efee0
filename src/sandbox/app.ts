import { Hono, type MiddlewareHandler } from "hono";
import { config } from "../env";
import { ApiError, kallyaiCode, toApiError } from "../errors";
import { SANDBOX_PLAN, sandboxAuth } from "./auth";
import { noSuchEndpoint, sandboxCalls, sandboxRecordings } from "./calls";
import { FAULT_HEADER, injectFault, isFault } from "./faults";
import { topUpPage } from "./pages";
import { SandboxStore } from "./store";
import type { SandboxEnv } from "./types";

/**
 * A faithful stand-in for KallyAI's API (test mode, docs/sandbox.md): sign-in, refresh tokens
 * (rotated, or kept), calls that end after SANDBOX_CALL_SECONDS with an outcome picked by the
 * number, answered to POST /v1/calls once they have ended (SANDBOX_PLACEMENT=async: at once),
 * account usage, and faults. Where KallyAI's reference is silent it takes the pessimistic reading.
 */
export const sandbox = new Hono<SandboxEnv>();

sandbox.use(async (c, next) => {
  await new SandboxStore(c.env.DB).logRequest(c.req.method, c.req.path.replace(/^.*?\/v1\//, "/v1/"));
  const fault = c.req.header(FAULT_HEADER);
  if (isFault(fault)) return injectFault(fault, c);
  await next();
});

sandbox.route("/v1/auth", sandboxAuth);
sandbox.route("/v1/calls", sandboxRecordings);

// Test mode's free top-up, where a 402 quota_exceeded points (no token: any email signs in here anyway).
sandbox.get("/top-up", (c) => c.html(topUpPage()));
sandbox.post("/top-up", async (c) => {
  const json = (c.req.header("content-type") ?? "").includes("application/json");
  const body = (json ? await c.req.json().catch(() => ({})) : await c.req.parseBody().catch(() => ({}))) as Record<
    string,
    unknown
  >;
  const email = typeof body.email === "string" ? body.email.trim().toLowerCase() : "";
  if (!email.includes("@") || email.length > 320)
    throw new ApiError(422, "validation_error", "email: the email of your sandbox account.");
  const ok = await new SandboxStore(c.env.DB).topUp(email, SANDBOX_PLAN);
  if (json) {
    if (!ok) throw new ApiError(404, "not_found", "No sandbox account uses this email; sign in with it first.");
    return c.json({ email, added: SANDBOX_PLAN });
  }
  return c.html(topUpPage({ email, ok }), ok ? 200 : 404);
});

const authenticate: MiddlewareHandler<SandboxEnv> = async (c, next) => {
  const token = c.req.header("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
  if (!token)
    throw new ApiError(401, kallyaiCode("missing_token"), "Authorization: Bearer <access_token> is required.");
  const store = new SandboxStore(c.env.DB);
  const stored = await store.findToken(token, "access");
  if (!stored) throw new ApiError(401, kallyaiCode("invalid_token"), "The access token is not valid.");
  if (stored.expires_at <= Date.now())
    throw new ApiError(401, kallyaiCode("token_expired"), "The access token has expired. Refresh it.");
  const user = await store.user(stored.user_id);
  if (!user) throw new ApiError(401, kallyaiCode("invalid_token"), "The access token is not valid.");
  c.set("user", user);
  await next();
};

sandbox.use("/v1/calls/*", authenticate);
sandbox.use("/v1/calls", authenticate);
sandbox.use("/v1/users/*", authenticate);
sandbox.use("/v1/stripe/*", authenticate);
sandbox.route("/v1/calls", sandboxCalls);

const MONTH_MS = 30 * 24 * 3600 * 1000;
const sandboxBase = (url: string) => url.replace(/\/v1\/.*$/, "");

sandbox.get("/v1/users/me/statistics", async (c) => {
  const user = c.get("user");
  const usage = await new SandboxStore(c.env.DB).usage(user.id);
  const minutesRemaining = Math.max(0, user.minutes_allocated - usage.minutes_used);
  return c.json({
    plan_type: "sandbox",
    minutes_allocated: user.minutes_allocated,
    minutes_used: usage.minutes_used,
    minutes_remaining: minutesRemaining,
    calls_allocated: user.calls_allocated,
    calls_used: usage.calls_used,
    calls_remaining: Math.max(0, user.calls_allocated - usage.calls_used),
    period_start: new Date(user.created_at).toISOString(),
    period_end: new Date(user.created_at + MONTH_MS).toISOString(),
    usage_percentage: user.minutes_allocated
      ? Math.round((usage.minutes_used / user.minutes_allocated) * 1000) / 10
      : 100,
    subscription_status: "active",
  });
});

sandbox.get("/v1/users/me/subscription", (c) => {
  const user = c.get("user");
  return c.json({
    has_active_subscription: true,
    provider: "sandbox",
    plan: { type: "sandbox", period: "monthly", minutes_included: user.minutes_allocated },
    status: "active",
    expires_at: new Date(user.created_at + MONTH_MS).toISOString(),
    auto_renew: true,
    management_url: `${sandboxBase(c.req.url)}/billing-portal`,
  });
});

// The reference (and KallyAI's CLI) read `url`.
sandbox.get("/v1/stripe/billing-portal", (c) => c.json({ url: `${sandboxBase(c.req.url)}/billing-portal` }));

sandbox.get("/billing-portal", (c) =>
  c.html(
    "<!doctype html><title>Billing — KallyAI sandbox</title><h1>Sandbox billing portal</h1><p>In test mode there is nothing to pay. On KallyAI this page is Stripe's billing portal.</p>",
  ),
);

/**
 * Errors in the reference's "Standard Error Format": the text under `details.message` (no
 * top-level `message`) and a `correlation_id`, so a client that reads only one shape fails here.
 */
export function referenceError(err: ApiError): Response {
  const headers = new Headers({ "content-type": "application/json; charset=utf-8", ...err.extra.headers });
  if (err.extra.retryAfter !== undefined) headers.set("retry-after", String(Math.ceil(err.extra.retryAfter)));
  const body = { error: { code: err.code, details: { message: err.message }, correlation_id: crypto.randomUUID() } };
  return new Response(JSON.stringify(body), { status: err.status, headers });
}

sandbox.notFound(() => referenceError(noSuchEndpoint()));
sandbox.onError((err) => referenceError(toApiError(err)));

/** Guards the mount: the sandbox answers only when test mode is on, so production never routes to it. */
export const sandboxEnabled: MiddlewareHandler<SandboxEnv> = async (c, next) => {
  if (!config(c.env).sandbox.enabled)
    throw new ApiError(
      404,
      "not_found",
      "The KallyAI sandbox is off on this bridge. Set SANDBOX_ENABLED=true to use test mode.",
    );
  await next();
};
