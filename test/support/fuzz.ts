import { env } from "cloudflare:workers";
import fc from "fast-check";
import { expect } from "vitest";
import { app } from "../../src/app";
import { documentedStatuses } from "./documented-statuses";
import { BRIDGE_ORIGIN } from "./network";

/**
 * Property-based fuzzing of the API: generated requests (paths, path ids, query strings, bodies,
 * content types, Accept headers) must never answer ≥ 500, and every 4xx must be the JSON error
 * shape. Requests go to the app's fetch directly (the worker's exports.default.fetch gets slower
 * with every request of a file).
 */

export interface Endpoint {
  method: string;
  /** With `{id}` where a path id goes. */
  path: string;
  /** A valid body that generated fields are laid over, so requests also get past validation. */
  base?: Record<string, unknown>;
  /** Another API key to send instead of the fuzzing account's (e.g. one that may not unlink it). */
  apiKey?: string;
  /** Accept headers its clients send, tried as often as all the others together. */
  accepts?: string[];
}

export interface FuzzContext {
  apiKey: string;
  /** A receiver the test network answers 200 on (for webhook URLs). */
  receiverUrl: string;
  /** Real ids to put in paths now and then, so requests also reach past the "not found". */
  ids: string[];
}

export interface FuzzRequest {
  endpoint: Endpoint;
  id: string;
  query: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** Values no schema expects: objects that break String(), prototypes' names, deep nesting, huge numbers. */
const hostile = fc.constantFrom<unknown>(
  { toString: 1 },
  { toString: null },
  { valueOf: null, toString: null },
  JSON.parse('{"__proto__": {"a": 1}}'),
  [],
  [[]],
  [{}],
  {},
  null,
  true,
  1e308,
  -0,
  Number.MAX_SAFE_INTEGER + 2,
  "",
  " ",
  "\u0000",
  "a\nb",
  "9:41\u202fPM",
  "{{constructor}}",
  "{{__proto__}}",
  "constructor",
  "__proto__",
  "x".repeat(5000),
  "+14155551234",
  "911",
  "(415) 555-1234",
  "2026-02-30",
  "America/New_York",
);

const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostile },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.integer() },
);

/** Field names of every write endpoint, plus prototype names and nonsense. */
const FIELDS = [
  "phone",
  "task",
  "category",
  "language",
  "call_language",
  "name",
  "business",
  "party_size",
  "date",
  "time",
  "time_preference",
  "timezone",
  "user_phone",
  "urgent",
  "instructions",
  "country",
  "idempotency_key",
  "submission",
  "value1",
  "value2",
  "value3",
  "refresh_token",
  "key_name",
  "scopes",
  "expires_in",
  "calls_per_hour",
  "kind",
  "url",
  "event",
  "key",
  "events",
  "description",
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "wait",
  "format",
];
const fieldName = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...FIELDS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

const fields = fc.dictionary(fieldName, value, { maxKeys: 8 });

function formEncode(obj: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) params.append(k, typeof v === "string" ? v : (JSON.stringify(v) ?? ""));
  return params.toString();
}

