import { describe, expect, it } from "vitest";
import callFinishedBlueprint from "../../integrations/make/call-finished.blueprint.json";
import placeCallBlueprint from "../../integrations/make/place-call.blueprint.json";
import makeReadme from "../../integrations/make/README.md?raw";
import n8nCredential from "../../integrations/n8n/credentials/KallyAiBridgeApi.credentials.ts?raw";
import n8nWorkflow from "../../integrations/n8n/kallyai-bridge.workflow.json";
import n8nReadme from "../../integrations/n8n/README.md?raw";
import { CallInputSchema } from "../../src/shared/call-input";
import { RECIPES } from "../../src/shared/recipes";
import { linkedUser, withKey } from "../support/accounts";
import { bridge } from "../support/bridge";
import { placed } from "../support/calls";
import { endSandboxCall } from "../support/sandbox";

// The n8n workflow and the Make blueprints in integrations/: they parse, hang together, and their
// URLs, fields and mapped event fields are the bridge's (its OpenAPI document, the call input
// schema, a real event from the feed), and they send what the recipes of docs/platforms.md send.

const CALL_FIELDS = Object.keys(CallInputSchema.shape);
const recipe = (id: string) => RECIPES.find((r) => r.id === id)!;
const recipeJson = (id: string) => (recipe(id).body as { json: Record<string, unknown> }).json;

async function openapi() {
  return (await (await bridge("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
}

/** A real event of GET /v1/events (what a webhook delivers), for a finished sandbox call. */
async function realEvent(): Promise<Record<string, unknown>> {
  const user = await linkedUser();
  const call = await placed(user.apiKey);
  await endSandboxCall(call.id);
  await bridge(`/v1/calls/${call.id}`, withKey(user.apiKey));
  const feed = (await (await bridge("/v1/events?type=call.completed", withKey(user.apiKey))).json()) as {
    items: Record<string, unknown>[];
  };
  expect(feed.items.length).toBeGreaterThan(0);
  return feed.items[0]!;
}

/** Follows a dotted path (`data.status`) into an object; undefined when any step is missing. */
const at = (value: unknown, path: string) =>
  path
    .split(".")
    .reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), value);

/** The paths an n8n expression or a Make mapping reads from the event: `$json.body.data.status`, `{{1.data.status}}`. */
const eventPaths = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].map((m) => m[1]!);

type N8nNode = {
  name: string;
  type: string;
  notes?: string;
  parameters: Record<string, any>;
  credentials?: Record<string, unknown>;
};
const nodes = n8nWorkflow.nodes as N8nNode[];
const node = (type: string) => nodes.find((n) => n.type === type)!;

/** Text that names the console's way first and gives the request only in parentheses after it. */
const consoleFirst = (text: string, consoleStep: string, request: string) => {
  expect(text).toContain(consoleStep);
  expect(text.indexOf(consoleStep)).toBeLessThan(text.indexOf(request));
};

describe("the help texts of the integrations lead to the console", () => {
  it("the n8n webhook note and the Make README name the console page before the request", () => {
    consoleFirst(node("n8n-nodes-base.webhook").notes ?? "", "Webhooks → Add a webhook", "POST /v1/webhooks");
    consoleFirst(makeReadme, "**Webhooks → Add a webhook**", "POST /v1/webhooks");
  });

  it("the n8n credential's key help and README, and the Make README, name the console's Keys page first", () => {
    consoleFirst(n8nCredential, "Keys → Create a key", "POST /v1/keys");
    consoleFirst(n8nReadme, "**Keys → Create a key**", "POST /v1/keys");
    expect(makeReadme).toContain("**Keys → Create a key**");
    expect(makeReadme).not.toContain("POST /v1/keys");
  });
});

