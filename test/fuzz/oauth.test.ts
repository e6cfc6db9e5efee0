import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { documentedStatuses } from "../support/documented-statuses";
import { API_RESOURCE, connectApp, ISSUER, MCP_RESOURCE, registerClient, tokensFor } from "../support/oauth";

// Property-based fuzzing of the OAuth endpoints: registration, token (codes, refreshes) and
// revocation. Every answer is under 500, carries X-Request-Id, and every error has OAuth's shape
// (`{"error": "<code>", "error_description"?: "…"}`), with a status the OpenAPI document lists.
const RUNS = 1500;

const hostile = fc.constantFrom<unknown>(
  "",
  " ",
  "\u0000",
  "a\nb",
  "x".repeat(5000),
  "javascript:alert(1)",
  "http://evil.example/cb",
  "https://evil.example/cb#frag",
  "https://user:pass@evil.example/cb",
  "//evil.example",
  "https://app.example/callback",
  "http://127.0.0.1:1/cb",
  "urn:ietf:wg:oauth:2.0:oob",
  "com.example.app:/cb",
  "<script>alert(1)</script>",
  "__proto__",
  "constructor",
  "a:b:c",
  "u:g:s",
  ":::",
  "S256",
  "plain",
  "none",
  "client_secret_basic",
  "private_key_jwt",
  "authorization_code",
  "refresh_token",
  "urn:ietf:params:oauth:grant-type:token-exchange",
  "calls:read account:manage",
  "offline_access",
  MCP_RESOURCE,
  API_RESOURCE,
  `${ISSUER}/other`,
  null,
  true,
  1e308,
  [],
  {},
  { toString: null },
  JSON.parse('{"__proto__": {"polluted": 1}}'),
);
const text = fc.oneof(
  { weight: 3, arbitrary: hostile.filter((v): v is string => typeof v === "string") },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
);
const anything = fc.oneof(
  { weight: 3, arbitrary: hostile },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(text, { maxLength: 4 }) },
);

const REGISTRATION_FIELDS = [
  "client_name",
  "redirect_uris",
  "grant_types",
  "response_types",
  "token_endpoint_auth_method",
  "token_endpoint_auth_methods_supported",
  "client_uri",
  "logo_uri",
  "policy_uri",
  "tos_uri",
  "jwks",
  "jwks_uri",
  "scope",
  "contacts",
  "software_statement",
  "client_id",
  "client_secret",
];
const TOKEN_FIELDS = [
  "grant_type",
  "code",
  "redirect_uri",
  "code_verifier",
  "refresh_token",
  "client_id",
  "client_secret",
  "client_assertion",
  "client_assertion_type",
  "resource",
  "scope",
  "token",
  "token_type_hint",
  "subject_token",
  "assertion",
];

interface Sent {
  path: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** Registration bodies: mostly JSON metadata with hostile values, sometimes not JSON at all. */
const registration: fc.Arbitrary<Sent> = fc
  .record({
    fields: fc.dictionary(fc.constantFrom(...REGISTRATION_FIELDS), anything, { maxKeys: 6 }),
    base: fc.boolean(),
    type: fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "text/plain",
      "application/x-www-form-urlencoded",
      "",
    ),
    raw: fc.option(fc.constantFrom("{", "[]", "null", "\u0000", '{"redirect_uris": "x"}'), { nil: undefined }),
    method: fc.oneof(
      { weight: 12, arbitrary: fc.constant("POST") },
      { weight: 1, arbitrary: fc.constantFrom("GET", "PUT", "DELETE") },
    ),
  })
  .map(({ fields, base, type, raw, method }) => {
    const metadata = base ? { redirect_uris: ["https://app.example/callback"], ...fields } : fields;
    const headers: Record<string, string> = type ? { "content-type": type } : {};
    return {
      path: "/oauth/register",
      method,
      headers,
      body: method === "GET" ? undefined : (raw ?? JSON.stringify(metadata)),
    };
  });

