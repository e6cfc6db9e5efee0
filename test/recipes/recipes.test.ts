import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import platforms from "../../docs/platforms.md?raw";
import {
  DOCS_BASE,
  placeholdersOf,
  RECIPES,
  renderSection,
  SECTION_NAMES,
  type SectionId,
  wireRequest,
} from "../../src/shared/recipes";
import { linkedUser, withKey } from "../support/accounts";
import { bridge, json } from "../support/bridge";
import { placed } from "../support/calls";
import { BRIDGE_ORIGIN } from "../support/network";
import { endSandboxCall } from "../support/sandbox";

// Every recipe of docs/platforms.md, sent to the bridge byte for byte as its platform sends it: the
// same data (src/shared/recipes.ts) renders that file's recipe sections, so the two cannot drift.

/** What KallyAI was asked to do for a call: the submission the bridge built from the recipe's fields. */
const upstreamSubmission = async (callId: string) =>
  JSON.parse(
    (await env.DB.prepare(
      "SELECT request FROM sandbox_calls WHERE id = (SELECT upstream_id FROM calls WHERE calls.id = ?)",
    )
      .bind(callId)
      .first<{ request: string }>())!.request,
  ).submission as Record<string, unknown>;

let values: Record<string, string>;
let prepared: Promise<void> | undefined;
/** One account, call and trigger URL for the whole file (inside a test: the test network is set up per test). */
const prepare = () => (prepared ??= prepareAccount());

async function prepareAccount() {
  const user = await linkedUser();
  const call = await placed(user.apiKey);
  await endSandboxCall(call.id);
  const trigger = await json(
    "/v1/triggers",
    {
      name: "Oat milk",
      phone: "+14155551234",
      business: "Corner Shop",
      task: "Ask whether they have {{value1}} in stock",
    },
    withKey(user.apiKey),
  );
  const token = new URL(((await trigger.json()) as { url: string }).url).pathname.split("/")[2]!;
  values = {
    "<key>": user.apiKey,
    "<call id>": call.id,
    "<trigger token>": token,
    "<trigger item id>": "zap-item-1",
    "<execution id>": "n8n-execution-1",
    "<bundle id>": "make-bundle-1",
    "<run key>": "2026-01-28T18:02:11+01:00-482913",
    "<IFTTT webhooks key>": "dK3x9_ExampleIftttKey",
  };
}

async function send(recipe: (typeof RECIPES)[number]) {
  await prepare();
  const wire = wireRequest(recipe, BRIDGE_ORIGIN, values);
  expect(JSON.stringify(wire), "every placeholder is filled").not.toMatch(/<[A-Za-z][A-Za-z ]*>/);
  return bridge(new URL(wire.url).pathname + new URL(wire.url).search, {
    method: wire.method,
    headers: wire.headers,
    body: wire.body,
  });
}

describe("every documented recipe, as its platform sends it", () => {
  for (const recipe of RECIPES) {
    it(`${SECTION_NAMES[recipe.section]}: ${recipe.title} (${recipe.id}) answers ${recipe.answers.status} ${recipe.answers.type}`, async () => {
      const res = await send(recipe);
      const body = await res.text();
      expect(res.status, body).toBe(recipe.answers.status);
      expect(res.headers.get("content-type")).toContain(
        recipe.answers.type === "json" ? "application/json" : "text/plain",
      );
      if (recipe.answers.type === "json") expect(() => JSON.parse(body)).not.toThrow();
      else expect(body.length).toBeGreaterThan(10);
    });
  }

  it("the fields arrive as meant: form phone numbers, numbers as text, empty fields absent", async () => {
    const byId = (id: string) => RECIPES.find((r) => r.id === id)!;
    const callOf = async (id: string) =>
      upstreamSubmission(((await (await send(byId(id))).json()) as { id: string }).id);

    const ifttt = await callOf("ifttt-web-request");
    expect(ifttt).toMatchObject({
      respondent_phone: "+14155551234",
      task_description: "Ask whether they have oat milk in stock",
    });

    const shortcuts = await callOf("shortcuts-place-call");
    expect(shortcuts).toMatchObject({
      respondent_phone: "+14155551234",
      business_name: "Italian Bistro",
      party_size: 4,
    });
    expect(shortcuts).not.toHaveProperty("appointment_date");

    const zapier = await callOf("zapier-place-call");
    expect(zapier).toMatchObject({ task_category: "restaurant", party_size: 4 });
    expect(zapier).not.toHaveProperty("appointment_time");

    const curl = await callOf("curl-place-call");
    expect(curl).toMatchObject({ respondent_phone: "+14155551234", business_name: "Italian Bistro", party_size: 4 });

    const trigger = await callOf("ifttt-trigger-url");
    expect(trigger).toMatchObject({
      business_name: "Corner Shop",
      task_description: "Ask whether they have oat milk in stock",
    });
  });

  it("why the IFTTT recipe writes %2B: a bare + in a form body arrives as a space", async () => {
    const recipe = RECIPES.find((r) => r.id === "ifttt-web-request")!;
    await prepare();
    const wire = wireRequest(recipe, BRIDGE_ORIGIN, values);
    const uk = (plus: string) =>
      bridge("/v1/calls", {
        method: "POST",
        headers: wire.headers,
        body: `phone=${plus}442079460958&task=Ask whether they have oat milk in stock`,
      });
    const bare = await uk("+");
    expect(bare.status).toBe(422);
    expect(((await bare.json()) as { error: { code: string } }).error.code).toBe("invalid_phone");
    expect((await uk("%2B")).status).toBe(202);
  });

  it("an idempotency key per run: the same Shortcut run retried places one call, another run a second", async () => {
    const recipe = RECIPES.find((r) => r.id === "shortcuts-place-call")!;
    const first = (await (await send(recipe)).json()) as { id: string };
    const retried = (await (await send(recipe)).json()) as { id: string };
    expect(retried.id).toBe(first.id);
    const nextRun = wireRequest(recipe, BRIDGE_ORIGIN, { ...values, "<run key>": "2026-01-28T18:02:11+01:00-771204" });
    const second = await bridge("/v1/calls", { method: "POST", headers: nextRun.headers, body: nextRun.body });
    expect(((await second.json()) as { id: string }).id).not.toBe(first.id);
  });

  it("each platform's own Accept gets JSON, not a sentence (only ?format=text asks for text)", () => {
    for (const recipe of RECIPES)
      expect(recipe.answers.type === "text", recipe.id).toBe(recipe.path.includes("format=text"));
  });

  it("placeholders are the ones docs/platforms.md explains", async () => {
    await prepare();
    const used = new Set(RECIPES.flatMap(placeholdersOf));
    expect([...used].sort()).toEqual(Object.keys(values).sort());
  });
});

describe("the recipe sections of docs/platforms.md", () => {
  for (const id of Object.keys(SECTION_NAMES) as SectionId[]) {
    it(`${SECTION_NAMES[id]}: docs/platforms.md shows exactly the recipes the tests send (npm run docs rewrites it)`, () => {
      const section = platforms.match(new RegExp(`<!-- recipes:${id} -->\\n([\\s\\S]*?)\\n<!-- /recipes:${id} -->`));
      expect(section, `docs/platforms.md has <!-- recipes:${id} --> … <!-- /recipes:${id} -->`).not.toBeNull();
      expect(section![1]).toBe(renderSection(id, DOCS_BASE));
    });
  }
});
