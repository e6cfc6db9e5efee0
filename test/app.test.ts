import { describe, expect, it } from "vitest";
import { bridge, errorOf } from "./support/bridge";

describe("GET /health", () => {
  it("answers ok with the database checked and a request id", async () => {
    const res = await bridge("/health");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/.+/);
    expect(await res.json()).toMatchObject({ status: "ok", database: "ok", upstream: "sandbox" });
  });
});

describe("errors", () => {
  it("an unknown route is a JSON 404 with a code", async () => {
    const res = await bridge("/nope");
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: "not_found" });
  });

  it("a wrong method is a JSON 405 with Allow", async () => {
    const res = await bridge("/health", { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toContain("GET");
    expect(await errorOf(res)).toMatchObject({ code: "method_not_allowed" });
  });
});

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document listing the routes", async () => {
    const res = await bridge("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.paths["/health"]).toBeDefined();
    expect(Object.keys(doc.paths).some((p) => p.startsWith("/sandbox"))).toBe(false);
  });

  it("is the document built in Node (scripts/openapi.mjs), with the origin it was fetched from as its server", async () => {
    const res = await bridge("/openapi.json");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const doc = (await res.json()) as { servers: Array<{ url: string }> };
    expect(doc.servers).toEqual([{ url: "http://bridge.test", description: "This bridge" }]);
    expect(JSON.stringify(doc)).not.toContain("bridge-origin.invalid");
  });
});