/** Token and revocation requests: forms of real-looking and hostile values, with or without Basic auth. */
const tokenRequest = (ctx: { clientId: string; code: string; refresh: string; access: string }) =>
  fc
    .record({
      fields: fc.dictionary(
        fc.constantFrom(...TOKEN_FIELDS),
        fc.oneof(text, fc.constantFrom(ctx.clientId, ctx.code, ctx.refresh, ctx.access)),
        { maxKeys: 7 },
      ),
      repeated: fc.option(fc.constantFrom(...TOKEN_FIELDS), { nil: undefined }),
      basic: fc.option(
        fc.oneof(fc.constant(btoa(`${ctx.clientId}:x`)), fc.string({ maxLength: 20 }), fc.constant("%%%")),
        {
          nil: undefined,
        },
      ),
      type: fc.constantFrom(
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded",
        "application/json",
        "text/plain",
        "",
      ),
      method: fc.oneof(
        { weight: 12, arbitrary: fc.constant("POST") },
        { weight: 1, arbitrary: fc.constantFrom("GET", "PATCH") },
      ),
    })
    .map(({ fields, repeated, basic, type, method }) => {
      const form = new URLSearchParams(fields as Record<string, string>);
      if (repeated) form.append(repeated, "again");
      const headers: Record<string, string> = type ? { "content-type": type } : {};
      if (basic !== undefined) headers.authorization = `Basic ${basic}`;
      return { path: "/oauth/token", method, headers, body: method === "GET" ? undefined : form.toString() };
    });

/** Revocations (RFC 7009): a token of the app's or not, its client or another, any hint. */
const revocation = (c: { clientId: string; refresh: string; access: string }) =>
  fc
    .record({
      token: fc.oneof(fc.constantFrom(c.access, c.refresh), text),
      client_id: fc.oneof(fc.constant(c.clientId), text),
      hint: fc.option(fc.oneof(fc.constantFrom("access_token", "refresh_token"), text), { nil: undefined }),
    })
    .map(({ token, client_id, hint }): Sent => {
      const form = new URLSearchParams({ token, client_id });
      if (hint !== undefined) form.set("token_type_hint", hint);
      return {
        path: "/oauth/token",
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form.toString(),
      };
    });

const ctx = {
  waitUntil: () => undefined,
  passThroughOnException: () => undefined,
  props: {},
} as unknown as ExecutionContext;

async function sendAndCheck(r: Sent): Promise<number> {
  const request = new Request(ISSUER + r.path, { method: r.method, headers: r.headers, body: r.body });
  const res = await app.fetch(request, env, ctx);
  const what = `${r.method} ${r.path} ${JSON.stringify(r.headers)} ${r.body?.slice(0, 300)}`;
  expect(res.status, what).toBeLessThan(500);
  expect(res.headers.get("x-request-id"), what).toBeTruthy();
  if (res.status >= 400) {
    expect(res.headers.get("content-type"), what).toMatch(/^application\/json/);
    const body = (await res.json()) as { error?: unknown; error_description?: unknown };
    expect(typeof body.error, what).toBe("string");
    expect(body.error, what).toMatch(/^[a-z_]+$/);
    if (body.error_description !== undefined) expect(typeof body.error_description, what).toBe("string");
  } else {
    await res.arrayBuffer();
  }
  const documented = await documentedStatuses(r.method, r.path);
  if (documented && !documented.has("default"))
    expect([...documented], `undocumented status: ${what}`).toContain(String(res.status));
  return res.status;
}

describe("fuzzing the OAuth endpoints", () => {
  it(`${RUNS} generated registrations, token requests and revocations: never a 5xx, every error OAuth-shaped`, {
    timeout: 600_000,
  }, async () => {
    const c = await connectApp();
    const tokens = await tokensFor(c);
    const fresh = await connectApp({ user: c.user });
    const other = await registerClient();
    const context = {
      clientId: other.client_id,
      code: fresh.code,
      refresh: tokens.refresh_token,
      access: tokens.access_token,
    };
    const statuses = new Map<number, number>();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          registration,
          tokenRequest(context),
          tokenRequest({ ...context, clientId: c.clientId }),
          revocation({ ...context, clientId: c.clientId }),
        ),
        async (r) => {
          const status = await sendAndCheck(r);
          sent++;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        },
      ),
      { numRuns: RUNS, endOnFailure: true },
    );
    console.log(`fuzz oauth: ${sent} requests`, Object.fromEntries(statuses));
    expect(sent).toBe(RUNS);
    // Some got through: registrations were made (201), revocations answered (200).
    expect(statuses.has(201)).toBe(true);
    expect(statuses.has(200)).toBe(true);
    expect(statuses.has(400)).toBe(true);
  });
});
