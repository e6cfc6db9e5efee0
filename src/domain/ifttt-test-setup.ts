import type { AuthRequest } from "@cloudflare/workers-oauth-provider";
import { ApiError } from "../errors";
import type { CallRow } from "../storage/calls";
import { actingAs } from "./api-keys";
import type { Deps } from "./deps";
import { ACTION_SLUG } from "./ifttt";
import { linkRefreshToken } from "./linking";
import { APP_CALLS_PER_HOUR, ensureConfiguredClients, grantAccess, IFTTT_SCOPES, type OAuthServer } from "./oauth";
import { recordObservations } from "./outcomes";

/**
 * POST /ifttt/v1/test/setup (docs/ifttt.md): IFTTT's endpoint tests get a test user's access
 * token, minted through the same grant as a person connecting IFTTT, and samples for every
 * trigger, action and validation. The test user is the sandbox's `ifttt-test@example.com` in test
 * mode, else the linked account IFTTT_TEST_USER_ID names. It gets three finished sample calls to
 * SAMPLE_PHONE, so each trigger has at least the three items IFTTT's tests need.
 */
export const SAMPLE_PHONE = "+14155550100";
const TEST_EMAIL = "ifttt-test@example.com";
const SAMPLE_CALLS = [
  { status: "success", highlights: "Table for 2 at 7pm confirmed.", next_steps: "Arrive 10 minutes early." },
  { status: "success", highlights: "Appointment moved to Friday 10am.", next_steps: null },
  { status: "success", highlights: "The hotel holds a late check-out until 2pm.", next_steps: null },
];

const unavailable = (message: string) => new ApiError(503, "misconfigured", message);

export async function testSetup(d: Deps, oauth: OAuthServer | null) {
  const client = d.cfg.ifttt?.client;
  if (!client || !oauth)
    throw unavailable(
      "IFTTT's OAuth client is not configured (IFTTT_CLIENT_ID, IFTTT_CLIENT_SECRET) or OAUTH_KV is not bound.",
    );
  await ensureConfiguredClients(oauth);
  const userId = await testUser(d);
  await seedSampleCalls(d, userId);
  const accessToken = await mintToken(oauth, d, userId, client);
  return {
    accessToken,
    samples: {
      triggers: {
        call_finished: { outcome: "any" },
        call_finished_from_number: { phone: SAMPLE_PHONE },
      },
      triggerFieldValidations: {
        call_finished_from_number: { phone: { valid: SAMPLE_PHONE, invalid: "911" } },
      },
      actions: {
        [ACTION_SLUG]: {
          phone: SAMPLE_PHONE,
          task: "Ask whether they have a table for 2 tonight at 7pm",
          category: "restaurant",
          business: "Test Bistro",
          name: "IFTTT Test",
          party_size: "2",
          date: "",
          time: "",
          language: "en",
        },
      },
      actionRecordSkipping: {
        [ACTION_SLUG]: { phone: "911", task: "Ask whether they have a table for 2 tonight at 7pm" },
      },
    },
  };
}

/** The account the tests act as: IFTTT_TEST_USER_ID, or (test mode) the sandbox's test user, linked here. */
async function testUser(d: Deps): Promise<string> {
  const configured = d.cfg.ifttt?.testUserId;
  if (configured) {
    const user = await d.accounts.user(configured);
    if (user?.link_state !== "linked")
      throw unavailable("IFTTT_TEST_USER_ID names no linked account of this bridge; link the test account first.");
    return user.id;
  }
  if (!d.cfg.upstream.ownSandbox || !d.upstreamFetch)
    throw unavailable("POST /test/setup needs test mode (the sandbox as upstream) or IFTTT_TEST_USER_ID.");
  const res = await d.upstreamFetch(`${d.cfg.upstream.baseUrl}/v1/auth/cli`, {
    method: "POST",
    body: new URLSearchParams({ redirect_uri: "http://127.0.0.1:8740", state: "ifttt", email: TEST_EMAIL }),
    redirect: "manual",
  });
  const refreshToken = URL.parse(res.headers.get("location") ?? "")?.searchParams.get("refresh_token");
  if (!refreshToken) throw unavailable("The sandbox did not sign the IFTTT test user in.");
  return (await linkRefreshToken(d, refreshToken, null, "IFTTT test user")).user.id;
}

