import { env } from "cloudflare:workers";
import { app } from "../../src/app";
import type { Bindings } from "../../src/env";
import { SANDBOX_OAUTH_CLIENT } from "../../src/sandbox/auth";
import { bridge, json } from "./bridge";
import { auth, callBody } from "./sandbox";

export { SANDBOX_OAUTH_CLIENT };

/** A fresh, unused email, so tests sharing one D1 never share a sandbox user. */
export const freshEmail = (tag = "user") => `${tag}-${crypto.randomUUID()}@example.com`;

/** Places a sandbox call for a restaurant task (callBody) and returns the raw response. */
export function placeSandboxCall(
  token: string,
  phone: string,
  overrides: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  return json("/sandbox/v1/calls", callBody(phone, overrides), { headers: { ...auth(token), ...headers } });
}

/** Places a call that must be accepted and returns its JSON. */
export async function createdCall(
  token: string,
  phone = "+14155551234",
  overrides: Record<string, unknown> = {},
): Promise<SandboxCall> {
  const res = await placeSandboxCall(token, phone, overrides);
  if (res.status !== 201) throw new Error(`placing a call answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as SandboxCall;
}

/** A GET to the sandbox with a bearer token. */
export const sandboxGet = (path: string, token: string, headers: Record<string, string> = {}) =>
  bridge(`/sandbox${path}`, { headers: { ...auth(token), ...headers } });

export interface SandboxCall {
  call_id: string;
  status: string;
  highlights: string | null;
  next_steps: string | null;
  duration_seconds: number | null;
  submission: Record<string, unknown>;
  metadata: { created_at: string; ended_at: string | null };
  [key: string]: unknown;
}

/** Moves a whole call (start and planned end) `seconds` into the past, as if it had been placed long ago. */
export async function ageSandboxCall(callId: string, seconds: number) {
  await env.DB.prepare("UPDATE sandbox_calls SET created_at = created_at - ?1, ends_at = ends_at - ?1 WHERE id = ?2")
    .bind(seconds * 1000, callId)
    .run();
}

export const sandboxCallRow = (callId: string) =>
  env.DB.prepare("SELECT * FROM sandbox_calls WHERE id = ?").bind(callId).first<{
    id: string;
    user_id: string;
    created_at: number;
    ends_at: number;
    cancelled_at: number | null;
    idempotency_key: string | null;
  }>();

/**
 * Sends a request to the app with some vars overridden (e.g. a different SANDBOX_TOKEN_TTL_SECONDS),
 * sharing the test D1. Paths are the sandbox's own ("/v1/..."); "/sandbox" is prepended.
 */
export function sandboxWithVars(
  vars: Partial<Record<keyof Bindings, string>>,
  path: string,
  init?: RequestInit,
): Promise<Response> {
  const custom = { ...(env as unknown as Bindings), ...vars } as Bindings;
  return Promise.resolve(app.request(`http://bridge.test/sandbox${path}`, init, custom));
}

/** Resolves to "pending" if `promise` has not settled after `ms` (for requests meant to hang). */
export function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | "pending"> {
  return Promise.race([promise, new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), ms))]);
}

/** The sandbox's OAuth2 code flow up to the redirect: signs `email` in and returns the code. */
export async function authorizationCode(
  email = freshEmail("oauth"),
  redirectUri = "https://app.example/oauth/callback",
  state = "st-1",
) {
  const res = await bridge("/sandbox/v1/auth/authorize", {
    method: "POST",
    body: new URLSearchParams({
      client_id: SANDBOX_OAUTH_CLIENT.id,
      redirect_uri: redirectUri,
      state,
      email,
      response_type: "code",
    }),
    redirect: "manual",
  });
  if (res.status !== 302) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
  const location = new URL(res.headers.get("location")!);
  return { location, code: location.searchParams.get("code")!, state: location.searchParams.get("state") };
}

/** POST /sandbox/v1/auth/gpt/token with form fields. */
export const tokenRequest = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
  bridge("/sandbox/v1/auth/gpt/token", { method: "POST", body: new URLSearchParams(fields), headers });
