import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import Ajv from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEV_IFTTT_SERVICE_KEY as serviceKey } from "../../src/env";
import { type DevServer, freePort, startDevServer, until } from "./dev-server";

/**
 * A replica of IFTTT's endpoint tests (IFTTT's testing doc: status, test setup, user info, each
 * trigger with limit 0, 1, 3 and the default, extra data and a bad token, the action valid,
 * skipped and with a bad token, field options and validation, trigger identity deletion) against
 * `npm run dev`, with a loopback receiver standing in for IFTTT's realtime endpoint.
 *
 * Every answer is validated against IFTTT's own Service API definition, vendored unchanged in
 * fixtures/ifttt-service-api (see its NOTICE.md): the status must be one the operation lists and
 * the JSON body must match its schema. Two departures, both where the definition contradicts
 * IFTTT's API reference: ingredients (TriggerEvent's additional properties) may be strings or
 * numbers, not only objects; and DELETE …/trigger_identity/{id}, which the definition lacks, is
 * held to the reference's "200" only.
 */

type Json = Record<string, any>;
const spec = parse(readFileSync("test/e2e/fixtures/ifttt-service-api/service-api.yaml", "utf8")) as Json;
spec.components.schemas.TriggerEvent.additionalProperties = { type: ["string", "number", "boolean", "object"] };
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat("int32", true);
ajv.addSchema({ ...spec, $id: "ifttt" });

/** The answer's status is one IFTTT's definition lists for the operation, and its body matches that status's schema. */
async function conforms(res: Response, path: string, method: string): Promise<Json> {
  const op = spec.paths[path]?.[method] as Json | undefined;
  if (!op) throw new Error(`${method} ${path} is not in IFTTT's definition`);
  expect(Object.keys(op.responses), `${method} ${path}`).toContain(String(res.status));
  const text = await res.text();
  const body = text ? (JSON.parse(text) as Json) : {};
  const response = op.responses[String(res.status)] as Json;
  const ref = (response.$ref as string | undefined) ?? null;
  const resolved = ref ? (spec.components.responses[ref.split("/").at(-1) as string] as Json) : response;
  const schema = resolved.content?.["application/json"]?.schema as Json | undefined;
  if (schema) {
    const validate = ajv.compile({ $ref: `ifttt${schema.$ref}` });
    expect(validate(body), `${method} ${path} ${res.status}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  }
  return body;
}

let dev: DevServer;
let receiver: Server;
const notifications: Array<{ key: string | undefined; body: Json }> = [];

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let data = "";
    req.on("data", (chunk) => (data += chunk));
    req.on("end", () => resolve(data));
  });

beforeAll(async () => {
  const port = await freePort();
  receiver = createServer(async (req, res) => {
    notifications.push({
      key: req.headers["ifttt-service-key"] as string | undefined,
      body: JSON.parse(await readBody(req)),
    });
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => receiver.listen(port, "127.0.0.1", resolve));
  dev = await startDevServer([
    "--var",
    `IFTTT_REALTIME_URL:http://127.0.0.1:${port}/v1/notifications`,
    "SANDBOX_CALL_SECONDS:2",
  ]);
}, 180_000);

