import { env } from "cloudflare:workers";
import { app } from "../../src/app";

type Operation = { responses: Record<string, unknown> };
let paths: Array<{ template: string; pattern: RegExp; operations: Record<string, Operation> }> | undefined;

/**
 * The statuses the OpenAPI document lists for a request, so tests that observe answers (the fuzz
 * and error tests) can check each is documented. A method the path does not take is answered 405,
 * which every operation lists, so it is checked against all of the path's operations. Undefined
 * for paths outside the document (the sandbox, /admin, /mcp); "default" stands for any status.
 */
export async function documentedStatuses(method: string, pathname: string): Promise<Set<string> | undefined> {
  if (!paths) {
    const doc = (await (await app.fetch(new Request("http://bridge.test/openapi.json"), env)).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    paths = Object.entries(doc.paths)
      .map(([template, operations]) => ({
        template,
        operations,
        pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
      }))
      // Literal paths before templated ones: /v1/calls before /v1/calls/{id} never clash, but /t/{token} must not take /v1/….
      .sort((a, b) => a.template.split("{").length - b.template.split("{").length);
  }
  const item = paths.find((p) => p.pattern.test(pathname));
  if (!item) return undefined;
  const own = item.operations[method.toLowerCase() === "head" ? "get" : method.toLowerCase()];
  const operations = own ? [own] : Object.values(item.operations);
  return new Set(operations.flatMap((op) => Object.keys(op.responses)));
}
