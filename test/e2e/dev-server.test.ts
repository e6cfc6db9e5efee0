import { validate } from "@readme/openapi-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KallyAIClient } from "../../src/kallyai/client";
import { type DevServer, startDevServer } from "./dev-server";
import { sandboxTokens } from "./sandbox-account";

let server: DevServer;
beforeAll(async () => {
  // One sweep per cron tick: the production sweep window (58 s) would make /__scheduled take that long.
  server = await startDevServer(["--var", "SANDBOX_CALL_SECONDS:1", "--var", "POLLER_SWEEP_SECONDS:0"]);
});
afterAll(async () => {
  if (!stopped) await server?.stop();
});
let stopped = false;

describe("npm run dev", () => {
  it("serves /health on the requested port", async () => {
    const res = await fetch(`${server.origin}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", upstream: "sandbox" });
  });

  it("serves a valid OpenAPI 3.1 document", async () => {
    const doc = await (await fetch(`${server.origin}/openapi.json`)).json();
    expect(doc.openapi).toBe("3.1.0");
    const result = await validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("answers an unknown route and a wrong method with JSON errors", async () => {
    const missing = await fetch(`${server.origin}/no/such/thing`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe("not_found");
    const wrong = await fetch(`${server.origin}/health`, { method: "PUT" });
    expect(wrong.status).toBe(405);
    expect((await wrong.json()).error.code).toBe("method_not_allowed");
  });

  it("fires the cron on demand through /__scheduled", async () => {
    const res = await fetch(`${server.origin}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
    expect(res.status).toBe(200);
  });

  it("passes --var through to the sandbox: its POST /v1/calls answers once the call has ended, SANDBOX_CALL_SECONDS later", async () => {
    const { access_token: token } = await sandboxTokens(server.origin, "e2e@example.com");
    // The upstream client over a real socket, exactly as in production but with another base URL.
    const client = new KallyAIClient({ baseUrl: `${server.origin}/sandbox`, timeoutMs: 5000 });
    const started = Date.now();
    const call = await client.placeCall(
      token,
      {
        submission: {
          task_category: "general",
          task_description: "Ask about store hours today",
          respondent_phone: "+14155551234",
        },
        timezone: "Europe/Madrid",
      },
      crypto.randomUUID(),
    );
    // As KallyAI documents it: the answer is the finished call (this server's calls last 1 s).
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(call.status).toBe("success");
    const ended = await client.getCall(token, call.call_id);
    expect(ended.status).toBe("success");
    expect(ended.highlights).toContain("Ask about store hours today");
  });

  it("stops wrangler and itself cleanly on Ctrl-C", async () => {
    expect(await server.stop()).toBe(0);
    stopped = true;
    await expect(fetch(`${server.origin}/health`)).rejects.toThrow();
  });
});
