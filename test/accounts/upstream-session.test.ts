import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deps } from "../../src/domain/deps";
import { withUpstream } from "../../src/domain/upstream-session";
import { ApiError } from "../../src/errors";
import { linkedUser } from "../support/accounts";
import { sandboxRequestCount } from "../support/sandbox";

const d = () => deps(env);
const expireStoredAccess = (userId: string) =>
  env.DB.prepare("UPDATE vault SET access_expires_at = ? WHERE user_id = ?")
    .bind(Date.now() - 1000, userId)
    .run();
const statistics = (userId: string) => withUpstream(d(), userId, (token) => d().upstream.statistics(token));

describe("KallyAI access tokens", () => {
  it("are used while fresh, without refreshing", async () => {
    const user = await linkedUser();
    const before = await sandboxRequestCount("POST", "/v1/auth/refresh");
    await statistics(user.userId);
    await statistics(user.userId);
    expect(await sandboxRequestCount("POST", "/v1/auth/refresh")).toBe(before);
  });

  it("50 concurrent requests with an expired token → exactly one refresh and 50 successes", async () => {
    const user = await linkedUser();
    await expireStoredAccess(user.userId);
    const before = await sandboxRequestCount("POST", "/v1/auth/refresh");
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => statistics(user.userId)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(50);
    expect(await sandboxRequestCount("POST", "/v1/auth/refresh")).toBe(before + 1);
  });

  it("a token KallyAI refuses (401) is refreshed and the request retried once", async () => {
    const user = await linkedUser();
    // KallyAI expired it early: the bridge's clock still thinks it is fresh.
    await env.DB.prepare("UPDATE sandbox_tokens SET expires_at = ? WHERE kind = 'access'")
      .bind(Date.now() - 1)
      .run();
    const before = await sandboxRequestCount("POST", "/v1/auth/refresh");
    await expect(statistics(user.userId)).resolves.toMatchObject({ plan_type: "sandbox" });
    expect(await sandboxRequestCount("POST", "/v1/auth/refresh")).toBe(before + 1);
  });

  it("a refresh refused as invalid marks the link broken: 409 relink_required from then on", async () => {
    const user = await linkedUser();
    await expireStoredAccess(user.userId);
    await env.DB.prepare("UPDATE sandbox_tokens SET used_at = ? WHERE kind = 'refresh'").bind(Date.now()).run();
    const err = await statistics(user.userId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: "relink_required" });
    expect((await d().accounts.user(user.userId))!.link_state).toBe("relink_required");
    const before = await sandboxRequestCount("POST", "/v1/auth/refresh");
    await expect(statistics(user.userId)).rejects.toMatchObject({ code: "relink_required" });
    expect(await sandboxRequestCount("POST", "/v1/auth/refresh")).toBe(before);
  });
});