describe("the n8n workflow (integrations/n8n)", () => {
  it("is an n8n workflow whose connections join nodes that exist", () => {
    expect(new Set(nodes.map((n) => n.name)).size).toBe(nodes.length);
    for (const n of nodes)
      expect(n.type, n.name).toMatch(/^n8n-nodes-base\.(webhook|if|set|manualTrigger|httpRequest)$/);
    for (const [from, { main }] of Object.entries(n8nWorkflow.connections)) {
      expect(nodes.map((n) => n.name)).toContain(from);
      for (const to of main.flat()) expect(nodes.map((n) => n.name)).toContain(to.node);
    }
  });

  it("the webhook is the one docs/platforms.md subscribes, and test deliveries stop at the If node", () => {
    const webhook = node("n8n-nodes-base.webhook");
    expect(webhook.parameters.httpMethod).toBe("POST");
    const subscribed = new URL(recipeJson("n8n-subscribe").url as string);
    expect(subscribed.pathname).toBe(`/webhook/${webhook.parameters.path}`);
    const condition = node("n8n-nodes-base.if").parameters.conditions.conditions[0];
    expect(condition.leftValue).toBe("={{ $json.body.test === true }}");
    expect(condition.operator).toMatchObject({ type: "boolean", operation: "false" });
  });

  it("Call outcome reads fields a real event has", async () => {
    const event = await realEvent();
    const paths = eventPaths(JSON.stringify(node("n8n-nodes-base.set").parameters), /\$json\.body\.([a-z_.]+)/g);
    expect(paths.length).toBeGreaterThan(5);
    for (const path of paths) expect(at(event, path), path).not.toBeUndefined();
  });

  it("Place a call posts call fields to /v1/calls with an idempotency key: what the n8n recipe sends", async () => {
    const http = node("n8n-nodes-base.httpRequest");
    const url = new URL(http.parameters.url);
    expect(http.parameters.method).toBe("POST");
    expect((await openapi()).paths[url.pathname]).toHaveProperty("post");
    expect(url.pathname).toBe(recipe("n8n-place-call").path);
    expect(http.parameters.genericAuthType).toBe("httpHeaderAuth");
    expect(http.credentials).toHaveProperty("httpHeaderAuth");
    const fields = Object.fromEntries(
      http.parameters.bodyParameters.parameters.map((p: { name: string; value: string }) => [p.name, p.value]),
    );
    for (const name of Object.keys(fields)) expect(CALL_FIELDS, name).toContain(name);
    expect(fields).toEqual(recipeJson("n8n-place-call"));
    const headers = http.parameters.headerParameters.parameters.map((p: { name: string }) => p.name);
    expect(headers).toEqual(Object.keys(recipe("n8n-place-call").headers).filter((h) => h !== "X-API-Key"));
  });
});

type MakeModule = {
  id: number;
  module: string;
  mapper: Record<string, any>;
  filter?: { conditions: { a: string; b: string; o: string }[][] };
};

describe("the Make blueprints (integrations/make)", () => {
  it("Place a call: HTTP → Make a request posting call fields to /v1/calls, as the Make recipe sends them", async () => {
    const [trigger, http] = placeCallBlueprint.flow as MakeModule[];
    expect(trigger!.module).toBe("gateway:CustomWebHook");
    expect(http!.module).toBe("http:ActionSendData");
    const url = new URL(http!.mapper.url);
    expect(http!.mapper.method).toBe("post");
    expect((await openapi()).paths[url.pathname]).toHaveProperty("post");
    expect(url.pathname).toBe(recipe("make-place-call").path);
    expect(http!.mapper.headers.map((h: { name: string }) => h.name)).toEqual(
      Object.keys(recipe("make-place-call").headers),
    );
    expect(http!.mapper).toMatchObject({ bodyType: "raw", contentType: "application/json", parseResponse: true });
    // Make fills {{1.x}} from the trigger's bundle; with the recipe's values it sends the recipe's body.
    const sent = recipeJson("make-place-call");
    const filled = JSON.parse(
      http!.mapper.data.replace(/\{\{1\.(\w+)\}\}/g, (_: string, k: string) => String(sent[k])),
    );
    expect(filled).toEqual(sent);
    for (const name of Object.keys(filled)) expect(CALL_FIELDS, name).toContain(name);
  });

  it("When a call finishes: skips test deliveries and maps fields a real event has", async () => {
    const [hook, outcome] = callFinishedBlueprint.flow as MakeModule[];
    expect(hook!.module).toBe("gateway:CustomWebHook");
    expect(outcome!.filter!.conditions).toEqual([[{ a: "{{1.test}}", b: "true", o: "boolean:notequal" }]]);
    const event = await realEvent();
    const paths = eventPaths(JSON.stringify(outcome!.mapper), /\{\{1\.([a-z_.]+)\}\}/g);
    expect(paths.length).toBeGreaterThan(5);
    for (const path of paths) expect(at(event, path), path).not.toBeUndefined();
    expect((await openapi()).paths["/v1/webhooks"]).toHaveProperty("post");
  });
});
