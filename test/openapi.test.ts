import { describe, expect, it } from "vitest";
import { bridge } from "./support/bridge";

type Operation = { requestBody?: { content: Record<string, { example?: unknown; schema?: unknown }> }; responses: Record<string, { content?: Record<string, { example?: unknown; schema?: unknown }> }> };
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, { example?: unknown }> } };

/** An example is inline, or on the component schema a content entry refers to. */
function hasExample(doc: Doc, content: Record<string, { example?: unknown; schema?: unknown }> | undefined): boolean {
  return Object.values(content ?? {}).some((media) => {
    if (media.example !== undefined) return true;
    const schema = media.schema as { $ref?: string; example?: unknown } | undefined;
    if (schema?.example !== undefined) return true;
    const ref = schema?.$ref?.split("/").pop();
    return ref !== undefined && doc.components.schemas[ref]?.example !== undefined;
  });
}

describe("the OpenAPI document", () => {
  it("has an example for every endpoint (its request or its success answer)", async () => {
    const doc = (await (await bridge("/openapi.json")).json()) as Doc;
    const missing: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const success = Object.entries(op.responses).filter(([status]) => status.startsWith("2")).map(([, r]) => r.content);
        if (!hasExample(doc, op.requestBody?.content) && !success.some((c) => hasExample(doc, c))) missing.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("documents the error shape on every endpoint that can fail", async () => {
    const doc = (await (await bridge("/openapi.json")).json()) as Doc;
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (path === "/health") continue;
      for (const [method, op] of Object.entries(methods)) {
        const errors = Object.keys(op.responses).filter((s) => /^[45]/.test(s));
        expect(errors.length, `${method} ${path}`).toBeGreaterThan(0);
      }
    }
  });
});
