/**
 * A person signing in to the sandbox through KallyAI's CLI flow (its form answers a redirect to a
 * bare loopback origin, carrying the tokens: docs/sandbox.md), and linking that account to the
 * bridge. One home for the e2e files, so that a change to the flow is made once.
 */
export async function sandboxTokens(
  origin: string,
  email: string,
): Promise<{ refresh_token: string; access_token: string }> {
  const signIn = await fetch(`${origin}/sandbox/v1/auth/cli`, {
    method: "POST",
    body: new URLSearchParams({ redirect_uri: "http://127.0.0.1:8740", state: "e2e", email }),
    redirect: "manual",
  });
  const back = URL.parse(signIn.headers.get("location") ?? "");
  const refresh_token = back?.searchParams.get("refresh_token");
  const access_token = back?.searchParams.get("access_token");
  if (!refresh_token || !access_token) throw new Error(`the sandbox's sign-in answered ${signIn.status}, no tokens`);
  return { refresh_token, access_token };
}

/** Signs `email` in to the sandbox and links it (POST /v1/link): the sign-in API key it answers. */
export async function linkedKey(origin: string, email: string): Promise<string> {
  const { refresh_token } = await sandboxTokens(origin, email);
  const linked = await fetch(`${origin}/v1/link`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refresh_token }),
  });
  if (linked.status !== 201) throw new Error(`linking answered ${linked.status}: ${await linked.text()}`);
  return ((await linked.json()) as { api_key: string }).api_key;
}
