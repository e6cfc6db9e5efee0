import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { DEV_IFTTT_SERVICE_KEY } from "../../src/env";
import { BRIDGE_ORIGIN } from "../support/network";

// Property-based fuzzing of IFTTT's Service API (/ifttt/v1): generated paths, credentials, bodies
// and content types. Every answer is under 500 and carries X-Request-Id; every error has IFTTT's
// shape (`{"errors": [{"message", "status"?: "SKIP"}]}`) with a status IFTTT knows.
const RUNS = 1200;

const hostile = fc.constantFrom<unknown>(
  "",
  " ",
  "\u0000",
  "x".repeat(5000),
  "911",
  "112",
  "+14155550100",
  "(415) 555-0123",
  "any",
  "succeeded",
  "failed",
  "restaurant",
  "en",
  "xx",
  "2026-02-30",
  "25:00",
  "__proto__",
  "constructor",
  "<script>alert(1)</script>",
  null,
  true,
  -1,
  0,
  1,
  3,
  50,
  1e308,
  Number.MAX_SAFE_INTEGER + 2,
  [],
  [[]],
  {},
  { toString: null },
  JSON.parse('{"__proto__": {"polluted": 1}}'),
);
const anything = fc.oneof(
  { weight: 3, arbitrary: hostile },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
);
const FIELDS = ["outcome", "phone", "task", "category", "business", "name", "party_size", "date", "time", "language"];
const fields = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(fc.constantFrom(...FIELDS), anything, { maxKeys: 6 }) },
  { weight: 1, arbitrary: anything },
);
const PATHS = [
  "/status",
  "/test/setup",
  "/user/info",
  "/triggers/call_finished",
  "/triggers/call_finished_from_number",
  "/triggers/nope",
  "/triggers/call_finished/trigger_identity/{id}",
  "/actions/place_call",
  "/actions/nope",
  "/actions/place_call/fields/category/options",
  "/actions/place_call/fields/language/options",
  "/actions/place_call/fields/phone/validate",
  "/triggers/call_finished/fields/outcome/options",
  "/triggers/call_finished_from_number/fields/phone/validate",
  "/actions/place_call/fields/{id}/validate",
  "/{id}",
];

interface Sent {
  path: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

const request = (token: string) =>
  fc
    .record({
      path: fc.constantFrom(...PATHS),
      id: fc.oneof(fc.constantFrom("ti-1", "%00", "..", "a".repeat(300), "%E2%80%A6"), fc.string({ maxLength: 20 })),
      method: fc.oneof(
        { weight: 10, arbitrary: fc.constant("POST") },
        { weight: 2, arbitrary: fc.constantFrom("GET", "DELETE") },
        { weight: 1, arbitrary: fc.constantFrom("PUT", "PATCH") },
      ),
      auth: fc.constantFrom("token", "token", "token", "service", "none", "bad", "api-key-like"),
      body: fc.record(
        {
          trigger_identity: anything,
          triggerFields: fields,
          actionFields: fields,
          limit: anything,
          value: anything,
          user: anything,
          ifttt_source: anything,
          extra: anything,
        },
        { requiredKeys: [] },
      ),
      raw: fc.option(fc.constantFrom("{", "[]", "null", "\u0000", '"x"', "1"), { nil: undefined }),
      type: fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", ""),
    })
    .map(({ path, id, method, auth, body, raw, type }): Sent => {
      const headers: Record<string, string> = type ? { "content-type": type } : {};
      if (auth === "token") headers.authorization = `Bearer ${token}`;
      if (auth === "service") headers["ifttt-service-key"] = DEV_IFTTT_SERVICE_KEY;
      if (auth === "bad") headers.authorization = "Bearer a:b:c";
      if (auth === "api-key-like") headers.authorization = "Bearer eyJ.eyJ.sig";
      const safeId = encodeURIComponent(id).slice(0, 300);
      return {
        path: `/ifttt/v1${path.replace("{id}", safeId)}`,
        method,
        headers,
        body: method === "GET" ? undefined : (raw ?? JSON.stringify(body)),
      };
    });

const ctx = {
  waitUntil: () => undefined,
  passThroughOnException: () => undefined,
  props: {},
} as unknown as ExecutionContext;

async function sendAndCheck(r: Sent): Promise<number> {
  const res = await app.fetch(
    new Request(BRIDGE_ORIGIN + r.path, { method: r.method, headers: r.headers, body: r.body }),
    env,
    ctx,
  );
  const what = `${r.method} ${r.path} ${JSON.stringify(r.headers)} ${r.body?.slice(0, 300)}`;
  expect(res.status, what).toBeLessThan(500);
  expect(res.headers.get("x-request-id"), what).toBeTruthy();
  if (res.status >= 400) {
    expect([400, 401, 404], what).toContain(res.status);
    expect(res.headers.get("content-type"), what).toMatch(/^application\/json/);
    const body = (await res.json()) as { errors?: Array<{ message?: unknown; status?: unknown }> };
    expect(body.errors, what).toHaveLength(1);
    expect(typeof body.errors?.[0]?.message, what).toBe("string");
    if (body.errors?.[0]?.status !== undefined) expect(body.errors[0].status, what).toBe("SKIP");
  } else {
    await res.arrayBuffer();
  }
  return res.status;
}

describe("fuzzing IFTTT's Service API", () => {
  it(`${RUNS} generated requests: never a 5xx, every error in IFTTT's shape with a status IFTTT knows`, {
    timeout: 600_000,
  }, async () => {
    const setup = await app.fetch(
      new Request(`${BRIDGE_ORIGIN}/ifttt/v1/test/setup`, {
        method: "POST",
        headers: { "ifttt-service-key": DEV_IFTTT_SERVICE_KEY },
      }),
      env,
      ctx,
    );
    const token = ((await setup.json()) as { data: { accessToken: string } }).data.accessToken;
    const statuses = new Map<number, number>();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(request(token), async (r) => {
        const status = await sendAndCheck(r);
        sent++;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    console.log(`fuzz ifttt: ${sent} requests`, Object.fromEntries(statuses));
    expect(sent).toBe(RUNS);
    // Some got through, some were refused as input, some for their credentials.
    for (const status of [200, 400, 401, 404]) expect(statuses.has(status)).toBe(true);
  });
});
