import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { build } from "../../src/domain/deps";
import { type Bindings, config } from "../../src/env";
import { ownSandbox } from "../../src/sandbox/upstream";
import { linkedUser } from "../support/accounts";
import { getCall, placed, upstreamIdOf } from "../support/calls";
import { route } from "../support/network";

/** The URLs a spied fetch function was called with. */
const urlsOf = (fn: unknown) =>
  vi
    .mocked(fn as typeof fetch)
    .mock.calls.map(([input]) => (input instanceof Request ? input.url : new URL(String(input)).href));
const sandboxUrls = (urls: string[]) => urls.filter((u) => u.startsWith("http://bridge.test/sandbox/"));

describe("how the bridge reaches KallyAI", () => {
  it("test mode hands its requests to its own sandbox in-process, never to fetch()", async () => {
    const user = await linkedUser();
    const { id } = await placed(user.apiKey);
    expect((await getCall(user.apiKey, id)).status).toBe(200);

    const inProcess = sandboxUrls(urlsOf(ownSandbox.dispatch));
    expect(inProcess).toContain("http://bridge.test/sandbox/v1/auth/refresh");
    expect(inProcess).toContain("http://bridge.test/sandbox/v1/calls");
    expect(inProcess).toContain(`http://bridge.test/sandbox/v1/calls/${await upstreamIdOf(id)}`);
    expect(sandboxUrls(urlsOf(globalThis.fetch))).toEqual([]);
  });

  it("the real KallyAI is reached with fetch()", async () => {
    const seen: string[] = [];
    route("https://api.kallyai.com", (req) => {
      seen.push(req.url);
      return Response.json({ access_token: "a", refresh_token: "r", expires_in: 3600, token_type: "Bearer" });
    });
    const production = build(
      { ...env, SANDBOX_ENABLED: "false", KALLYAI_API_BASE: "https://api.kallyai.com" } as Bindings,
      env.DB,
    );
    await production.upstream.refresh("a-refresh-token");

    expect(seen).toEqual(["https://api.kallyai.com/v1/auth/refresh"]);
    expect(urlsOf(ownSandbox.dispatch)).toEqual([]);
  });

  it.each([
    ["true", "http://bridge.test/sandbox", true],
    ["true", "https://bridge.example.com/sandbox/", true],
    ["false", "https://bridge.example.com/sandbox", false],
    ["true", "https://api.kallyai.com", false],
    ["true", "https://api.kallyai.com/v1/sandbox-like", false],
  ])("SANDBOX_ENABLED=%s with KALLYAI_API_BASE %s: own sandbox %s", (enabled, base, own) => {
    expect(config({ ...env, SANDBOX_ENABLED: enabled, KALLYAI_API_BASE: base } as Bindings).upstream.ownSandbox).toBe(
      own,
    );
  });
});