/** Three finished calls, recorded as any outcome is (their events, deliveries and notifications); once per user. */
async function seedSampleCalls(d: Deps, userId: string): Promise<void> {
  if (await d.calls.get(`ifttt-sample-${userId}-1`)) return;
  const now = Date.now();
  const rows: CallRow[] = SAMPLE_CALLS.map((s, i) => ({
    id: `ifttt-sample-${userId}-${i + 1}`,
    user_id: userId,
    key_id: null,
    status: "queued",
    request: JSON.stringify({
      submission: { respondent_phone: SAMPLE_PHONE, task_description: s.highlights, business_name: "Test Bistro" },
      timezone: d.cfg.defaults.timezone,
    }),
    highlights: null,
    next_steps: null,
    duration_seconds: null,
    created_at: now - (3 - i) * 60_000,
    ended_at: null,
    updated_at: now,
    next_poll_at: now,
    polls: 0,
    lease_until: null,
    upstream_id: null,
  }));
  // Accepted like a placed call but with no placement: nothing is sent to KallyAI for them.
  for (const row of rows)
    await d.calls.accept(
      {
        userId,
        keyId: null,
        idempotencyKey: `ifttt-sample-${row.id}`,
        requestHash: "",
        request: row.request,
        callId: row.id,
        response: "{}",
        expiresAt: now,
        now: row.created_at,
      },
      [],
    );
  // A call already finished keeps its events: recording only finalises calls still open.
  await recordObservations(
    d,
    rows.map((row, i) => ({
      row,
      nextPollAt: null,
      outcome: {
        status: SAMPLE_CALLS[i]?.status ?? "success",
        highlights: SAMPLE_CALLS[i]?.highlights ?? null,
        next_steps: SAMPLE_CALLS[i]?.next_steps ?? null,
        duration_seconds: 60 + i,
        ended_at: row.created_at + 60_000,
      },
    })),
    now,
  );
}

/**
 * Who approves the test grant, as a person does on the consent page: the account's newest working key
 * of its own (not an app's) that may place calls, so the grant's calls count against its limits too.
 */
async function approvingKey(d: Deps, userId: string) {
  const { results } = await d.keys.listWorking(userId, Date.now());
  const key = results.find((k) => !k.oauth_client_id && k.scopes.split(" ").includes("calls:write"));
  if (!key) throw unavailable("The IFTTT test user has no key that may place calls; link the test account again.");
  return actingAs(key);
}

/** A grant for IFTTT's client, as the consent page makes one, and its code exchanged at the token endpoint. */
async function mintToken(
  oauth: OAuthServer,
  d: Deps,
  userId: string,
  client: { id: string; secret: string; redirectUri: string },
): Promise<string> {
  const request: AuthRequest = {
    responseType: "code",
    clientId: client.id,
    redirectUri: client.redirectUri,
    scope: [...IFTTT_SCOPES],
    state: crypto.randomUUID(),
    resource: oauth.resourceUrl("v1"),
  };
  const { redirectTo } = await grantAccess(d, oauth, request, {
    userId,
    clientName: "IFTTT",
    scopes: [...IFTTT_SCOPES],
    callsPerHour: APP_CALLS_PER_HOUR.default,
    approvedBy: await approvingKey(d, userId),
  });
  const code = new URL(redirectTo).searchParams.get("code") ?? "";
  const res = await oauth.server.fetch(
    new Request(`${oauth.issuer}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: client.redirectUri,
        client_id: client.id,
        client_secret: client.secret,
      }),
    }),
    oauth.env,
    { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} } as unknown as ExecutionContext,
  );
  const body = (await res.json()) as { access_token?: string };
  if (!res.ok || !body.access_token) throw unavailable("The IFTTT test user's token could not be minted.");
  return body.access_token;
}
