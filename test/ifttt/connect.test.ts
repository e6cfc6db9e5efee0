import { describe, expect, it } from "vitest";
import { NON_EXPIRING_TOKEN_SECONDS } from "../../src/domain/oauth";
import { DEV_IFTTT_CLIENT } from "../../src/env";
import { consoleSignIn, local } from "../support/console";
import { answerConsent, authorizePath, form, openConsent, pkce } from "../support/oauth";

const IFTTT_REDIRECT = "https://ifttt.com/channels/kallyai/authorize";

describe("IFTTT connects by OAuth as its pre-registered client (from configuration)", () => {
  it("the consent page shows the fixed calls:write and calls:read; the code gives a 10-year token and no refresh token", async () => {
    const user = await consoleSignIn();
    const { verifier, challenge } = await pkce();
    const consent = await openConsent(
      user,
      authorizePath({ clientId: DEV_IFTTT_CLIENT.id, challenge, redirectUri: IFTTT_REDIRECT, scope: "webhooks" }),
    );
    expect(consent.html).not.toContain('type="checkbox" name="scope"');
    expect(consent.html).toContain('type="hidden" name="scope" value="calls:write"');
    expect(consent.html).toContain('type="hidden" name="scope" value="calls:read"');
    // A tampered form asks for another scope: IFTTT's grant still gets exactly its two.
    const answered = await answerConsent(consent, { decision: "approve", scopes: ["webhooks"] });
    expect(answered.status).toBe(302);
    const redirect = new URL(answered.headers.get("location") ?? "");
    expect(redirect.origin + redirect.pathname).toBe(IFTTT_REDIRECT);
    const token = (secret: string) =>
      local(
        "/oauth/token",
        form({
          grant_type: "authorization_code",
          code: redirect.searchParams.get("code") ?? "",
          redirect_uri: IFTTT_REDIRECT,
          client_id: DEV_IFTTT_CLIENT.id,
          client_secret: secret,
          code_verifier: verifier,
        }),
      );
    expect((await token("not-the-secret")).status).toBe(401);
    const res = await token(DEV_IFTTT_CLIENT.secret);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { scope: string; expires_in: number; refresh_token?: string };
    expect(body.scope).toBe("calls:write calls:read");
    expect(body.expires_in).toBe(NON_EXPIRING_TOKEN_SECONDS);
    expect(body.refresh_token).toBeUndefined();
  });

  it("another redirect URI than IFTTT's configured one is refused", async () => {
    const user = await consoleSignIn();
    const { challenge } = await pkce();
    const res = await local(
      authorizePath({ clientId: DEV_IFTTT_CLIENT.id, challenge, redirectUri: "https://evil.example/cb" }),
      { headers: { cookie: user.cookie } },
    );
    expect(res.status).toBe(400);
  });
});
