import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";

/**
 * An MCP client's side of OAuth, headless: the SDK's own flow (401 → protected-resource metadata →
 * server metadata → DCR or CIMD → authorize → token with `resource`), with what an app would keep
 * in memory, and the authorization URL it would open in a browser. Used by the workers tests and
 * the e2e tests alike, so it needs nothing but fetch.
 */
export class HeadlessApp implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  private info: OAuthClientInformationMixed | undefined;
  private saved: OAuthTokens | undefined;
  private verifier = "";

  constructor(
    readonly redirectUrl: string,
    readonly clientName = "Headless MCP client",
    /** An https URL serving this app's Client ID Metadata Document: with it, the app uses CIMD instead of DCR. */
    readonly clientMetadataUrl?: string,
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.clientName,
      redirect_uris: [this.redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** The CIMD document an app serves at its client id URL. */
export const clientMetadataDocument = (clientId: string, redirectUrl: string, name: string) => ({
  client_id: clientId,
  client_name: name,
  redirect_uris: [redirectUrl],
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  token_endpoint_auth_method: "none",
});

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/**
 * A person's browser, as far as OAuth needs one: it keeps cookies per host, follows redirects until
 * it leaves the bridge (the app's redirect URI), fills in the sandbox's sign-in form, and answers
 * the consent page. `headers` go with every request (the workers tests give each person an address).
 */
export class Browser {
  private jar = new Map<string, Map<string, string>>();
  constructor(
    private readonly fetchFn: Fetch,
    private readonly headers: Record<string, string> = {},
  ) {}

  private cookieHeader(url: URL): string {
    return [...(this.jar.get(url.host) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  private keep(url: URL, res: Response) {
    const jar = this.jar.get(url.host) ?? new Map<string, string>();
    for (const line of res.headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === "";
      if (gone) jar.delete(name);
      else jar.set(name, value);
    }
    this.jar.set(url.host, jar);
  }

  /** One request, cookies sent and kept; no redirect followed. */
  async request(url: URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers({ ...this.headers, ...(init.headers as Record<string, string>) });
    const cookie = this.cookieHeader(url);
    if (cookie) headers.set("cookie", cookie);
    const res = await this.fetchFn(url.toString(), { ...init, headers, redirect: "manual" });
    this.keep(url, res);
    return res;
  }

  /** Follows redirects while they stay on `within` origins; answers the last page, or the redirect that leaves. */
  async follow(start: URL, within: string[], init: RequestInit = {}): Promise<{ url: URL; res: Response }> {
    let url = start;
    let res = await this.request(url, init);
    for (let hops = 0; hops < 10 && res.status >= 300 && res.status < 400; hops++) {
      const next = new URL(res.headers.get("location") ?? "", url);
      if (!within.includes(next.origin)) return { url: next, res };
      url = next;
      res = await this.request(url);
    }
    return { url, res };
  }

  /**
   * Submits a form of the page (the one posting to `action`, else the first) with these fields
   * added to its hidden ones, as the page's own origin would.
   */
  async submit(
    page: { url: URL; html: string },
    fields: Record<string, string | string[]>,
    within: string[],
    action?: string,
  ) {
    const forms = [...page.html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
    const form = forms.find((f) => action === undefined || unescapeHtml(f[1] ?? "") === action);
    if (!form) throw new Error(`no form${action ? ` posting to ${action}` : ""} on ${page.url}`);
    const body = new URLSearchParams();
    for (const [, name, value] of (form[2] ?? "").matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
      body.append(name ?? "", unescapeHtml(value ?? ""));
    for (const [name, value] of Object.entries(fields))
      for (const one of Array.isArray(value) ? value : [value]) body.append(name, one);
    return this.follow(new URL(unescapeHtml(form[1] ?? ""), page.url), within, {
      method: "POST",
      body,
      headers: { "content-type": "application/x-www-form-urlencoded", origin: page.url.origin },
    });
  }
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&#38;|&amp;/g, "&")
    .replace(/&#34;|&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">");

/**
 * What the person does after the app opened its authorization URL: sign in with KallyAI (the
 * sandbox's form) if the bridge asks, then Allow (or Deny) on the consent page. Answers where the
 * bridge sent the browser back to the app, and the consent page it showed.
 */
export async function signInAndConsent(
  browser: Browser,
  authorizationUrl: URL,
  opts: {
    email: string;
    decision?: "approve" | "deny";
    scopes?: string[];
    callsPerHour?: string;
    /** KallyAI's origin, when it is not the bridge's (the workers tests' sandbox). */
    signInOrigin?: string;
  },
): Promise<{ redirect: URL; consentHtml: string }> {
  const bridge = authorizationUrl.origin;
  const within = [bridge, ...(opts.signInOrigin ? [opts.signInOrigin] : [])];
  let { url, res } = await browser.follow(authorizationUrl, within);
  let html = await res.text();
  if (url.pathname.endsWith("/v1/auth/cli")) {
    ({ url, res } = await browser.submit({ url, html }, { email: opts.email }, within));
    html = await res.text();
  }
  if (url.pathname !== "/authorize" || res.status !== 200)
    throw new Error(`expected the consent page, got ${res.status} at ${url}:\n${html.slice(0, 500)}`);
  const scopes = opts.scopes ?? [...html.matchAll(/name="scope" value="([^"]+)"/g)].map((m) => m[1] ?? "");
  const answer = await browser.submit(
    { url, html },
    { decision: opts.decision ?? "approve", scope: scopes, calls_per_hour: opts.callsPerHour ?? "20" },
    [bridge],
    "/authorize",
  );
  if (answer.url.origin === bridge)
    throw new Error(`the consent answer stayed on the bridge: ${answer.res.status} ${await answer.res.text()}`);
  return { redirect: answer.url, consentHtml: html };
}
