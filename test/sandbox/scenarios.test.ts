import { describe, expect, it } from "vitest";
import { endSandboxCall, sandboxSignIn } from "../support/sandbox";
import {
  ageSandboxCall,
  createdCall,
  freshEmail,
  type SandboxCall,
  sandboxCallRow,
  sandboxGet,
  sandboxWithVars,
} from "../support/sandbox-extra";
import { sandboxPhone } from "../support/sandbox-phones";

const TERMINAL = ["success", "no_answer", "busy", "failed", "voicemail", "cancelled"];
const TASK = "Book a table for two by the window";

const read = async (token: string, id: string) =>
  (await (await sandboxGet(`/v1/calls/${id}`, token)).json()) as SandboxCall;

describe("a call's progress", () => {
  it("is queued right after it is placed, then in progress, and not terminal until SANDBOX_CALL_SECONDS pass", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken);
    expect(call.status).toBe("queued");
    await ageSandboxCall(call.call_id, 5);
    const running = await read(accessToken, call.call_id);
    expect(running.status).toBe("in_progress");
    expect(running).toMatchObject({
      highlights: null,
      next_steps: null,
      duration_seconds: null,
      metadata: { ended_at: null },
      ended_at: null,
    });
  });

  it("ends SANDBOX_CALL_SECONDS (20 by default) after it was placed", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken);
    const row = (await sandboxCallRow(call.call_id))!;
    expect(row.ends_at - row.created_at).toBe(20_000);
  });

  it("follows a different SANDBOX_CALL_SECONDS", async () => {
    const email = freshEmail();
    const { accessToken } = await sandboxSignIn(email);
    const res = await sandboxWithVars({ SANDBOX_CALL_SECONDS: "7" }, "/v1/calls", {
      method: "POST",
      headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" },
      body: JSON.stringify({
        submission: {
          task_category: "general",
          task_description: "Ask about opening hours",
          respondent_phone: "+14155551234",
        },
        timezone: "Europe/Madrid",
      }),
    });
    expect(res.status).toBe(201);
    const row = (await sandboxCallRow(((await res.json()) as SandboxCall).call_id))!;
    expect(row.ends_at - row.created_at).toBe(7_000);
  });

  it("with a range SANDBOX_CALL_SECONDS=5-120 gives each call its own length inside it", async () => {
    const { accessToken } = await sandboxSignIn(freshEmail().replace("@", "+calls100@"));
    const lengths: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await sandboxWithVars({ SANDBOX_CALL_SECONDS: "5-120" }, "/v1/calls", {
        method: "POST",
        headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" },
        body: JSON.stringify({
          submission: {
            task_category: "general",
            task_description: "Ask about opening hours",
            respondent_phone: "+14155551234",
          },
          timezone: "UTC",
        }),
      });
      expect(res.status).toBe(201);
      const row = (await sandboxCallRow(((await res.json()) as SandboxCall).call_id))!;
      lengths.push(row.ends_at - row.created_at);
    }
    expect(lengths.every((ms) => ms >= 5_000 && ms <= 120_000)).toBe(true);
    expect(new Set(lengths).size).toBeGreaterThan(6);
  });

  it("with SANDBOX_CALL_SECONDS=0 is over as soon as it is placed", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await sandboxWithVars({ SANDBOX_CALL_SECONDS: "0" }, "/v1/calls", {
      method: "POST",
      headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" },
      body: JSON.stringify({
        submission: {
          task_category: "general",
          task_description: "Ask about opening hours",
          respondent_phone: "+14155551234",
        },
        timezone: "UTC",
      }),
    });
    expect(((await res.json()) as SandboxCall).status).toBe("success");
  });

  it("is terminal once its time has passed, with ended_at set", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken);
    await ageSandboxCall(call.call_id, 21);
    const ended = await read(accessToken, call.call_id);
    expect(TERMINAL).toContain(ended.status);
    expect(Date.parse(ended.metadata.ended_at!)).toBeGreaterThan(Date.parse(ended.metadata.created_at));
    expect(ended.ended_at).toBe(ended.metadata.ended_at);
  });

  it("shows the same status in the list as on its own", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken, sandboxPhone("busy"));
    await endSandboxCall(call.call_id);
    const list = (await (await sandboxGet("/v1/calls", accessToken)).json()) as { calls: SandboxCall[] };
    expect(list.calls[0]).toMatchObject({ call_id: call.call_id, status: "busy" });
  });
});

