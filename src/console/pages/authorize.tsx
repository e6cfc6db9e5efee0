import {
  AuthorizationError,
  type AuthRequest,
  CimdFetchError,
  type ConsentDescription,
} from "@cloudflare/workers-oauth-provider";
import type { Context } from "hono";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type ConsoleSession, resolveSession } from "../../domain/console-sessions";
import { deps } from "../../domain/deps";
import type { Scope } from "../../domain/key-signing";
import {
  APP_CALLS_PER_HOUR,
  ensureConfiguredClients,
  fixedScopesFor,
  grantAccess,
  OAUTH_SCOPES,
  type OAuthServer,
  oauthServer,
  onIssuer,
  RESOURCES,
  resourceOf,
  tooLongForOAuth,
} from "../../domain/oauth";
import { ApiError, toApiError } from "../../errors";
import { COMMON_HEADERS, PAGE_HEADERS } from "../../http/security-headers";
import { Field, inputAttrs } from "../components";
import { Layout, render } from "../layout";
import { ErrorPage } from "../pages/error";
import { PAGE_CSP } from "../security";
import { type ConsoleEnv, checkCsrf, readSessionCookie, signInUrl } from "../session-middleware";
import { SCOPE_HELP } from "./keys";

/**
 * `/authorize`, the OAuth consent (docs/oauth.md): the person signs in with KallyAI if they have
 * no console session, then sees who asks, where the tokens go, what it may do and how many calls
 * an hour, and allows or denies. The library keeps the request server-side between the two
 * requests; the form carries only its handle, bound to this browser by a cookie.
 */
export const authorizePages = new Hono<ConsoleEnv>();

type Ctx = Context<ConsoleEnv>;

/**
 * The console's policy, except that the form may lead to the app's own redirect URI: browsers
 * hold a form's redirects to form-action too.
 */
function pageHeaders(formTarget?: string): Record<string, string> {
  const csp = formTarget ? PAGE_CSP.replace("form-action 'self'", `form-action 'self' ${formTarget}`) : PAGE_CSP;
  return {
    ...COMMON_HEADERS,
    ...PAGE_HEADERS,
    "content-security-policy": csp,
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
  };
}

async function page(c: Ctx, body: unknown, status: ContentfulStatusCode, headers: Record<string, string>) {
  return c.html(await render(body), status, headers);
}

/** A refusal shown here, never sent to an app that is not verified (consent-page.md's table). */
async function refusal(c: Ctx, err: unknown) {
  if (err instanceof AuthorizationError && err.redirectTo) return c.redirect(err.redirectTo, 302);
  let status: ContentfulStatusCode = 400;
  let message: string;
  if (err instanceof AuthorizationError) message = `${err.description}. Start again from the app.`;
  else if (err instanceof CimdFetchError)
    message = "This app could not be verified: its metadata document could not be fetched or is not valid.";
  else {
    const apiError = toApiError(err);
    status = apiError.status;
    message = apiError.message;
  }
  return page(c, <ErrorPage status={status} message={message} />, status, pageHeaders());
}

function requireOAuth(c: Ctx): OAuthServer {
  const server = oauthServer(c.env, c.req.url);
  if (!server) throw new ApiError(404, "not_found", "This bridge has no OAuth server: use an API key.");
  return server;
}

/** Where sign-in brings the person back to: this same request, its parameters re-encoded. */
const returnPath = (c: Ctx) => `/authorize?${new URLSearchParams(new URL(c.req.url).searchParams).toString()}`;

authorizePages.get("/authorize", async (c) => {
  try {
    const oauth = requireOAuth(c);
    if (tooLongForOAuth(c.req.query("client_id")))
      throw new ApiError(400, "bad_request", "This client id is longer than any this bridge knows.");
    await ensureConfiguredClients(oauth);
    const request = await oauth.api.parseAuthRequest(onIssuer(c.req.raw, oauth.issuer));
    const session = await resolveSession(deps(c.env), readSessionCookie(c));
    if (!session) return c.redirect(signInUrl(returnPath(c)), 303);
    const details = await oauth.api.describeConsent(request);
    const consent = await oauth.api.beginConsent(request);
    const headers = pageHeaders(new URL(request.redirectUri).origin);
    const res = await page(
      c,
      <ConsentPage details={details} request={request} oauth={oauth} handle={consent.handle} csrf={session.csrf} />,
      200,
      headers,
    );
    for (const cookie of consent.headers.getSetCookie()) res.headers.append("set-cookie", cookie);
    return res;
  } catch (err) {
    return refusal(c, err);
  }
});

authorizePages.post("/authorize", async (c) => {
  try {
    const oauth = requireOAuth(c);
    const d = deps(c.env);
    const session = await resolveSession(d, readSessionCookie(c));
    if (!session)
      throw new ApiError(401, "signed_out", "Your sign-in ended before you answered. Start again from the app.");
    c.set("session", session);
    await checkCsrf(c, async () => {});
    const form = await c.req.parseBody({ all: true });
    const handle = typeof form.handle === "string" ? form.handle : "";
    // The library reads only the browser's binding cookie here; the form was read above.
    const raw = new Request(onIssuer(new Request(c.req.url), oauth.issuer).url, { headers: c.req.raw.headers });
    if (form.decision !== "approve") {
      const denied = await oauth.api.denyConsent(raw, handle);
      return new Response(null, { status: 302, headers: denied.headers });
    }
    return await approve(c, oauth, session, raw, handle, form);
  } catch (err) {
    return refusal(c, err);
  }
});

