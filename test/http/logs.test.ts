import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { linkedUser, withKey } from "../support/accounts";
import { bridge } from "../support/bridge";
import { placed } from "../support/calls";
import { leaksIn, noteSecret, SECRET_SHAPES } from "../support/log-scan";
import { makeCallsDue, tick } from "../support/webhooks";

/**
 * After every test file, test/support/setup.ts asserts that no line the Worker logged holds a
 * token, a code or an API key. These tests show that scan can fail, and drive the paths that log.
 */
describe("the log scan", () => {
  it("finds a secret the tests saw, and anything shaped like a token, in a log line", async () => {
    const user = await linkedUser();
    expect(leaksIn(JSON.stringify({ level: "error", note: user.apiKey }))).not.toEqual([]);
    expect(leaksIn('{"level":"info","event":"tick","polled":3}')).toEqual([]);
    const samples = [
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfMTIzNDUifQ.c2lnbmF0dXJlX2hlcmU",
      "sbx_rt_0123456789abcdef",
      "sbx_code_0123456789abcdef",
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ];
    for (const [i, [name]] of SECRET_SHAPES.entries()) expect(leaksIn(`x ${samples[i]} y`, [])).toEqual([name]);
  });

  it("keeps only values that look like secrets (error codes and words are not)", () => {
    noteSecret("internal_error");
    noteSecret("payload_too_large");
    expect(leaksIn('{"code":"internal_error"}')).toEqual([]);
  });
});

describe("what the Worker logs holds no secret", () => {
  it("a 500 logs the request id, the code and the kind of failure only", async () => {
    const user = await linkedUser();
    const errors = vi.spyOn(console, "error");
    vi.spyOn(env.DB, "batch").mockRejectedValueOnce(new Error(`D1 failed near ${user.apiKey}`));
    const res = await bridge("/v1/calls?limit=1", withKey(user.apiKey));
    expect(res.status).toBe(500);
    const logged = errors.mock.calls.map((args) => args.join(" "));
    expect(logged.some((line) => line.includes('"code":"internal_error"'))).toBe(true);
    for (const line of logged) expect(leaksIn(line)).toEqual([]);
  });

  it("a cron tick that polls a user's calls logs counts only", async () => {
    const user = await linkedUser();
    const call = await placed(user.apiKey);
    await makeCallsDue([call.id]);
    const logs = vi.spyOn(console, "log");
    await tick();
    const logged = logs.mock.calls.map((args) => args.join(" "));
    expect(logged.some((line) => line.includes('"event":"tick"'))).toBe(true);
    for (const line of logged) expect(leaksIn(line)).toEqual([]);
  });
});