describe("outcome by the number's last four digits", () => {
  it.each([
    [sandboxPhone("no_answer"), "no_answer"],
    [sandboxPhone("busy"), "busy"],
    [sandboxPhone("failed"), "failed"],
    [sandboxPhone("voicemail"), "voicemail"],
    [sandboxPhone("terminated"), "terminated"],
  ])("%s ends as %s", async (phone, outcome) => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken, phone, { task_description: TASK });
    expect(TERMINAL).not.toContain(call.status);
    await endSandboxCall(call.call_id);
    const ended = await read(accessToken, call.call_id);
    expect(ended.status).toBe(outcome);
    expect(ended.highlights).toEqual(expect.any(String));
    expect(ended.next_steps).toEqual(expect.any(String));
    expect(ended.duration_seconds).toEqual(expect.any(Number));
    expect(ended.metadata.ended_at).toEqual(expect.any(String));
  });

  it("the voicemail number leaves a message about the task, in the highlights and the transcript", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken, sandboxPhone("voicemail"), { task_description: TASK });
    await endSandboxCall(call.call_id);
    const ended = await read(accessToken, call.call_id);
    expect(ended.highlights).toContain(TASK);
    expect(ended.duration_seconds).toBeGreaterThan(0);
    const transcript = (await (await sandboxGet(`/v1/calls/${call.call_id}/transcript`, accessToken)).json()) as {
      entries: { content: string }[];
    };
    expect(transcript.entries.map((e) => e.content).join(" ")).toContain(TASK);
  });

  it("the never-ending number never finishes: still in progress long after", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken, sandboxPhone("never"));
    await ageSandboxCall(call.call_id, 7 * 24 * 3600);
    const later = await read(accessToken, call.call_id);
    expect(later.status).toBe("in_progress");
    expect(TERMINAL).not.toContain(later.status);
    expect(later).toMatchObject({ highlights: null, duration_seconds: null, metadata: { ended_at: null } });
  });

  it.each([["+14155551234"], ["+14155550000"], ["+442071838750"], ["+34911234567"]])(
    "%s (any other number) succeeds, with results that mention the task",
    async (phone) => {
      const { accessToken } = await sandboxSignIn();
      const call = await createdCall(accessToken, phone, {
        task_description: TASK,
        appointment_date: "2026-01-28",
        appointment_time: "20:00",
        user_name: "John Smith",
      });
      await endSandboxCall(call.call_id);
      const ended = await read(accessToken, call.call_id);
      expect(ended.status).toBe("success");
      expect(ended.highlights).toContain(TASK);
      expect(ended.highlights).toContain("Italian Bistro");
      expect(ended.next_steps).toMatch(/\w+/);
      expect(ended.duration_seconds).toBeGreaterThan(0);
      expect(ended.result_summary).toBe(ended.highlights);
      const transcript = (await (await sandboxGet(`/v1/calls/${call.call_id}/transcript`, accessToken)).json()) as {
        entries: { speaker: string; content: string }[];
      };
      const text = transcript.entries.map((e) => e.content).join(" ");
      expect(text).toContain(TASK);
      expect(text).toContain("John Smith");
      expect(new Set(transcript.entries.map((e) => e.speaker))).toEqual(new Set(["AI", "HUMAN"]));
    },
  );

  it("reads the same on every request (stable duration and results)", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken);
    await endSandboxCall(call.call_id);
    const a = await read(accessToken, call.call_id);
    const b = await read(accessToken, call.call_id);
    expect(b).toEqual(a);
  });

  it.each([
    ["clinic", "Appointment booked."],
    ["hotel", "Room availability confirmed."],
    ["general", "They answered the question."],
  ])("a successful %s task says what was done", async (category, said) => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken, "+14155551234", { task_category: category, party_size: undefined });
    await endSandboxCall(call.call_id);
    expect((await read(accessToken, call.call_id)).highlights).toContain(said);
  });
});

describe("a faithful call: duration, minutes and timestamps match it", () => {
  it("a 20 s call lasts 20 s: duration_seconds, ended_at − created_at and one minute used agree", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken);
    await ageSandboxCall(call.call_id, 25);
    const ended = await read(accessToken, call.call_id);
    expect(ended.status).toBe("success");
    const created = Date.parse(ended.metadata.created_at!);
    const end = Date.parse(ended.metadata.ended_at!);
    expect(ended.duration_seconds).toBe(20);
    expect((end - created) / 1000).toBe(20);
    const stats = (await (await sandboxGet("/v1/users/me/statistics", accessToken)).json()) as { minutes_used: number };
    expect(stats.minutes_used).toBe(1);
  });

  it("every transcript line is timestamped between the call's start and its end", async () => {
    const { accessToken } = await sandboxSignIn();
    for (const phone of ["+14155551234", sandboxPhone("voicemail")]) {
      const call = await createdCall(accessToken, phone);
      await ageSandboxCall(call.call_id, 25);
      const ended = await read(accessToken, call.call_id);
      const { entries } = (await (await sandboxGet(`/v1/calls/${call.call_id}/transcript`, accessToken)).json()) as {
        entries: { timestamp: string }[];
      };
      expect(entries.length).toBeGreaterThan(1);
      const times = entries.map((e) => Date.parse(e.timestamp));
      expect(
        times.every((t) => t >= Date.parse(ended.metadata.created_at!) && t <= Date.parse(ended.metadata.ended_at!)),
        phone,
      ).toBe(true);
      expect([...times].sort((a, b) => a - b)).toEqual(times);
    }
  });

  it("60 calls of 20 s fit the default plan with room to spare (minutes are the calls' own)", async () => {
    const { accessToken } = await sandboxSignIn();
    const stats = (await (await sandboxGet("/v1/users/me/statistics", accessToken)).json()) as {
      minutes_allocated: number;
      calls_allocated: number;
    };
    // An hour of trying recipes: about one 20 s call a minute, each billed one minute.
    expect(stats.calls_allocated).toBeGreaterThanOrEqual(60);
    expect(stats.minutes_allocated).toBeGreaterThanOrEqual(60);
  });
});

describe("sentences without a business name", () => {
  it('name the number called, never "the business"', async () => {
    const { accessToken } = await sandboxSignIn();
    for (const phone of [sandboxPhone("no_answer"), "+14155551234"]) {
      const call = await createdCall(accessToken, phone, { business_name: undefined });
      await ageSandboxCall(call.call_id, 25);
      const ended = await read(accessToken, call.call_id);
      expect(ended.highlights, phone).toContain(phone);
      expect(ended.highlights, phone).not.toContain("the business");
    }
  });
});
