"use strict";

// `npm test` / `zapier-platform test` of the integration, offline: the definition is what Zapier
// accepts, and the operations run with Zapier's app tester against a stand-in bridge on loopback.
// (The root's test/e2e/zapier.test.ts runs every operation against a real `npm run dev`.)
// Zapier's core prints its memory use on every run unless it knows it is under test.
process.env.NODE_ENV = "test";
const assert = require("node:assert/strict");
const { createServer } = require("node:http");
const { after, before, describe, it } = require("node:test");
const { createAppTester } = require("zapier-platform-core");
const { validateAppDefinition } = require("zapier-platform-schema");
const { compileApp, serializeApp } = require("zapier-platform-core/src/tools/schema");
const App = require("../index");

const appTester = createAppTester(App);
const TOKEN = "test-access-token";
const EVENT = { id: "evt_latest", type: "call.completed", timestamp: "2026-01-28T18:03:52.410Z", data: { id: "c1" } };

/** The bridge's answers the operations below need: who the key is, and the events feed. */
let events = [];
const bridge = createServer((req, res) => {
  const json = (status, body) =>
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  if (req.headers.authorization !== `Bearer ${TOKEN}`)
    return json(401, { error: { code: "unauthorized", message: "Send a valid access token." } });
  const url = new URL(req.url, "http://bridge");
  if (url.pathname === "/v1/me") return json(200, { linked: true, user_id: "usr_1", key: { name: "Zapier" } });
  if (url.pathname === "/v1/events") return json(200, { items: events, next_cursor: null });
  return json(404, { error: { code: "not_found", message: "No such thing." } });
});
let authData;
before(async () => {
  await new Promise((resolve) => bridge.listen(0, "127.0.0.1", resolve));
  authData = { bridge_url: `http://127.0.0.1:${bridge.address().port}`, access_token: TOKEN };
});
after(() => new Promise((resolve) => bridge.close(resolve)));

describe("the KallyAI Bridge integration", () => {
  it("validates against zapier-platform-schema, as `zapier-platform validate` compiles it", () => {
    const { errors } = validateAppDefinition(serializeApp(compileApp(App)));
    assert.deepEqual(
      errors.map((e) => `${e.property}: ${e.message}`),
      [],
    );
  });

  it("tests the connection with GET /v1/me; a refused token asks Zapier to refresh it", async () => {
    const me = await appTester(App.authentication.test, { authData });
    assert.equal(me.linked, true);
    await assert.rejects(appTester(App.authentication.test, { authData: { ...authData, access_token: "wrong" } }), {
      name: "RefreshAuthError",
    });
  });

  describe("Call Finished (a REST hook)", () => {
    const perform = App.triggers.call_finished.operation.perform;
    const inputData = { outcome: "call.completed" };

    it("turns a delivery into its event, and skips a test delivery", async () => {
      const delivered = { ...EVENT, id: "evt_delivered" };
      assert.deepEqual(await appTester(perform, { authData, inputData, cleanedRequest: delivered }), [delivered]);
      const test = { ...EVENT, test: true };
      assert.deepEqual(await appTester(perform, { authData, inputData, cleanedRequest: test }), []);
    });

    it("without a delivery (invoke, samples): the latest event, or the sample when there is none", async () => {
      events = [];
      const [sample] = await appTester(perform, { authData, inputData });
      assert.match(sample.id, /^evt_/);
      assert.deepEqual(sample, App.triggers.call_finished.operation.sample);
      events = [EVENT];
      assert.deepEqual(await appTester(perform, { authData, inputData }), [EVENT]);
    });
  });
});