const BOUNDARY = "fuzzboundary";
function multipart(obj: Record<string, unknown>): string {
  return Object.entries(obj)
    .map(
      ([k, v]) =>
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k.replace(/"/g, "")}"\r\n\r\n${typeof v === "string" ? v : JSON.stringify(v)}\r\n`,
    )
    .join("")
    .concat(`--${BOUNDARY}--\r\n`);
}

/** A body and the Content-Type it is sent with (which may not match it). */
const body: fc.Arbitrary<{ type: string | undefined; text: string | undefined }> = fc.oneof(
  { weight: 6, arbitrary: fields.map((f) => ({ type: "application/json", text: JSON.stringify(f) })) },
  { weight: 2, arbitrary: fields.map((f) => ({ type: "application/x-www-form-urlencoded", text: formEncode(f) })) },
  {
    weight: 1,
    arbitrary: fields.map((f) => ({ type: `multipart/form-data; boundary=${BOUNDARY}`, text: multipart(f) })),
  },
  {
    weight: 1,
    arbitrary: fc.jsonValue().map((v) => ({ type: "application/json; charset=utf-8", text: JSON.stringify(v) })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.option(
        fc.constantFrom(
          "application/json",
          "text/plain",
          "application/xml",
          "multipart/form-data",
          "application/x-www-form-urlencoded",
          "application/merge-patch+json",
          "}{",
          "application/json;;;",
        ),
        { nil: undefined },
      ),
      text: fc.option(
        fc.oneof(
          fc.string({ unit: "binary", maxLength: 200 }),
          fc.constantFrom("{", "[1,2]", "null", '{"a":', "\u0000", '{"__proto__":{"x":1}}'),
        ),
        { nil: undefined },
      ),
    }),
  },
);

const ACCEPTS = [
  "application/json",
  "application/json,text/html,application/xhtml+xml,application/xml,text/*;q=0.9, image/*;q=0.8, */*;q=0.7",
  "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "text/html",
  "text/plain",
  "*/*",
  "",
  "application/json;q=0, text/html",
  "garbage;;q=x",
];

/** Ids as a path segment: real ones, plausible ones and hostile ones (NUL, LF, unicode, dots, very long). */
const pathId = (ctx: FuzzContext) =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...ctx.ids) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "x\u0000y",
        "x\ny",
        "x\r\nSet-Cookie: a=b",
        "..",
        "%",
        "%00",
        "a/b",
        " ",
        "é",
        "9:41\u202fPM",
        "x".repeat(300),
        "00000000-0000-0000-0000-000000000000",
      ),
    },
    { weight: 3, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 60 }) },
  );

const STATUS_WORDS = ["success", "no_answer", "queued", "bogus", "", "expired"];
const queryValue = fc.oneof(
  fc.constantFrom("0", "1", "-1", "25", "100", "1e9", "abc", "text", "json", "true", "", "\u0000"),
  fc.string({ unit: "binary", maxLength: 20 }),
);
const query = fc
  .tuple(
    fc.dictionary(
      fc.constantFrom(
        "limit",
        "cursor",
        "offset",
        "type",
        "format",
        "redirect",
        "value1",
        "phone",
        "task",
        "x",
        "constructor",
      ),
      queryValue,
      { maxKeys: 4 },
    ),
    fc.option(fc.array(fc.constantFrom(...STATUS_WORDS), { minLength: 1, maxLength: 150 }), { nil: undefined }),
    fc.option(fc.constantFrom("0", "x", "-3", "26"), { nil: undefined }),
  )
  .map(([params, status, wait]) => {
    const q = new URLSearchParams(params as Record<string, string>);
    if (status) q.set("status", status.join(","));
    if (wait !== undefined) q.set("wait", wait); // never a real wait: it would hold the request for seconds
    const text = q.toString();
    return text ? `?${text}` : "";
  });

/** Mostly generated bodies; for an endpoint with a base, often its valid body with a few fields changed. */
const bodyFor = (endpoint: Endpoint) =>
  endpoint.base
    ? fc.oneof(
        body,
        fc
          .dictionary(fieldName, value, { maxKeys: 2 })
          .map((changes) => ({ type: "application/json", text: JSON.stringify({ ...endpoint.base, ...changes }) })),
      )
    : body;

export function fuzzRequests(endpoints: Endpoint[], ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  return fc
    .constantFrom(...endpoints)
    .chain((endpoint) =>
      fc.record({
        endpoint: fc.constant(endpoint),
        id: pathId(ctx),
        query,
        body: bodyFor(endpoint),
        accept: endpoint.accepts
          ? fc.oneof(fc.constantFrom(...endpoint.accepts), fc.constantFrom(...ACCEPTS))
          : fc.constantFrom(...ACCEPTS),
        auth: fc.constantFrom("bearer", "bearer", "bearer", "x-api-key", "none", "garbage"),
        idempotencyKey: fc.option(fc.string({ unit: "binary-ascii", maxLength: 80 }), { nil: undefined }),
      }),
    )
    .map(({ endpoint, id, query: q, body: b, accept, auth, idempotencyKey }) => {
      const headers: Record<string, string> = {};
      if (accept) headers.accept = accept;
      const apiKey = endpoint.apiKey ?? ctx.apiKey;
      if (auth === "bearer") headers.authorization = `Bearer ${apiKey}`;
      if (auth === "x-api-key") headers["x-api-key"] = apiKey;
      if (auth === "garbage") headers.authorization = "Bearer eyJhbGciOiJub25lIn0.e30.";
      if (idempotencyKey !== undefined) headers["idempotency-key"] = idempotencyKey.replace(/[\r\n\0]/g, "");
      const hasBody = endpoint.method !== "GET" && endpoint.method !== "HEAD";
      if (hasBody && b.type) headers["content-type"] = b.type;
      return { endpoint, id, query: q, headers, body: hasBody ? b.text : undefined };
    });
}

export const urlOf = (r: FuzzRequest) =>
  BRIDGE_ORIGIN + r.endpoint.path.replace("{id}", encodeURIComponent(r.id)) + r.query;

const ctx = {
  waitUntil: () => undefined,
  passThroughOnException: () => undefined,
  props: {},
} as unknown as ExecutionContext;

/** Sends one generated request and checks the answer; returns its status. */
export async function sendAndCheck(r: FuzzRequest): Promise<number> {
  const request = new Request(urlOf(r), { method: r.endpoint.method, headers: r.headers, body: r.body });
  const res = await app.fetch(request, env, ctx);
  const what = `${r.endpoint.method} ${urlOf(r)} ${JSON.stringify(r.headers)} ${r.body?.slice(0, 300)}`;
  expect(res.status, what).toBeLessThan(500);
  expect(res.headers.get("x-request-id"), what).toBeTruthy();
  const type = res.headers.get("content-type") ?? "";
  if (r.endpoint.method === "HEAD") {
    expect(type, what).not.toMatch(/^text\/html/);
  } else if (res.status >= 400) {
    const browserPage = /^\/(t|auth)\//.test(new URL(request.url).pathname) && type.startsWith("text/html");
    if (browserPage) {
      expect(await res.text(), what).toContain("<h1>");
    } else {
      expect(type, what).toMatch(/^application\/json/);
      const parsed = (await res.json()) as { jsonrpc?: string; error?: { code?: unknown; message?: unknown } };
      // MCP's transport answers protocol errors the JSON-RPC way (a numeric code), as MCP clients expect.
      const jsonRpc = r.endpoint.path === "/mcp" && parsed.jsonrpc === "2.0";
      expect(typeof parsed.error?.code, what).toBe(jsonRpc ? "number" : "string");
      expect(typeof parsed.error?.message, what).toBe("string");
    }
  } else {
    await res.arrayBuffer();
  }
  const documented = await documentedStatuses(r.endpoint.method, new URL(request.url).pathname);
  if (documented && !documented.has("default"))
    expect([...documented], `undocumented status: ${what}`).toContain(String(res.status));
  return res.status;
}

/** Whether some generated requests were answered 2xx: they got past the key check to the endpoint. */
export const reachedPastTheKey = (statuses: Map<number, number>) =>
  [...statuses.keys()].some((status) => status >= 200 && status < 300);

/** Runs `runs` generated requests; answers how many were sent and the statuses seen. */
export async function fuzz(
  endpoints: Endpoint[],
  context: FuzzContext,
  runs: number,
): Promise<{ sent: number; statuses: Map<number, number> }> {
  const statuses = new Map<number, number>();
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(fuzzRequests(endpoints, context), async (r) => {
      const status = await sendAndCheck(r);
      sent++;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }),
    { numRuns: runs, endOnFailure: true },
  );
  return { sent, statuses };
}
