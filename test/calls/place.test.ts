import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { linkedUser, withKey } from "../support/accounts";
import { bridge, errorOf } from "../support/bridge";
import { place, placed, restaurant, sandboxCallOf, upstreamCallCount } from "../support/calls";
import { sandboxRequestCount } from "../support/sandbox";

/** What KallyAI (the sandbox) was sent for the bridge's call `id`. */
const submissionOf = async (id: string) => JSON.parse((await sandboxCallOf(id))!.request);

describe("POST /v1/calls", () => {
  it("places a call from flat JSON fields and answers 202 with links, recording it as pending", async () => {
    const user = await linkedUser();
    const res = await place(user.apiKey, {
      ...restaurant,
      name: "John Smith",
      date: "2026-01-28",
      time: "20:00",
      timezone: "Europe/Madrid",
      urgent: true,
      instructions: "Ask for a window table\nMention a birthday",
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as {
      id: string;
      status: string;
      created_at: string;
      links: Record<string, string>;
    };
    expect(body).toMatchObject({
      status: expect.stringMatching(/queued|in_progress/),
      links: { self: `/v1/calls/${body.id}` },
    });
    const row = await env.DB.prepare("SELECT user_id, status, next_poll_at FROM calls WHERE id = ?")
      .bind(body.id)
      .first<{ user_id: string; next_poll_at: number }>();
    expect(row).toMatchObject({ user_id: user.userId });
    expect(row!.next_poll_at).toBeGreaterThan(Date.now());
    const sent = await submissionOf(body.id);
    expect(sent).toEqual({
      submission: {
        task_category: "restaurant",
        task_description: "Reserve a table for 4 at 8pm",
        respondent_phone: "+14155551234",
        business_name: "Italian Bistro",
        user_name: "John Smith",
        appointment_date: "2026-01-28",
        appointment_time: "20:00",
        party_size: 4,
        language: "en",
        call_language: "en",
        is_urgent: true,
        additional_instructions: ["Ask for a window table", "Mention a birthday"],
      },
      timezone: "Europe/Madrid",
    });
  });

  it("defaults category to general, language to en and the timezone to the bridge's", async () => {
    const user = await linkedUser();
    const { id } = await placed(user.apiKey, { phone: "+14155551234", task: "Ask about store hours today" });
    expect(await submissionOf(id)).toMatchObject({
      submission: { task_category: "general", language: "en" },
      timezone: "America/New_York",
    });
  });

  it("takes a form-encoded body with a national phone format (what a Shortcut sends)", async () => {
    const user = await linkedUser();
    const res = await bridge("/v1/calls", {
      method: "POST",
      ...withKey(user.apiKey),
      body: new URLSearchParams({
        phone: "(415) 555-1234",
        task: "Ask whether they have oat milk",
        party_size: "2",
        urgent: "yes",
        business: "",
      }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect((await submissionOf(id)).submission).toMatchObject({
      respondent_phone: "+14155551234",
      party_size: 2,
      is_urgent: true,
    });
  });

  it("takes a multipart form and a query string", async () => {
    const user = await linkedUser();
    const form = new FormData();
    form.set("phone", "415.555.1234");
    form.set("task", "Ask about store hours today");
    expect((await bridge("/v1/calls", { method: "POST", ...withKey(user.apiKey), body: form })).status).toBe(202);
    const query = new URLSearchParams({ phone: "+44 20 7946 0958", task: "Ask about store hours today" });
    const res = await bridge(`/v1/calls?${query}`, { method: "POST", ...withKey(user.apiKey) });
    expect(res.status).toBe(202);
    expect((await submissionOf(((await res.json()) as { id: string }).id)).submission.respondent_phone).toBe(
      "+442079460958",
    );
  });

  it("takes KallyAI's own nested body unchanged", async () => {
    const user = await linkedUser();
    const nested = {
      submission: {
        task_category: "clinic",
        task_description: "Schedule dental checkup",
        respondent_phone: "+14155551234",
        user_name: "Jane Doe",
        time_preference_text: "morning before 11am",
      },
      timezone: "America/New_York",
    };
    const { id } = await placed(user.apiKey, nested);
    expect(await submissionOf(id)).toEqual(nested);
  });

  it.each([
    ["(415) 555-1234", "US", "+14155551234"],
    ["415.555.1234", "US", "+14155551234"],
    ["+44 20 7946 0958", "US", "+442079460958"],
    ["0034 912 345 678", "US", "+34912345678"],
    ["612 345 678", "ES", "+34612345678"],
  ])("reads the phone %s (country %s) as %s", async (phone, country, e164) => {
    const user = await linkedUser();
    const { id } = await placed(user.apiKey, { phone, country, task: "Ask about store hours today" });
    expect((await submissionOf(id)).submission.respondent_phone).toBe(e164);
  });

  it("answers 422 missing_phone_number without a phone", async () => {
    const user = await linkedUser();
    const res = await place(user.apiKey, { task: "Ask about store hours today" });
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({ code: "missing_phone_number", field: "phone" });
  });

  it("answers 422 invalid_phone for a number that is not one", async () => {
    const user = await linkedUser();
    for (const phone of ["hello", "12", "+1 415 555 12345678"]) {
      const res = await place(user.apiKey, { phone, task: "Ask about store hours today" });
      expect(res.status, phone).toBe(422);
      expect((await errorOf(res)).code, phone).toBe("invalid_phone");
    }
  });

  it("refuses emergency numbers in any format, and never sends them to KallyAI", async () => {
    const user = await linkedUser();
    const before = await sandboxRequestCount("POST", "/v1/calls");
    for (const phone of [
      "911",
      "9-1-1",
      "+1 911",
      "(911)",
      "112",
      "+44 999",
      "0034 112",
      "000",
      "15",
      "17",
      "18",
      "110",
      "119",
    ]) {
      const res = await place(user.apiKey, { phone, task: "Ask about store hours today" });
      expect(res.status, phone).toBe(422);
      expect((await errorOf(res)).code, phone).toBe("emergency_number");
    }
    const nested = await place(user.apiKey, {
      submission: { task_category: "general", task_description: "Ask about store hours", respondent_phone: "+1911" },
      timezone: "UTC",
    });
    expect((await errorOf(nested)).code).toBe("emergency_number");
    expect(await sandboxRequestCount("POST", "/v1/calls")).toBe(before);
  });

  it.each([
    [{ date: "2026-02-30" }, "date"],
    [{ date: "tomorrow" }, "date"],
    [{ time: "8pm" }, "time"],
    [{ time: "24:00" }, "time"],
    [{ timezone: "Mars/Olympus" }, "timezone"],
    [{ category: "bar" }, "category"],
    [{ language: "fr" }, "language"],
    [{ party_size: 0 }, "party_size"],
    [{ party_size: 51 }, "party_size"],
    [{ party_size: "four" }, "party_size"],
    [{ task: "short" }, "task"],
    [{ task: "x".repeat(1001) }, "task"],
  ])("refuses %j naming the field %s", async (bad, field) => {
    const user = await linkedUser();
    const res = await place(user.apiKey, { ...restaurant, ...bad });
    expect(res.status).toBe(422);
    const error = await errorOf(res);
    expect(error).toMatchObject({ code: "validation_error", field });
    expect(error.message).toContain(field);
  });

  it("refuses a 2 MB body with 413", async () => {
    const user = await linkedUser();
    const res = await place(user.apiKey, { ...restaurant, instructions: "x".repeat(2 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toMatchObject({ code: "payload_too_large" });
  });

  it("refuses a wrong content type with 415 and malformed JSON with 400", async () => {
    const user = await linkedUser();
    const xml = await bridge("/v1/calls", {
      method: "POST",
      ...withKey(user.apiKey, { "content-type": "application/xml" }),
      body: "<call/>",
    });
    expect(xml.status).toBe(415);
    expect(await errorOf(xml)).toMatchObject({ code: "unsupported_media_type" });
    const broken = await bridge("/v1/calls", {
      method: "POST",
      ...withKey(user.apiKey, { "content-type": "application/json" }),
      body: '{"phone": ',
    });
    expect(broken.status).toBe(400);
    expect(await errorOf(broken)).toMatchObject({ code: "malformed_json" });
  });

  it("needs the calls:write scope", async () => {
    const user = await linkedUser();
    const reader = (await (
      await bridge("/v1/keys", {
        method: "POST",
        ...withKey(user.apiKey, { "content-type": "application/json" }),
        body: JSON.stringify({ name: "r", scopes: ["calls:read"] }),
      })
    ).json()) as { api_key: string };
    const res = await place(reader.api_key);
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: "insufficient_scope" });
  });
});

describe("POST /v1/calls with an Idempotency-Key", () => {
  it("answers a retry with the first response and places no second call", async () => {
    const user = await linkedUser();
    const first = await place(user.apiKey, restaurant, { "idempotency-key": "retry-1" });
    const before = await upstreamCallCount();
    const again = await place(user.apiKey, restaurant, { "idempotency-key": "retry-1" });
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual(await first.json());
    expect(await upstreamCallCount()).toBe(before);
  });

  it("takes the key as a field too", async () => {
    const user = await linkedUser();
    const a = await placed(user.apiKey, { ...restaurant, idempotency_key: "field-key" });
    const b = await placed(user.apiKey, { ...restaurant, idempotency_key: "field-key" });
    expect(b.id).toBe(a.id);
  });

  it("20 concurrent copies → one upstream call and 20 identical answers", async () => {
    const user = await linkedUser();
    const before = await sandboxRequestCount("POST", "/v1/calls");
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => place(user.apiKey, restaurant, { "idempotency-key": "burst" })),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(202));
    const bodies = await Promise.all(answers.map((r) => r.text()));
    expect(new Set(bodies).size).toBe(1);
    expect(await sandboxRequestCount("POST", "/v1/calls")).toBe(before + 1);
  });

  it("the same key with another body → 422 idempotency_conflict", async () => {
    const user = await linkedUser();
    await placed(user.apiKey, { ...restaurant, idempotency_key: "k-conflict" });
    const res = await place(user.apiKey, { ...restaurant, party_size: 6 }, { "idempotency-key": "k-conflict" });
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({ code: "idempotency_conflict" });
  });

  it("sends KallyAI an Idempotency-Key of the call's own, so a retried placement returns the same call", async () => {
    const user = await linkedUser();
    const { id } = await placed(user.apiKey, { ...restaurant, idempotency_key: "caller-key" });
    expect((await sandboxCallOf(id))!.idempotency_key).toBe(`bridge-${id}`);
  });

  it("keys are per user: the same key from two users places two calls", async () => {
    const [a, b] = [await linkedUser(), await linkedUser()];
    const x = await placed(a.apiKey, { ...restaurant, idempotency_key: "shared" });
    const y = await placed(b.apiKey, { ...restaurant, idempotency_key: "shared" });
    expect(x.id).not.toBe(y.id);
  });
});

describe("the hourly guard", () => {
  async function keyWithLimit(apiKey: string, limit: number) {
    const res = await bridge("/v1/keys", {
      method: "POST",
      ...withKey(apiKey, { "content-type": "application/json" }),
      body: JSON.stringify({ name: "guarded", calls_per_hour: limit }),
    });
    return ((await res.json()) as { api_key: string }).api_key;
  }

  it("with limit 3, the 4th call in the hour → 429 with Retry-After", async () => {
    const user = await linkedUser();
    const key = await keyWithLimit(user.apiKey, 3);
    for (let i = 0; i < 3; i++) expect((await place(key)).status).toBe(202);
    const fourth = await place(key);
    expect(fourth.status).toBe(429);
    expect(Number(fourth.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await errorOf(fourth)).toMatchObject({ code: "rate_limited" });
    // Another key of the same user has its own allowance.
    expect((await place(user.apiKey)).status).toBe(202);
  });

  it("holds when the 4 requests arrive at once", async () => {
    const user = await linkedUser();
    const key = await keyWithLimit(user.apiKey, 3);
    const before = await sandboxRequestCount("POST", "/v1/calls");
    const statuses = (await Promise.all(Array.from({ length: 4 }, () => place(key)))).map((r) => r.status).sort();
    expect(statuses).toEqual([202, 202, 202, 429]);
    expect(await sandboxRequestCount("POST", "/v1/calls")).toBe(before + 3);
  });

  it("does not count replays of the same idempotency key, nor calls KallyAI refused", async () => {
    const user = await linkedUser();
    const key = await keyWithLimit(user.apiKey, 1);
    expect((await place(key, { ...restaurant, phone: "+8613800138000" })).status).toBe(403);
    expect((await place(key, restaurant, { "idempotency-key": "once" })).status).toBe(202);
    expect((await place(key, restaurant, { "idempotency-key": "once" })).status).toBe(202);
    expect((await place(key, restaurant, { "idempotency-key": "twice" })).status).toBe(429);
  });
});
