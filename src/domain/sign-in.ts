import { ApiError } from "../errors";
import { randomBase64Url, sha256Hex } from "../shared/encoding";
import type { Deps } from "./deps";
import { type Linked, linkRefreshToken, linkTokens } from "./linking";

export type Flow = "cli" | "oauth";

/**
 * What the bridge asks KallyAI's OAuth consent for, in the reference's scope names: the calls it
 * places and reads, their transcripts and recordings, the plan and the billing portal.
 */
export const KALLYAI_SCOPES = [
  "calls:read",
  "calls:write",
  "transcripts:read",
  "recordings:read",
  "subscription:read",
  "billing:manage",
].join(" ");
const STATE_TTL_MS = 10 * 60 * 1000;
const isLoopback = (host: string) => host === "localhost" || host === "127.0.0.1" || host === "[::1]";

/**
 * Which sign-in this bridge can offer, and the KallyAI page that starts it: the OAuth2 code flow
 * when a client is configured, else KallyAI's CLI flow, which redirects only to localhost, so only
 * a bridge served there can use it.
 */
function signInPage(d: Deps, origin: URL, state: string): { flow: Flow; redirectUri: string; location: string } {
  const { oauth } = d.cfg;
  if (oauth) {
    const redirectUri = `${origin.origin}/auth/callback`;
    const query = {
      response_type: "code",
      client_id: oauth.clientId,
      redirect_uri: redirectUri,
      scope: KALLYAI_SCOPES,
      state,
    };
    return { flow: "oauth", redirectUri, location: d.upstream.url("/v1/auth/authorize", query) };
  }
  if (isLoopback(origin.hostname)) {
    const redirectUri = origin.origin;
    return { flow: "cli", redirectUri, location: d.upstream.url("/v1/auth/cli", { redirect_uri: redirectUri, state }) };
  }
  throw new ApiError(
    400,
    "sign_in_unavailable",
    "This bridge has no KallyAI OAuth client, and KallyAI's CLI sign-in only returns to localhost. Link from your computer instead: run `npx kallyai --login --bridge " +
      origin.origin +
      "`, or POST your refresh_token (from ~/.kallyai_token.json) to /v1/link.",
  );
}

/**
 * Starts a sign-in: a random single-use state, stored hashed, and the URL to send the browser to.
 * The OAuth flow returns to /auth/callback; KallyAI's CLI flow to the bare origin, as the reference
 * and KallyAI's own clients use it (`http://127.0.0.1:PORT`, no path), where `/` takes the answer.
 */
export async function startSignIn(d: Deps, origin: URL): Promise<{ state: string; location: string }> {
  const state = randomBase64Url(32);
  const { flow, redirectUri, location } = signInPage(d, origin, state);
  await d.loginStates.insert({
    state_hash: await sha256Hex(state),
    flow,
    redirect_uri: redirectUri,
    expires_at: Date.now() + STATE_TTL_MS,
  });
  return { state, location };
}

const refused = (message: string) => new ApiError(400, "invalid_state", `${message} Start again at /auth/login.`);

/** Finishes a sign-in: the state must be known, unused, unexpired and this browser's own. */
export async function finishSignIn(
  d: Deps,
  params: Record<string, string | undefined>,
  browserState: string | undefined,
): Promise<Linked> {
  const { state } = params;
  if (!state) throw refused("The sign-in answer has no state.");
  const hash = await sha256Hex(state);
  const row = await d.loginStates.get(hash);
  const now = Date.now();
  if (!row) throw refused("The sign-in state is unknown.");
  if (row.used_at !== null) throw refused("This sign-in was already completed (its state is single-use).");
  if (row.expires_at <= now) throw refused("The sign-in took longer than 10 minutes and expired.");
  if (browserState !== state) throw refused("This sign-in was started in another browser.");
  if (!(await d.loginStates.consume(hash, now)))
    throw refused("This sign-in was already completed (its state is single-use).");

  if (params.error)
    throw new ApiError(400, "sign_in_failed", `KallyAI sign-in did not complete (${params.error.slice(0, 100)}).`);
  if (row.flow === "oauth") {
    if (!params.code) throw new ApiError(400, "sign_in_failed", "KallyAI returned no authorization code.");
    const { oauth } = d.cfg;
    // Only if the operator removed the OAuth client during the sign-in (an OAuth state needs one).
    if (!oauth) throw new ApiError(400, "sign_in_failed", "This bridge no longer has a KallyAI OAuth client.");
    const tokens = await d.upstream.exchangeCode({
      code: params.code,
      redirect_uri: row.redirect_uri,
      client_id: oauth.clientId,
      client_secret: oauth.clientSecret,
    });
    return linkTokens(d, tokens, null, "signed in", "oauth");
  }
  if (!params.refresh_token) throw new ApiError(400, "sign_in_failed", "KallyAI returned no refresh token.");
  // Tokens that came through the browser are proven (and rotated) at KallyAI before they are kept.
  return linkRefreshToken(d, params.refresh_token, null, "signed in");
}
