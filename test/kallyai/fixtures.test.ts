import { describe, expect, it } from "vitest";
import { upstreamFailure } from "../../src/kallyai/errors";
import {
  CallRequest,
  QuotaExceededBody,
  TokenSet,
  UpstreamBillingPortal,
  UpstreamCall,
  UpstreamCallList,
  UpstreamStatistics,
  UpstreamSubscription,
  UpstreamTranscript,
} from "../../src/kallyai/schemas";
import { viewOfUpstream } from "../../src/shared/call-view";
import { FIXTURES, type Fixture, SOURCES } from "../fixtures/kallyai";

/** What the client makes of a fixture: the same parsing and mapping the bridge uses on KallyAI's answers. */
function read(f: Fixture): Record<string, unknown> {
  switch (f.kind) {
    case "token": {
      const tokens = TokenSet.parse(f.body);
      return { ...tokens, has_refresh_token: Boolean(tokens.refresh_token) };
    }
    case "call":
      return viewOfUpstream(UpstreamCall.parse(f.body)) as unknown as Record<string, unknown>;
    case "call_list": {
      const list = UpstreamCallList.parse(f.body);
      const first = list.items[0] ? viewOfUpstream(list.items[0]) : null;
      return { total: list.total, first_id: first?.id, first_status: first?.status, first_phone: first?.phone };
    }
    case "transcript":
      return UpstreamTranscript.parse(f.body);
    case "statistics":
      return UpstreamStatistics.parse(f.body);
    case "subscription":
      return UpstreamSubscription.parse(f.body);
    case "billing":
      return UpstreamBillingPortal.parse(f.body);
    case "call_request":
      return CallRequest.parse(f.body).submission;
    case "quota":
    case "error": {
      expect(f.kind !== "quota" || QuotaExceededBody.safeParse(f.body).success).toBe(true);
      const err = upstreamFailure(f.status ?? 400, f.body);
      return {
        status: err.status,
        code: err.code,
        message: err.message,
        upgrade_url: err.extra.upgradeUrl,
        correlation_id: err.extra.upstream?.correlation_id,
      };
    }
  }
}

describe("KallyAI's published examples, as the bridge's client reads them", () => {
  for (const fixture of FIXTURES) {
    it(`${fixture.name} (${fixture.source}: ${fixture.where})`, () => {
      const got = read(fixture);
      const { message_contains, ...reads } = fixture.reads;
      expect(got).toMatchObject(reads);
      if (typeof message_contains === "string") expect(String(got.message)).toContain(message_contains);
    });
  }

  it("covers every source, and every kind of answer the client parses", () => {
    expect(new Set(FIXTURES.map((f) => f.source))).toEqual(new Set(Object.keys(SOURCES)));
    expect(new Set(FIXTURES.map((f) => f.kind))).toEqual(
      new Set([
        "token",
        "call",
        "call_list",
        "transcript",
        "statistics",
        "subscription",
        "billing",
        "quota",
        "error",
        "call_request",
      ]),
    );
  });

  it("a refusal's correlation id and raw text stay out of the caller's message", () => {
    const err = upstreamFailure(422, {
      error: { code: "safety_violation", details: { message: "raw\u0000text" }, correlation_id: "corr-1" },
    });
    expect(err.message).not.toContain("corr-1");
    expect(err.message).not.toContain("raw");
    expect(err.extra.upstream).toEqual({
      status: 422,
      code: "safety_violation",
      message: "raw text",
      correlation_id: "corr-1",
    });
  });

  it("an unknown code's message is quoted on one line, control characters gone, at most 300 characters", () => {
    const err = upstreamFailure(400, {
      error: { code: "odd", details: { message: `line\n\u001b[31m${"x".repeat(400)}` } },
    });
    expect(err.message).not.toContain("\n");
    expect(err.message).not.toContain(String.fromCharCode(27));
    expect(err.message.length).toBeLessThan(360);
  });
});
