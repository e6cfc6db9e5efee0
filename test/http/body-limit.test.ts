import { describe, expect, it } from "vitest";
import { bodyLimitFor, DEFAULT_BODY_LIMIT, DRAIN_LIMIT } from "../../src/http/body-limit";
import { linkedUser, withKey } from "../support/accounts";
import { bridge, json } from "../support/bridge";
import { sandboxSignIn } from "../support/sandbox";

/** A body sent in chunks with no Content-Length; counts how much of it was pulled. */
function chunked(totalBytes: number, chunk = 64 * 1024) {
  const stats = { pulled: 0 };
  const piece = new TextEncoder().encode("x".repeat(chunk));
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (stats.pulled >= totalBytes) return controller.close();
      stats.pulled += piece.byteLength;
      controller.enqueue(piece);
    },
  });
  return { stream, stats };
}

const WRITES: Array<[method: string, path: string]> = [
  ["POST", "/v1/calls"],
  ["POST", "/v1/calls/abc/cancel"],
  ["POST", `/t/${"x".repeat(32)}`],
  ["POST", "/v1/link"],
  ["POST", "/v1/unlink"],
  ["POST", "/v1/keys"],
  ["DELETE", "/v1/keys/key_x"],
  ["POST", "/v1/triggers"],
  ["DELETE", "/v1/triggers/trg_x"],
  ["POST", "/v1/webhooks"],
  ["DELETE", "/v1/webhooks/wh_x"],
  ["POST", "/v1/webhooks/wh_x/test"],
  ["POST", "/v1/deliveries/dlv_x/retry"],
  ["POST", "/admin/vault/reencrypt"],
  ["POST", "/sandbox/v1/calls"],
];

describe("a body limit on every write, before anything parses it", () => {
  for (const [method, path] of WRITES) {
    it(`${method} ${path}: a chunked body over its limit is a 413 JSON, read no further than DRAIN_LIMIT`, async () => {
      const limit = bodyLimitFor(path);
      const { stream, stats } = chunked(10 * 1024 * 1024);
      const res = await bridge(path, {
        method,
        headers: { "content-type": "application/json" },
        body: stream,
        duplex: "half",
      } as RequestInit);
      expect(res.status).toBe(413);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("payload_too_large");
      expect(error.message).toContain(`larger than ${limit / 1024} KB`);
      expect(stats.pulled).toBeLessThan(DRAIN_LIMIT + 4 * 64 * 1024);
    });
  }

  it("a refused body is read to its end when it is under DRAIN_LIMIT, so the upload finishes and the 413 arrives", async () => {
    const user = await linkedUser();
    const { stream, stats } = chunked(1024 * 1024, 16 * 1024);
    let finished = false;
    const tracked = stream.pipeThrough(
      new TransformStream({
        flush: () => {
          finished = true;
        },
      }),
    );
    const res = await bridge("/v1/keys", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${user.apiKey}` },
      body: tracked,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(stats.pulled).toBe(1024 * 1024);
    expect(finished).toBe(true);
  });

  it("a declared Content-Length over the limit is refused without reading the body", async () => {
    const { stream, stats } = chunked(47 * 1024 * 1024);
    const res = await bridge("/v1/link", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(47 * 1024 * 1024) },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(stats.pulled).toBeLessThanOrEqual(2 * 64 * 1024);
  });

  it("47 MB bodies to POST /v1/link do not use up the address's link attempts", async () => {
    const ip = crypto.randomUUID();
    for (let i = 0; i < 12; i++) {
      const { stream } = chunked(47 * 1024 * 1024);
      const res = await bridge("/v1/link", {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": ip },
        body: stream,
        duplex: "half",
      } as RequestInit);
      expect(res.status).toBe(413);
    }
    const { refreshToken } = await sandboxSignIn();
    expect(
      (await json("/v1/link", { refresh_token: refreshToken }, { headers: { "cf-connecting-ip": ip } })).status,
    ).toBe(201);
  });

  it("small bodies have small limits: 3 KB is too much for /v1/keys, fine for /v1/calls", async () => {
    const user = await linkedUser();
    const padding = "x".repeat(3 * 1024);
    const key = await json("/v1/keys", { name: "k", note: padding }, withKey(user.apiKey));
    expect(key.status).toBe(413);
    expect(((await key.json()) as { error: { message: string } }).error.message).toContain("2 KB");
    const call = await json(
      "/v1/calls",
      { phone: "+14155551234", task: "Ask whether they are open today", note: padding },
      withKey(user.apiKey),
    );
    expect(call.status).toBe(202);
  });

  it("the default covers endpoints without their own limit", () => {
    expect(bodyLimitFor("/v1/calls")).toBe(DEFAULT_BODY_LIMIT);
    expect(bodyLimitFor("/v1/link")).toBeLessThan(DEFAULT_BODY_LIMIT);
  });
});
