import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../src/domain/events";
import { ERROR_CODES } from "../src/http/error-codes";
import { bridge } from "./support/bridge";

type Media = Record<string, { example?: unknown; schema?: unknown }>;
type Operation = {
  operationId?: string;
  security?: unknown[];
  tags?: string[];
  requestBody?: { content: Media };
  responses: Record<string, { $ref?: string; content?: Media; headers?: Record<string, unknown> }>;
};
type Doc = {
  paths: Record<string, Record<string, Operation>>;
  webhooks: Record<string, Record<string, Operation>>;
  tags: Array<{ name: string; description: string }>;
  components: {
    schemas: Record<string, { example?: unknown; properties?: Record<string, any> }>;
    responses: Record<string, Operation["responses"][string]>;
  };
};

const documentOf = async () => (await (await bridge("/openapi.json")).json()) as Doc;
const operations = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, path, op })),
  );

/** An example is inline, or on the component schema a content entry refers to. */
function hasExample(doc: Doc, content: Media | undefined): boolean {
  return Object.values(content ?? {}).some((media) => {
    if (media.example !== undefined) return true;
    const schema = media.schema as { $ref?: string; example?: unknown } | undefined;
    if (schema?.example !== undefined) return true;
    const ref = schema?.$ref?.split("/").pop();
    return ref !== undefined && doc.components.schemas[ref]?.example !== undefined;
  });
}

describe("the OpenAPI document", () => {
  it("has an example for every endpoint that has a body (its request or its success answer)", async () => {
    const doc = await documentOf();
    const missing: string[] = [];
    for (const { name, op } of operations(doc)) {
      const success = Object.entries(op.responses)
        .filter(([status]) => status.startsWith("2"))
        .map(([, r]) => r.content);
      const bodiless = !op.requestBody && success.length === 0; // a redirect, such as /auth/login
      if (!bodiless && !hasExample(doc, op.requestBody?.content) && !success.some((c) => hasExample(doc, c)))
        missing.push(name);
    }
    expect(missing).toEqual([]);
  });

  it("gives every operation a unique operationId and a declared tag", async () => {
    const doc = await documentOf();
    const ops = [
      ...operations(doc),
      ...Object.values(doc.webhooks).flatMap((m) => Object.values(m).map((op) => ({ name: op.operationId, op }))),
    ];
    const ids = ops.map(({ op }) => op.operationId);
    expect(
      ids.every((id) => typeof id === "string" && /^[a-z][A-Za-z]+$/.test(id)),
      ids.join(),
    ).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const declared = new Set(doc.tags.map((t) => t.name));
    expect(doc.tags.every((t) => t.description.length > 0)).toBe(true);
    expect(ops.filter(({ op }) => !op.tags?.every((t) => declared.has(t))).map((o) => o.name)).toEqual([]);
  });

  it("marks the operations that need no key with security: []", async () => {
    const doc = await documentOf();
    const open = operations(doc)
      .filter(({ op }) => Array.isArray(op.security) && op.security.length === 0)
      .map((o) => o.name);
    expect(open.sort()).toEqual([
      "GET /.well-known/oauth-authorization-server",
      "GET /.well-known/oauth-protected-resource",
      "GET /.well-known/oauth-protected-resource/mcp",
      "GET /.well-known/oauth-protected-resource/v1",
      "GET /auth/callback",
      "GET /auth/login",
      "GET /authorize",
      "GET /health",
      "GET /t/{token}",
      "POST /authorize",
      "POST /oauth/register",
      "POST /oauth/token",
      "POST /t/{token}",
      "POST /v1/link",
    ]);
  });

  it("documents the error shape, and X-Request-Id on every answer", async () => {
    const doc = await documentOf();
    const shared = doc.components.responses;
    for (const { name, op } of operations(doc)) {
      const errors = Object.entries(op.responses).filter(([s]) => /^[45]/.test(s));
      expect(
        errors.map(([s]) => s),
        name,
      ).toEqual(expect.arrayContaining(["405", "500"]));
      for (const [status, response] of Object.entries(op.responses)) {
        if (status === "default") continue;
        const resolved = response.$ref ? shared[response.$ref.split("/").pop()!]! : response;
        expect(resolved.headers, `${name} ${status}`).toHaveProperty("X-Request-Id");
        if (/^[45]/.test(status))
          expect(Object.keys(resolved.content ?? {}), `${name} ${status}`).toContain("application/json");
      }
    }
  });

  it("describes each event type under webhooks with its payload, the same event shape as the feed", async () => {
    const doc = await documentOf();
    expect(Object.keys(doc.webhooks).sort()).toEqual([...EVENT_TYPES].sort());
    for (const type of EVENT_TYPES) {
      const op = doc.webhooks[type]!.post!;
      const media = op.requestBody!.content["application/json"]!;
      expect(media.schema).toEqual({ $ref: "#/components/schemas/Event" });
      expect(media.example).toMatchObject({ id: expect.stringMatching(/^evt_/), type, data: { finished: true } });
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["200", "410"]));
    }
    expect(Object.keys(doc.components.schemas.Event!.properties!).sort()).toEqual([
      "data",
      "id",
      "test",
      "timestamp",
      "type",
    ]);
  });

  // ApiError takes only codes of ERROR_CODES (its type, ErrorCode), so the type check holds the code side.
  it("describes every error code the bridge answers in the Error schema", async () => {
    const described = (await documentOf()).components.schemas.Error!.properties!.error.properties.code
      .description as string;
    for (const code of Object.keys(ERROR_CODES)) expect(described).toContain(`\`${code}\``);
  });
});

describe("documentedStatuses (what the fuzz and error tests check their answers against)", () => {
  it("finds an operation's statuses, a wrong method's 405, and nothing for paths outside the document", async () => {
    const { documentedStatuses } = await import("./support/documented-statuses");
    expect([...(await documentedStatuses("POST", "/v1/calls"))!]).toEqual(
      expect.arrayContaining(["202", "400", "413", "415", "422", "429"]),
    );
    expect(await documentedStatuses("POST", "/v1/calls")).not.toContain("200");
    expect(await documentedStatuses("PUT", "/v1/calls/abc")).toContain("405");
    expect(await documentedStatuses("HEAD", "/v1/webhooks/wh_1/deliveries")).toContain("200");
    expect(await documentedStatuses("GET", "/t/some-token")).toContain("202");
    expect(await documentedStatuses("POST", "/admin/vault/reencrypt")).toBeUndefined();
  });
});
