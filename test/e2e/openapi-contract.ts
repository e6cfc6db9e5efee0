import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";

/**
 * Checks real answers against an OpenAPI 3.1 document: the status is one the operation lists,
 * the headers it marks required are there and match their schemas, and the body matches the
 * schema of its content type (JSON Schema 2020-12, with ajv).
 */

type Json = Record<string, any>;
export interface Operation {
  method: string;
  path: string;
  id: string;
  op: Json;
}

const DOC_ID = "https://bridge.test/openapi.json";
const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");

export class Contract {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ReturnType<Ajv2020["compile"]>>();

  constructor(readonly doc: Json) {
    addFormats(this.ajv);
    this.ajv.addSchema({ ...doc, $id: DOC_ID });
  }

  operations(): Operation[] {
    return Object.entries(this.doc.paths as Json).flatMap(([path, item]) =>
      Object.entries(item as Json)
        .filter(([method]) => ["get", "post", "put", "patch", "delete"].includes(method))
        .map(([method, op]) => ({ method, path, id: (op as Json).operationId as string, op: op as Json })),
    );
  }

  /** The documented example of a request body (inline, or on the schema it refers to) and its content type. */
  requestExample(operation: Operation): { type: string; example: unknown } | undefined {
    const content = operation.op.requestBody?.content as Json | undefined;
    if (!content) return undefined;
    for (const [type, media] of Object.entries(content)) {
      if (media.example !== undefined) return { type, example: media.example };
      const schema = this.resolve(media.schema);
      if (schema?.example !== undefined) return { type, example: schema.example };
    }
    return undefined;
  }

  private resolve(node: Json | undefined): Json | undefined {
    let n = node;
    while (n?.$ref)
      n = n.$ref
        .split("/")
        .slice(1)
        .reduce((o: Json, k: string) => o?.[k.replace(/~1/g, "/").replace(/~0/g, "~")], this.doc);
    return n;
  }

  private validator(ref: string) {
    let v = this.compiled.get(ref);
    if (!v) {
      v = this.ajv.compile({ $ref: `${DOC_ID}#${ref}` });
      this.compiled.set(ref, v);
    }
    return v;
  }

  private validate(ref: string, value: unknown): string[] {
    const v = this.validator(ref);
    return v(value) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`);
  }

  /** Every way `res` differs from what `operation` documents; empty when it matches. */
  async mismatches(operation: Operation, res: Response): Promise<string[]> {
    const problems: string[] = [];
    const responses = operation.op.responses as Json;
    const status = String(res.status);
    const key = status in responses ? status : "default" in responses ? "default" : undefined;
    const body = await res.text();
    if (!key)
      return [
        `status ${res.status} is not documented (documented: ${Object.keys(responses).join(", ")}); body ${body.slice(0, 200)}`,
      ];
    const responseRef = responses[key].$ref
      ? (responses[key].$ref as string).slice(1)
      : `/${pointer("paths", operation.path, operation.method, "responses", key)}`;
    const response = this.resolve(responses[key])!;

    for (const [name, header] of Object.entries((response.headers ?? {}) as Json)) {
      const h = this.resolve(header)!;
      const value = res.headers.get(name);
      if (value === null) {
        if (h.required) problems.push(`${res.status}: required header ${name} is missing`);
        continue;
      }
      const typed = h.schema?.type === "integer" || h.schema?.type === "number" ? Number(value) : value;
      const schemaRef = header.$ref
        ? `${(header.$ref as string).slice(1)}/schema`
        : `${responseRef}/headers/${pointer(name)}/schema`;
      for (const p of this.validate(schemaRef, typed)) problems.push(`${res.status}: header ${name}=${value}: ${p}`);
    }

    const content = (response.content ?? {}) as Json;
    const type = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
    if (Object.keys(content).length === 0) {
      if (body.length > 0 && res.status !== 302)
        problems.push(`${res.status}: a body (${type}) where none is documented`);
      return problems;
    }
    if (!(type in content))
      return [
        ...problems,
        `${res.status}: content type "${type}" is not documented (documented: ${Object.keys(content).join(", ")})`,
      ];
    if (!content[type].schema) return problems;
    let value: unknown = body;
    if (type === "application/json") {
      try {
        value = JSON.parse(body);
      } catch {
        return [...problems, `${res.status}: the body is not JSON: ${body.slice(0, 100)}`];
      }
    }
    const mediaRef = `${responseRef}/content/${pointer(type)}/schema`;
    for (const p of this.validate(mediaRef, value)) problems.push(`${res.status} ${type}: ${p}`);
    return problems;
  }
}
