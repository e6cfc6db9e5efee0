import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../src/domain/events";
import { CATEGORIES, CallInputSchema, LANGUAGES } from "../../src/shared/call-input";
import { SAMPLE_FINISHED_CALL } from "../../src/shared/call-view";
import { validateAppDefinition, zapierApp, zapierDefinition } from "./zapier-app";

// The Zapier integration in integrations/zapier: its definition is what Zapier accepts, and its
// fields, choices and samples are the bridge's own (so they cannot drift from the API).

const keysOf = (fields: { key: string }[]) => fields.map((f) => f.key);
const placeCall = zapierApp.creates.place_call.operation;

describe("the Zapier integration's definition", () => {
  it("validates against zapier-platform-schema (as `zapier validate` compiles it)", () => {
    expect(validateAppDefinition(zapierDefinition()).errors.map((e) => `${e.property}: ${e.message}`)).toEqual([]);
  });

  it("an invalid definition is refused (the check can fail)", () => {
    const broken = structuredClone(zapierDefinition()) as {
      triggers: Record<string, { display: Record<string, unknown> }>;
    };
    delete broken.triggers.call_finished!.display.label;
    expect(validateAppDefinition(broken).errors.length).toBeGreaterThan(0);
  });

  it("has OAuth2 auth (with refresh, auto-refresh and PKCE), the Call Finished REST hook, two actions and two searches", () => {
    expect(zapierApp.authentication.type).toBe("oauth2");
    expect(keysOf(zapierApp.authentication.fields)).toEqual(["bridge_url"]);
    expect(zapierApp.authentication.oauth2Config).toMatchObject({
      scope: "calls:write calls:read webhooks",
      autoRefresh: true,
      enablePkce: true,
    });
    expect(typeof zapierApp.authentication.oauth2Config.refreshAccessToken).toBe("function");
    expect(typeof zapierApp.authentication.test).toBe("function");
    expect(Object.keys(zapierApp.triggers)).toEqual(["call_finished"]);
    expect(zapierApp.triggers.call_finished.operation.type).toBe("hook");
    expect(Object.keys(zapierApp.creates)).toEqual(["place_call", "cancel_call"]);
    expect(Object.keys(zapierApp.searches)).toEqual(["find_call", "get_transcript"]);
  });

  it("passes its own offline tests (what `zapier-platform test --skip-validate` runs in integrations/zapier)", () => {
    const run = spawnSync(
      process.execPath,
      ["--test", "--test-reporter=tap", "integrations/zapier/test/offline.test.js"],
      {
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(run.stdout).toMatch(/# pass [1-9]/);
    expect(run.stdout).toContain("# fail 0");
    expect(run.status).toBe(0);
  });

  it("Place a Call offers every field of the bridge's call input, each with help text", () => {
    expect(keysOf(placeCall.inputFields).sort()).toEqual(Object.keys(CallInputSchema.shape).sort());
    for (const field of placeCall.inputFields) expect(field.helpText, field.key).toMatch(/\w{3,}/);
    const required = placeCall.inputFields
      .filter((f: { required?: boolean }) => f.required)
      .map((f: { key: string }) => f.key);
    expect(required).toEqual(["phone", "task"]);
  });

  it("offers the bridge's categories, languages and event types as choices", () => {
    const choices = (key: string) =>
      Object.keys(placeCall.inputFields.find((f: { key: string }) => f.key === key).choices);
    expect(choices("category").sort()).toEqual([...CATEGORIES].sort());
    expect(choices("language").sort()).toEqual([...LANGUAGES].sort());
    expect(choices("call_language").sort()).toEqual([...LANGUAGES].sort());
    const outcome = zapierApp.triggers.call_finished.operation.inputFields[0];
    expect(Object.keys(outcome.choices)).toEqual([...EVENT_TYPES]);
  });

  it("samples and output fields are the bridge's call object", () => {
    expect(zapierApp.searches.find_call.operation.sample).toEqual(SAMPLE_FINISHED_CALL);
    expect(keysOf(zapierApp.searches.find_call.operation.outputFields)).toEqual(Object.keys(SAMPLE_FINISHED_CALL));
    const hook = zapierApp.triggers.call_finished.operation;
    expect(hook.sample).toMatchObject({
      id: expect.stringMatching(/^evt_/),
      type: "call.completed",
      data: SAMPLE_FINISHED_CALL,
    });
    expect(keysOf(hook.outputFields)).toEqual([
      "id",
      "type",
      "timestamp",
      ...Object.keys(SAMPLE_FINISHED_CALL).map((k) => `data__${k}`),
    ]);
  });
});