async function approve(
  c: Ctx,
  oauth: OAuthServer,
  session: ConsoleSession,
  raw: Request,
  handle: string,
  form: Record<string, unknown>,
) {
  const ticked = [form.scope].flat().filter((s): s is string => typeof s === "string");
  let scopes = OAUTH_SCOPES.filter((s) => ticked.includes(s));
  const callsPerHour = Number(form.calls_per_hour);
  const problem =
    scopes.length === 0
      ? "Tick at least one thing the app may do, or Deny."
      : !Number.isInteger(callsPerHour) || callsPerHour < 1 || callsPerHour > APP_CALLS_PER_HOUR.max
        ? `Calls per hour must be a whole number from 1 to ${APP_CALLS_PER_HOUR.max}.`
        : null;
  if (problem) return page(c, <FixForm message={problem} back={sameOriginReferer(c)} />, 422, pageHeaders());
  const approved = await oauth.api.approveConsent(raw, handle, { scope: [...scopes] });
  // A client from configuration (IFTTT) gets its fixed scopes, whatever the form says (the page shows them without checkboxes).
  scopes = [...(fixedScopesFor(c.env, approved.request.clientId) ?? scopes)];
  const details = await oauth.api.describeConsent(approved.request);
  const { redirectTo } = await grantAccess(deps(c.env), oauth, approved.request, {
    userId: session.auth.userId,
    clientName: details.clientName,
    scopes,
    callsPerHour,
    approvedBy: session.auth,
  });
  approved.headers.set("location", redirectTo);
  return new Response(null, { status: 302, headers: approved.headers });
}

/** The consent page this form came from, to go back to (its handle is still unused). */
function sameOriginReferer(c: Ctx): string | null {
  const referer = URL.parse(c.req.header("referer") ?? "");
  return referer && referer.origin === new URL(c.req.url).origin && referer.pathname === "/authorize"
    ? referer.pathname + referer.search
    : null;
}

function FixForm({ message, back }: { message: string; back: string | null }) {
  return (
    <Layout title="Please check the form">
      <h1>Please check the form</h1>
      <p class="alert" role="alert">
        {message}
      </p>
      {back ? <a href={back}>Back to the consent page</a> : <p>Start again from the app.</p>}
    </Layout>
  );
}

/** The scopes to offer: those the app asked for that a connected app may have; all of them if it asked for none. */
function offeredScopes(requested: string[]): Scope[] {
  const asked = OAUTH_SCOPES.filter((s) => requested.includes(s));
  return asked.length ? asked : [...OAUTH_SCOPES];
}

function ConsentPage({
  details,
  request,
  oauth,
  handle,
  csrf,
}: {
  details: ConsentDescription;
  request: AuthRequest;
  oauth: OAuthServer;
  handle: string;
  csrf: string;
}) {
  const resource = resourceOf(new URL(request.resource ?? oauth.resourceUrl("v1")).pathname) ?? "v1";
  return (
    <Layout title={`Connect ${details.clientName}`}>
      <h1>Allow {details.clientName} to use your KallyAI account?</h1>
      <WhoAsks details={details} resourceName={RESOURCES[resource].name} resourceUrl={oauth.resourceUrl(resource)} />
      <form method="post" action="/authorize">
        <input type="hidden" name="handle" value={handle} />
        <input type="hidden" name="_csrf" value={csrf} />
        <ScopeChoice fixed={fixedScopesFor(oauth.env, request.clientId)} requested={details.scope} />
        <Field
          label="Calls per hour"
          name="calls_per_hour"
          hint="A runaway guard: the most calls this app may place in an hour."
        >
          <input
            {...inputAttrs("calls_per_hour", { hint: true })}
            type="number"
            inputmode="numeric"
            min="1"
            max={String(APP_CALLS_PER_HOUR.max)}
            step="1"
            required
            value={String(APP_CALLS_PER_HOUR.default)}
          />
        </Field>
        <p>
          <button type="submit" name="decision" value="approve">
            Allow
          </button>{" "}
          <button type="submit" name="decision" value="deny" class="secondary">
            Deny
          </button>
        </p>
      </form>
      <p class="small muted">
        It never gets to manage your keys or unlink your account. Revoke it any time under Connected apps in the
        console.
      </p>
    </Layout>
  );
}

/** Who the app is (as far as the bridge can tell), where access goes, and what it is for. */
function WhoAsks({
  details,
  resourceName,
  resourceUrl,
}: {
  details: ConsentDescription;
  resourceName: string;
  resourceUrl: string;
}) {
  return (
    <section class="card" aria-label="Who is asking">
      {details.clientDomain ? (
        <p>
          Published by <strong>{details.clientDomain}</strong>: its identity is a document on that domain.
        </p>
      ) : (
        <p>This app registered itself; its name is not verified.</p>
      )}
      <p>
        Access goes to <strong>{details.redirectHost}</strong>.
      </p>
      {details.redirectIsLoopback ? (
        <p class="alert" role="alert">
          This sends access to a program on your computer. Allow only if you started connecting from it just now.
        </p>
      ) : null}
      <p class="small muted">
        For the {resourceName} at <code>{resourceUrl}</code>.
      </p>
    </section>
  );
}

/** The scopes: fixed ones (a client from configuration) shown as they are, otherwise checkboxes. */
function ScopeChoice({ fixed, requested }: { fixed: readonly Scope[] | null; requested: string[] }) {
  return (
    <fieldset>
      <legend>It may</legend>
      {fixed
        ? fixed.map((scope) => (
            <p>
              <input type="hidden" name="scope" value={scope} />
              {SCOPE_HELP[scope]} (<code>{scope}</code>)
            </p>
          ))
        : offeredScopes(requested).map((scope) => (
            <label class="check">
              <input type="checkbox" name="scope" value={scope} checked />
              <span>
                {SCOPE_HELP[scope]} (<code>{scope}</code>)
              </span>
            </label>
          ))}
    </fieldset>
  );
}
