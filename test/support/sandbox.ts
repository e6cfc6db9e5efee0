import { env } from "cloudflare:workers";
import { bridge } from "./bridge";

/** Signs in to the sandbox through its CLI form, as a person would, and returns the redirect's tokens. */
export async function sandboxSignIn(email = `user-${crypto.randomUUID()}@example.com`, state = "s1") {
  const res = await bridge("/sandbox/v1/auth/cli", {
    method: "POST",
    body: new URLSearchParams({ redirect_uri: "http://127.0.0.1:8740", state, email }),
    redirect: "manual",
  });
  if (res.status !== 302) throw new Error(`sign-in answered ${res.status}: ${await res.text()}`);
  const location = new URL(res.headers.get("location")!);
  return {
    location,
    accessToken: location.searchParams.get("access_token")!,
    refreshToken: location.searchParams.get("refresh_token")!,
    expiresIn: Number(location.searchParams.get("expires_in")),
  };
}

export const auth = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * Moves a sandbox call's end into the past, instead of waiting SANDBOX_CALL_SECONDS. `callId` is
 * the sandbox's (KallyAI's) id, or the bridge's id of the call placed for it.
 */
export async function endSandboxCall(callId: string, secondsAgo = 1) {
  await env.DB.prepare(
    "UPDATE sandbox_calls SET ends_at = ?1 WHERE id = ?2 OR id = (SELECT upstream_id FROM calls WHERE calls.id = ?2)",
  )
    .bind(Date.now() - secondsAgo * 1000, callId)
    .run();
}

export async function expireSandboxAccessTokens() {
  await env.DB.prepare("UPDATE sandbox_tokens SET expires_at = ? WHERE kind = 'access'")
    .bind(Date.now() - 1000)
    .run();
}

export async function sandboxRequestCount(method: string, path: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM sandbox_requests WHERE method = ? AND path = ?")
    .bind(method, path)
    .first<{ n: number }>();
  return row!.n;
}

/** Every request the sandbox has been sent, whatever its path. */
export async function sandboxRequestTotal(): Promise<number> {
  return (await env.DB.prepare("SELECT count(*) AS n FROM sandbox_requests").first<{ n: number }>())!.n;
}

export const callBody = (phone: string, overrides: Record<string, unknown> = {}) => ({
  submission: {
    task_category: "restaurant",
    task_description: "Reserve a table for 4 at 8pm",
    respondent_phone: phone,
    business_name: "Italian Bistro",
    party_size: 4,
    ...overrides,
  },
  timezone: "America/New_York",
});
