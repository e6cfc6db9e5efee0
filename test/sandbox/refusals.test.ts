import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bridge, errorOf, json } from "../support/bridge";
import { auth, sandboxSignIn } from "../support/sandbox";
import { placeSandboxCall, sandboxGet } from "../support/sandbox-extra";
import { sandboxPhone } from "../support/sandbox-phones";

/** Places a call and expects it refused with `status` and `code`; also checks nothing was stored. */
async function expectRefused(res: Response, status: number, code: string, token: string) {
  expect(res.status).toBe(status);
  const error = await errorOf(res);
  expect(error.code).toBe(code);
  expect(error.message.length).toBeGreaterThan(10);
  expect(((await (await sandboxGet("/v1/calls", token)).json()) as { total: number }).total).toBe(0);
}

describe("POST /sandbox/v1/calls refusals (KallyAI's error table)", () => {
  it.each([["+1911"], ["911"], ["112"], ["+44999"], ["9-1-1"], ["+34 112"], ["(112)"]])(
    "the emergency number %j is 422 emergency_number",
    async (phone) => {
      const { accessToken } = await sandboxSignIn();
      await expectRefused(await placeSandboxCall(accessToken, phone), 422, "emergency_number", accessToken);
    },
  );

  it.each([["+8613800138000"], ["+5511912345678"], ["+819012345678"]])(
    "a number in an unsupported country (%s) is 403 country_restriction",
    async (phone) => {
      const { accessToken } = await sandboxSignIn();
      await expectRefused(await placeSandboxCall(accessToken, phone), 403, "country_restriction", accessToken);
    },
  );

  it.each([["+19005551234"], ["+19765551234"]])("the premium-rate number %s is 422 toll_number", async (phone) => {
    const { accessToken } = await sandboxSignIn();
    await expectRefused(await placeSandboxCall(accessToken, phone), 422, "toll_number", accessToken);
  });

  it("a number ending 0666 is 403 blocked_number (the reference's status)", async () => {
    const { accessToken } = await sandboxSignIn();
    await expectRefused(
      await placeSandboxCall(accessToken, sandboxPhone("blocked")),
      403,
      "blocked_number",
      accessToken,
    );
  });

  it.each([
    ["Call them and threaten to leave a bad review"],
    ["Threaten the manager until they refund me"],
    ["Harass the owner about the noise"],
    ["Tell them I will kill them"],
    ["Say we'll burn the place down if they don't refund me"],
    ["Tell him I'm going to hurt him"],
    ["Let them know they will be dead by Friday"],
    ["Make them pay for what they did to me, I know where they live"],
  ])("the task %j is 422 safety_violation", async (task) => {
    const { accessToken } = await sandboxSignIn();
    await expectRefused(
      await placeSandboxCall(accessToken, "+14155551234", { task_description: task }),
      422,
      "safety_violation",
      accessToken,
    );
  });

  it.each([
    ["Book a table for two at 8pm"],
    ["Ask whether the killer whale show runs on Sunday"],
    ["Ask if they can beat the price I was quoted"],
    ["Reschedule my appointment to Friday"],
  ])("the ordinary task %j is placed", async (task) => {
    const { accessToken } = await sandboxSignIn();
    expect((await placeSandboxCall(accessToken, "+14155551234", { task_description: task })).status).toBe(201);
  });

  it.each([
    ["language", "fr"],
    ["call_language", "fr"],
    ["language", "de"],
  ])("%s %j is 422 unsupported_language", async (field, lang) => {
    const { accessToken } = await sandboxSignIn();
    await expectRefused(
      await placeSandboxCall(accessToken, "+14155551234", { [field]: lang }),
      422,
      "unsupported_language",
      accessToken,
    );
  });

  it("Spanish is supported", async () => {
    const { accessToken } = await sandboxSignIn();
    expect((await placeSandboxCall(accessToken, "+34911234567", { language: "es", call_language: "es" })).status).toBe(
      201,
    );
  });

  it.each([
    [undefined],
    [""],
    ["4155551234"],
    ["+1 415 555 1234"],
    ["+1-415-555-1234"],
    ["tel:+14155551234"],
    ["+0123456789"],
    [14155551234],
  ])("a missing or non-E.164 phone (%j) is 422 missing_phone_number", async (phone) => {
    const { accessToken } = await sandboxSignIn();
    await expectRefused(
      await placeSandboxCall(accessToken, "+14155551234", { respondent_phone: phone }),
      422,
      "missing_phone_number",
      accessToken,
    );
  });

  it("a body without a submission is 422 missing_phone_number", async () => {
    const { accessToken } = await sandboxSignIn();
    await expectRefused(
      await json("/sandbox/v1/calls", { timezone: "UTC" }, { headers: auth(accessToken) }),
      422,
      "missing_phone_number",
      accessToken,
    );
  });

  it.each([
    ["party_size 0", { party_size: 0 }, "party_size"],
    ["party_size 51", { party_size: 51 }, "party_size"],
    ["a task shorter than 10 characters", { task_description: "Book it" }, "task_description"],
    ["a task longer than 1000 characters", { task_description: "x".repeat(1001) }, "task_description"],
    ["an unknown task_category", { task_category: "plumber" }, "task_category"],
    ["a date not in YYYY-MM-DD", { appointment_date: "28/01/2026" }, "appointment_date"],
    ["a time not in 24 h HH:MM", { appointment_time: "8pm" }, "appointment_time"],
    ["a business_name longer than 200 characters", { business_name: "b".repeat(201) }, "business_name"],
  ])("%s is 422 validation_error naming the field", async (_, overrides, field) => {
    const { accessToken } = await sandboxSignIn();
    const res = await placeSandboxCall(accessToken, "+14155551234", overrides);
    expect(res.status).toBe(422);
    const error = await errorOf(res);
    expect(error.code).toBe("validation_error");
    expect(error.message).toContain(field);
  });

  it.each([["Mars/Olympus_Mons"], [""], ["EST5EDT-nope"]])(
    "the timezone %j is 422 validation_error",
    async (timezone) => {
      const { accessToken } = await sandboxSignIn();
      const body = {
        submission: {
          task_category: "restaurant",
          task_description: "Reserve a table for 4 at 8pm",
          respondent_phone: "+14155551234",
        },
        timezone,
      };
      const res = await json("/sandbox/v1/calls", body, { headers: auth(accessToken) });
      expect(res.status).toBe(422);
      const error = await errorOf(res);
      expect(error.code).toBe("validation_error");
      expect(error.message).toContain("timezone");
    },
  );

  it("a missing timezone is 422 validation_error", async () => {
    const { accessToken } = await sandboxSignIn();
    const body = {
      submission: {
        task_category: "restaurant",
        task_description: "Reserve a table for 4 at 8pm",
        respondent_phone: "+14155551234",
      },
    };
    const res = await json("/sandbox/v1/calls", body, { headers: auth(accessToken) });
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({ code: "validation_error" });
  });

  it("an emergency number is refused before anything else is checked", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await placeSandboxCall(accessToken, "911", { language: "fr", task_description: "x" });
    expect(await errorOf(res)).toMatchObject({ code: "emergency_number" });
  });

  it("nothing refused reaches D1", async () => {
    const { accessToken } = await sandboxSignIn();
    const before = await env.DB.prepare("SELECT count(*) AS n FROM sandbox_calls").first<{ n: number }>();
    await placeSandboxCall(accessToken, "+19005551234");
    await placeSandboxCall(accessToken, "+8613800138000");
    const after = await env.DB.prepare("SELECT count(*) AS n FROM sandbox_calls").first<{ n: number }>();
    expect(after!.n).toBe(before!.n);
  });
});

describe("unknown calls", () => {
  it.each([
    ["GET", ""],
    ["GET", "/transcript"],
    ["GET", "/recording"],
    ["POST", "/cancel"],
  ])("%s /sandbox/v1/calls/{unknown}%s is 404 call_not_found", async (method, suffix) => {
    const { accessToken } = await sandboxSignIn();
    const res = await bridge(`/sandbox/v1/calls/${crypto.randomUUID()}${suffix}`, {
      method,
      headers: auth(accessToken),
    });
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: "call_not_found" });
  });
});
