import { describe, expect, it } from "vitest";
import { bridgeWith } from "../support/accounts";
import { consoleSignIn, LOCAL, local } from "../support/console";
import {
  APP_REDIRECT,
  answerConsent,
  authorizePath,
  bearer,
  form,
  oauthErrorOf,
  openConsent,
  pkce,
} from "../support/oauth";

const ADMIN_TOKEN = "admin-token-for-the-oauth-tests";
const admin = (path: string, init: RequestInit = {}) =>
  bridgeWith({ ADMIN_TOKEN })(
    path,
    {
      ...init,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", ...init.headers },
    },
    LOCAL,
  );

async function preRegister(name = "IFTTT") {
  const res = await admin("/admin/oauth/clients", {
    method: "POST",
    body: JSON.stringify({ client_name: name, redirect_uris: [APP_REDIRECT] }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { client_id: string; client_secret: string; token_endpoint_auth_method: string };
}

describe("pre-registered confidential clients (POST /admin/oauth/clients)", () => {
  it("get an id and a secret once, and connect like any app, authenticating at the token endpoint", async () => {
    const client = await preRegister();
    expect(client.client_secret).toBeTruthy();
    expect(client.token_endpoint_auth_method).toBe("client_secret_post");
    const user = await consoleSignIn();
    const { verifier, challenge } = await pkce();
    const consent = await openConsent(user, authorizePath({ clientId: client.client_id, challenge }));
    expect(consent.html).toContain("Allow IFTTT to use your KallyAI account?");
    const answered = await answerConsent(consent, { decision: "approve", scopes: ["calls:write", "calls:read"] });
    const code = new URL(answered.headers.get("location")!).searchParams.get("code")!;
    const exchange = (secret: string) =>
      local(
        "/oauth/token",
        form({
          grant_type: "authorization_code",
          code,
          redirect_uri: APP_REDIRECT,
          code_verifier: verifier,
          client_id: client.client_id,
          client_secret: secret,
        }),
      );
    const wrong = await exchange("not-the-secret");
    expect(wrong.status).toBe(401);
    expect(await oauthErrorOf(wrong)).toMatchObject({ error: "invalid_client" });
    const ok = await exchange(client.client_secret);
    expect(ok.status).toBe(200);
    const tokens = (await ok.json()) as { access_token: string };
    expect((await local("/v1/me", bearer(tokens.access_token))).status).toBe(200);

    // Deleting the client ends its grants.
    const deleted = await admin(`/admin/oauth/clients/${encodeURIComponent(client.client_id)}`, { method: "DELETE" });
    expect(deleted.status).toBe(200);
    expect((await local("/v1/me", bearer(tokens.access_token))).status).toBe(401);
  });

  it("needs the admin token, and a name and redirect URIs", async () => {
    const anonymous = await bridgeWith({ ADMIN_TOKEN })(
      "/admin/oauth/clients",
      { method: "POST", body: "{}", headers: { "content-type": "application/json" } },
      LOCAL,
    );
    expect(anonymous.status).toBe(401);
    const empty = await admin("/admin/oauth/clients", { method: "POST", body: JSON.stringify({ client_name: "x" }) });
    expect(empty.status).toBe(422);
    const unsafe = await admin("/admin/oauth/clients", {
      method: "POST",
      body: JSON.stringify({ client_name: "x", redirect_uris: ["http://app.example/cb"] }),
    });
    expect(unsafe.status).toBe(422);
    expect((await admin("/admin/oauth/clients/nope", { method: "DELETE" })).status).toBe(404);
  });
});