afterAll(async () => {
  await dev?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

const request = (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  fetch(`${dev.origin}/ifttt/v1${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: {
      accept: "application/json",
      "accept-charset": "utf-8",
      "content-type": "application/json",
      "x-request-id": crypto.randomUUID(),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
const service = () => ({ "ifttt-service-key": serviceKey });
const user = (token: string) => ({ authorization: `Bearer ${token}` });
/** IFTTT's tests add keys a service must ignore. */
const EXTRA = {
  unknown_key: "x",
  ifttt_source: { id: "2", url: "https://ifttt.com/applets/2" },
  user: { timezone: "UTC" },
};

describe("IFTTT's endpoint tests, against npm run dev", () => {
  let token = "";
  let samples: Json = {};

  it("status: 200 with the service key, 401 without it", async () => {
    await conforms(await request("/status", { headers: service() }), "/ifttt/v1/status", "get");
    const refused = await request("/status");
    expect(refused.status).toBe(401);
    await conforms(await request("/test/setup", { body: {} }), "/ifttt/v1/test/setup", "post");
  });

  it("test setup: an access token and samples", async () => {
    const res = await request("/test/setup", { body: {}, headers: service() });
    expect(res.status).toBe(200);
    const { data } = await conforms(res, "/ifttt/v1/test/setup", "post");
    token = data.accessToken;
    samples = data.samples;
    expect(token).toEqual(expect.any(String));
  });

  it("user info: the user's id and name; 401 for a bad token", async () => {
    const { data } = await conforms(
      await request("/user/info", { headers: user(token) }),
      "/ifttt/v1/user/info",
      "get",
    );
    expect(data.id).toMatch(/^usr_/);
    const bad = await request("/user/info", { headers: user("invalid:token:here") });
    expect(bad.status).toBe(401);
    await conforms(bad, "/ifttt/v1/user/info", "get");
  });

  for (const slug of ["call_finished", "call_finished_from_number"]) {
    it(`trigger ${slug}: limit default, 0, 1 and 3, extra data, a bad token`, async () => {
      const path = "/ifttt/v1/triggers/{stepSlug}";
      const poll = (extra: Json, headers = user(token)) =>
        request(`/triggers/${slug}`, {
          body: { trigger_identity: `e2e-${slug}`, triggerFields: samples.triggers[slug], ...EXTRA, ...extra },
          headers,
        });
      const all = (await conforms(await poll({}), path, "post")).data as Json[];
      expect(all.length).toBeGreaterThanOrEqual(3);
      for (const limit of [0, 1, 3]) {
        const items = (await conforms(await poll({ limit }), path, "post")).data as Json[];
        expect(items.map((i) => i.meta.id)).toEqual(all.slice(0, limit).map((i) => i.meta.id));
      }
      const bad = await poll({}, user("invalid:token:here"));
      expect(bad.status).toBe(401);
      await conforms(bad, path, "post");
    });
  }

  it("trigger field validation: the sample's valid and invalid values", async () => {
    const path = "/ifttt/v1/triggers/{stepSlug}/fields/{stepFieldSlug}/validate";
    const { valid, invalid } = samples.triggerFieldValidations.call_finished_from_number.phone;
    const ok = await request("/triggers/call_finished_from_number/fields/phone/validate", {
      body: { value: valid },
      headers: user(token),
    });
    expect((await conforms(ok, path, "post")).data.valid).toBe(true);
    const no = await request("/triggers/call_finished_from_number/fields/phone/validate", {
      body: { value: invalid },
      headers: user(token),
    });
    expect((await conforms(no, path, "post")).data).toMatchObject({ valid: false, message: expect.any(String) });
  });

  it("action field options: category and language", async () => {
    const path = "/ifttt/v1/actions/{stepSlug}/fields/{stepFieldSlug}/options";
    for (const field of ["category", "language"]) {
      const res = await request(`/actions/place_call/fields/${field}/options`, { body: {}, headers: user(token) });
      expect(((await conforms(res, path, "post")).data as Json[]).length).toBeGreaterThanOrEqual(2);
    }
  });

  it("action: skipped with status SKIP, refused with a bad token", async () => {
    const path = "/ifttt/v1/actions/{stepSlug}";
    const skipped = await request("/actions/place_call", {
      body: { actionFields: samples.actionRecordSkipping.place_call, ...EXTRA },
      headers: user(token),
    });
    expect(skipped.status).toBe(400);
    expect((await conforms(skipped, path, "post")).errors[0].status).toBe("SKIP");
    const bad = await request("/actions/place_call", {
      body: { actionFields: samples.actions.place_call, ...EXTRA },
      headers: user("invalid:token:here"),
    });
    expect(bad.status).toBe(401);
    await conforms(bad, path, "post");
  });

  it("action valid: the call it places is, once finished, the newest call_finished item, and IFTTT is notified in realtime", async () => {
    const identity = { trigger_identity: "e2e-realtime", triggerFields: { outcome: "any" }, ...EXTRA };
    await request("/triggers/call_finished", { body: identity, headers: user(token) });
    const me = (await (await request("/user/info", { headers: user(token) })).json()) as Json;
    const placed = await request("/actions/place_call", {
      body: { actionFields: samples.actions.place_call, ...EXTRA },
      headers: user(token),
    });
    const { data } = await conforms(placed, "/ifttt/v1/actions/{stepSlug}", "post");
    const callId = data[0].id as string;
    const newest = await until(
      "the placed call as call_finished's newest item",
      async () => {
        const res = await request("/triggers/call_finished", { body: { ...identity, limit: 1 }, headers: user(token) });
        const items = ((await res.json()) as Json).data as Json[];
        return items[0]?.call_id === callId ? items[0] : undefined;
      },
      90,
    );
    expect(newest.call_url).toBe(`${dev.origin}/console/calls/${callId}`);
    const notified = await until(
      "a realtime notification",
      async () => notifications.find((n) => n.body.data?.some((d: Json) => d.user_id === me.data.id)),
      30,
    );
    expect(notified.key).toBe(serviceKey);
    expect(notified.body).toEqual({ data: [{ user_id: me.data.id }] });
  }, 150_000);

  it("trigger identity deletion: 200", async () => {
    const res = await request("/triggers/call_finished/trigger_identity/e2e-call_finished", {
      method: "DELETE",
      headers: service(),
    });
    expect(res.status).toBe(200);
  });
});
