import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bridge, errorOf, json } from "../support/bridge";
import { auth, callBody, endSandboxCall, sandboxSignIn } from "../support/sandbox";
import { createdCall, placeSandboxCall, type SandboxCall, sandboxCallRow, sandboxGet } from "../support/sandbox-extra";
import { sandboxPhone } from "../support/sandbox-phones";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PHONE = "+14155551234";

/** How many calls the user has, as the list's total says. */
const callCount = async (accessToken: string) =>
  ((await (await sandboxGet("/v1/calls", accessToken)).json()) as { total: number }).total;

describe("POST /sandbox/v1/calls", () => {
  it("accepts a call (201) and answers with the call object, not finished yet", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await placeSandboxCall(accessToken, PHONE);
    expect(res.status).toBe(201);
    const call = (await res.json()) as SandboxCall;
    expect(call.call_id).toMatch(UUID);
    expect(["queued", "in_progress"]).toContain(call.status);
    expect(call).toMatchObject({
      highlights: null,
      next_steps: null,
      duration_seconds: null,
      submission: {
        task_category: "restaurant",
        respondent_phone: PHONE,
        business_name: "Italian Bistro",
        party_size: 4,
      },
      metadata: { created_at: expect.any(String), ended_at: null },
      to: PHONE,
      business_name: "Italian Bistro",
    });
    expect(Date.parse(call.metadata.created_at)).not.toBeNaN();
    expect(res.headers.get("idempotent-replayed")).toBeNull();
  });

  it("stores the call in D1 for the signed-in user", async () => {
    const email = `stored-${crypto.randomUUID()}@example.com`;
    const { accessToken } = await sandboxSignIn(email);
    const call = await createdCall(accessToken);
    const row = await env.DB.prepare(
      "SELECT c.*, u.email FROM sandbox_calls c JOIN sandbox_users u ON u.id = c.user_id WHERE c.id = ?",
    )
      .bind(call.call_id)
      .first<{ email: string; request: string; outcome: string }>();
    expect(row).toMatchObject({ email, outcome: "success" });
    expect(JSON.parse(row!.request)).toMatchObject({
      submission: { respondent_phone: PHONE },
      timezone: "America/New_York",
    });
  });

  it("refuses a body that is not JSON with 422", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await bridge("/sandbox/v1/calls", {
      method: "POST",
      headers: { ...auth(accessToken), "content-type": "application/json" },
      body: "{nope",
    });
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({ code: "validation_error" });
  });

  describe("Idempotency-Key", () => {
    it("the same key and body answer with the same call, marked idempotent-replayed", async () => {
      const { accessToken } = await sandboxSignIn();
      const first = await placeSandboxCall(accessToken, PHONE, {}, { "idempotency-key": "key-1" });
      const second = await placeSandboxCall(accessToken, PHONE, {}, { "idempotency-key": "key-1" });
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(first.headers.get("idempotent-replayed")).toBeNull();
      expect(second.headers.get("idempotent-replayed")).toBe("true");
      expect(((await second.json()) as SandboxCall).call_id).toBe(((await first.json()) as SandboxCall).call_id);
      expect(await callCount(accessToken)).toBe(1);
    });

    it("the same key with a different body is refused with 422 idempotency_conflict", async () => {
      const { accessToken } = await sandboxSignIn();
      await placeSandboxCall(accessToken, PHONE, {}, { "idempotency-key": "key-2" });
      const res = await placeSandboxCall(accessToken, PHONE, { party_size: 5 }, { "idempotency-key": "key-2" });
      expect(res.status).toBe(422);
      expect(await errorOf(res)).toMatchObject({ code: "idempotency_conflict" });
      expect(await callCount(accessToken)).toBe(1);
    });

    it("concurrent posts with the same key create one call", async () => {
      const { accessToken } = await sandboxSignIn();
      const responses = await Promise.all(
        Array.from({ length: 5 }, () => placeSandboxCall(accessToken, PHONE, {}, { "idempotency-key": "key-race" })),
      );
      expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      const ids = new Set(await Promise.all(responses.map(async (r) => ((await r.json()) as SandboxCall).call_id)));
      expect(ids.size).toBe(1);
      expect(responses.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(4);
      expect(await callCount(accessToken)).toBe(1);
    });

    it("keys belong to one user: another user's same key places another call", async () => {
      const alice = await sandboxSignIn();
      const bob = await sandboxSignIn();
      const a = (await (
        await placeSandboxCall(alice.accessToken, PHONE, {}, { "idempotency-key": "shared" })
      ).json()) as SandboxCall;
      const res = await placeSandboxCall(bob.accessToken, PHONE, {}, { "idempotency-key": "shared" });
      expect(res.headers.get("idempotent-replayed")).toBeNull();
      expect(((await res.json()) as SandboxCall).call_id).not.toBe(a.call_id);
    });

    it("without a key, the same body places two calls", async () => {
      const { accessToken } = await sandboxSignIn();
      const a = await createdCall(accessToken);
      const b = await createdCall(accessToken);
      expect(a.call_id).not.toBe(b.call_id);
      expect(await callCount(accessToken)).toBe(2);
    });
  });
});

describe("GET /sandbox/v1/calls", () => {
  it("lists nothing for a new user, as the reference's {calls, total}", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await sandboxGet("/v1/calls", accessToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ calls: [], total: 0 });
  });

  it("lists the user's calls newest first, with the total", async () => {
    const { accessToken } = await sandboxSignIn();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        (await createdCall(accessToken, PHONE, { task_description: `Reserve a table, call number ${i}` })).call_id,
      );
    const list = (await (await sandboxGet("/v1/calls", accessToken)).json()) as { calls: SandboxCall[]; total: number };
    expect(list.total).toBe(3);
    expect(list.calls.map((c) => c.call_id)).toEqual([...ids].reverse());
    expect(list.calls[0]).toMatchObject({
      status: expect.any(String),
      submission: { task_description: "Reserve a table, call number 2" },
      metadata: { created_at: expect.any(String) },
    });
  });

  it("keeps insertion order for calls placed in the same millisecond", async () => {
    const { accessToken } = await sandboxSignIn();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await createdCall(accessToken)).call_id);
    await env.DB.prepare("UPDATE sandbox_calls SET created_at = 1700000000000 WHERE id IN (?, ?, ?, ?)")
      .bind(...ids)
      .run();
    const list = (await (await sandboxGet("/v1/calls", accessToken)).json()) as { calls: SandboxCall[] };
    expect(list.calls.map((c) => c.call_id)).toEqual([...ids].reverse());
  });

  it("pages with limit and offset; total counts all calls", async () => {
    const { accessToken } = await sandboxSignIn();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createdCall(accessToken)).call_id);
    const newestFirst = [...ids].reverse();
    const page = async (q: string) =>
      (await (await sandboxGet(`/v1/calls?${q}`, accessToken)).json()) as { calls: SandboxCall[]; total: number };
    const first = await page("limit=2&offset=0");
    const second = await page("limit=2&offset=2");
    const last = await page("limit=2&offset=4");
    const beyond = await page("limit=2&offset=10");
    expect(first.calls.map((c) => c.call_id)).toEqual(newestFirst.slice(0, 2));
    expect(second.calls.map((c) => c.call_id)).toEqual(newestFirst.slice(2, 4));
    expect(last.calls.map((c) => c.call_id)).toEqual(newestFirst.slice(4));
    expect(beyond.calls).toEqual([]);
    expect([first.total, second.total, last.total, beyond.total]).toEqual([5, 5, 5, 5]);
  });

  it.each([["limit=abc"], ["limit=0"], ["limit=-3"], ["limit=1.5&offset=0.5"], ["offset=-1"], ["limit=1000"]])(
    "tolerates odd paging values (%s)",
    async (q) => {
      const { accessToken } = await sandboxSignIn();
      await createdCall(accessToken);
      const res = await sandboxGet(`/v1/calls?${q}`, accessToken);
      expect(res.status).toBe(200);
      const list = (await res.json()) as { calls: SandboxCall[]; total: number };
      expect(list.total).toBe(1);
      expect(list.calls).toHaveLength(1);
    },
  );

  it("lists only the signed-in user's calls", async () => {
    const alice = await sandboxSignIn();
    const bob = await sandboxSignIn();
    await createdCall(alice.accessToken);
    const mine = await createdCall(bob.accessToken);
    const list = (await (await sandboxGet("/v1/calls", bob.accessToken)).json()) as {
      calls: SandboxCall[];
      total: number;
    };
    expect(list).toMatchObject({ total: 1, calls: [{ call_id: mine.call_id }] });
  });
});

describe("GET /sandbox/v1/calls/{id}", () => {
  it("answers with the call", async () => {
    const { accessToken } = await sandboxSignIn();
    const placed = await createdCall(accessToken);
    const res = await sandboxGet(`/v1/calls/${placed.call_id}`, accessToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      call_id: placed.call_id,
      submission: placed.submission,
      to: PHONE,
      metadata: { created_at: placed.metadata.created_at },
    });
  });

  it("another user's call is 403 forbidden", async () => {
    const alice = await sandboxSignIn();
    const bob = await sandboxSignIn();
    const call = await createdCall(alice.accessToken);
    const res = await sandboxGet(`/v1/calls/${call.call_id}`, bob.accessToken);
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: "forbidden" });
  });

  it("an unknown id is 404 call_not_found", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await sandboxGet(`/v1/calls/${crypto.randomUUID()}`, accessToken);
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: "call_not_found" });
  });
});

describe("GET /sandbox/v1/calls/{id}/transcript", () => {
  it("answers with entries that mention the task once a successful call ended", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken, PHONE, {
      task_description: "Ask whether they have a gluten-free menu",
      user_name: "Ada",
    });
    await endSandboxCall(call.call_id);
    const res = await sandboxGet(`/v1/calls/${call.call_id}/transcript`, accessToken);
    expect(res.status).toBe(200);
    const { entries } = (await res.json()) as { entries: { speaker: string; content: string; timestamp: string }[] };
    expect(entries.length).toBeGreaterThan(1);
    for (const e of entries) {
      expect(["AI", "HUMAN"]).toContain(e.speaker);
      expect(e.content).toEqual(expect.any(String));
      expect(Date.parse(e.timestamp)).not.toBeNaN();
    }
    expect(entries.map((e) => e.content).join(" ")).toContain("Ask whether they have a gluten-free menu");
    expect(entries.map((e) => e.content).join(" ")).toContain("Ada");
  });

  it("is 404 transcript_not_found while the call is in progress", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken);
    const res = await sandboxGet(`/v1/calls/${call.call_id}/transcript`, accessToken);
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: "transcript_not_found" });
  });

  it("is 404 transcript_not_found for a call nobody answered", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken, sandboxPhone("no_answer"));
    await endSandboxCall(call.call_id);
    const res = await sandboxGet(`/v1/calls/${call.call_id}/transcript`, accessToken);
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: "transcript_not_found" });
  });

  it("another user's call is 403; an unknown one 404", async () => {
    const alice = await sandboxSignIn();
    const bob = await sandboxSignIn();
    const call = await createdCall(alice.accessToken);
    await endSandboxCall(call.call_id);
    const forbidden = await sandboxGet(`/v1/calls/${call.call_id}/transcript`, bob.accessToken);
    expect(forbidden.status).toBe(403);
    expect(await errorOf(forbidden)).toMatchObject({ code: "forbidden" });
    const unknown = await sandboxGet(`/v1/calls/${crypto.randomUUID()}/transcript`, bob.accessToken);
    expect(unknown.status).toBe(404);
    expect(await errorOf(unknown)).toMatchObject({ code: "call_not_found" });
  });
});

describe("GET /sandbox/v1/calls/{id}/recording", () => {
  it("answers with a recording_url, and the .wav it points at is served", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken);
    await endSandboxCall(call.call_id);
    const res = await sandboxGet(`/v1/calls/${call.call_id}/recording`, accessToken);
    expect(res.status).toBe(200);
    const { recording_url } = (await res.json()) as { recording_url: string };
    const url = new URL(recording_url);
    expect(url.origin).toBe("http://bridge.test");
    expect(url.pathname).toBe(`/sandbox/v1/calls/${call.call_id}/recording.wav`);

    const wav = await bridge(url.pathname);
    expect(wav.status).toBe(200);
    expect(wav.headers.get("content-type")).toBe("audio/wav");
    const bytes = new Uint8Array(await wav.arrayBuffer());
    expect(new TextDecoder().decode(bytes.slice(0, 4))).toBe("RIFF");
    expect(new TextDecoder().decode(bytes.slice(8, 12))).toBe("WAVE");
    expect(bytes.length).toBeGreaterThan(44);
  });

  it("has a recording for a voicemail too", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken, sandboxPhone("voicemail"));
    await endSandboxCall(call.call_id);
    expect((await sandboxGet(`/v1/calls/${call.call_id}/recording`, accessToken)).status).toBe(200);
  });

  it("is 404 recording_not_found while the call is in progress, and so is the .wav", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken);
    const res = await sandboxGet(`/v1/calls/${call.call_id}/recording`, accessToken);
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: "recording_not_found" });
    expect((await bridge(`/sandbox/v1/calls/${call.call_id}/recording.wav`)).status).toBe(404);
  });

  it("is 404 for a busy call", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken, sandboxPhone("busy"));
    await endSandboxCall(call.call_id);
    expect((await sandboxGet(`/v1/calls/${call.call_id}/recording`, accessToken)).status).toBe(404);
  });

  it("another user's call is 403; an unknown one 404, also for the .wav", async () => {
    const alice = await sandboxSignIn();
    const bob = await sandboxSignIn();
    const call = await createdCall(alice.accessToken);
    await endSandboxCall(call.call_id);
    const forbidden = await sandboxGet(`/v1/calls/${call.call_id}/recording`, bob.accessToken);
    expect(forbidden.status).toBe(403);
    expect(await errorOf(forbidden)).toMatchObject({ code: "forbidden" });
    const unknownId = crypto.randomUUID();
    const unknown = await sandboxGet(`/v1/calls/${unknownId}/recording`, bob.accessToken);
    expect(unknown.status).toBe(404);
    expect(await errorOf(unknown)).toMatchObject({ code: "call_not_found" });
    expect((await bridge(`/sandbox/v1/calls/${unknownId}/recording.wav`)).status).toBe(404);
  });
});

describe("POST /sandbox/v1/calls/{id}/cancel", () => {
  const cancel = (id: string, token: string) =>
    bridge(`/sandbox/v1/calls/${id}/cancel`, { method: "POST", headers: auth(token) });

  it("cancels a running call: status cancelled, ended, and it stays cancelled", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken);
    const res = await cancel(call.call_id, accessToken);
    expect(res.status).toBe(200);
    const cancelled = (await res.json()) as SandboxCall;
    expect(cancelled).toMatchObject({
      call_id: call.call_id,
      status: "cancelled",
      metadata: { ended_at: expect.any(String) },
    });
    expect(cancelled.duration_seconds).toEqual(expect.any(Number));
    expect((await sandboxCallRow(call.call_id))!.cancelled_at).toEqual(expect.any(Number));

    // Even after the time the call would have ended, it reads as cancelled.
    await endSandboxCall(call.call_id);
    expect(await (await sandboxGet(`/v1/calls/${call.call_id}`, accessToken)).json()).toMatchObject({
      status: "cancelled",
    });
  });

  it("cancelling a cancelled call again is harmless", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken);
    await cancel(call.call_id, accessToken);
    const again = await cancel(call.call_id, accessToken);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: "cancelled" });
  });

  it("cancels a call that would never finish", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken, sandboxPhone("never"));
    await endSandboxCall(call.call_id, 3600);
    const res = await cancel(call.call_id, accessToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "cancelled" });
  });

  it("an ended call is 409 call_already_ended, and keeps its outcome", async () => {
    const { accessToken } = await sandboxSignIn();
    const call = await createdCall(accessToken);
    await endSandboxCall(call.call_id);
    const res = await cancel(call.call_id, accessToken);
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toMatchObject({ code: "call_already_ended" });
    expect(await (await sandboxGet(`/v1/calls/${call.call_id}`, accessToken)).json()).toMatchObject({
      status: "success",
    });
  });

  it("another user's call is 403 and is not cancelled; an unknown one 404", async () => {
    const alice = await sandboxSignIn();
    const bob = await sandboxSignIn();
    const call = await createdCall(alice.accessToken);
    const forbidden = await cancel(call.call_id, bob.accessToken);
    expect(forbidden.status).toBe(403);
    expect(await errorOf(forbidden)).toMatchObject({ code: "forbidden" });
    expect((await sandboxCallRow(call.call_id))!.cancelled_at).toBeNull();
    const unknown = await cancel(crypto.randomUUID(), bob.accessToken);
    expect(unknown.status).toBe(404);
    expect(await errorOf(unknown)).toMatchObject({ code: "call_not_found" });
  });
});

describe("calls state in D1", () => {
  it("keeps the idempotency key and a hash of the request with the call", async () => {
    const { accessToken } = await sandboxSignIn();
    const res = await json("/sandbox/v1/calls", callBody(PHONE), {
      headers: { ...auth(accessToken), "idempotency-key": "stored-key" },
    });
    const { call_id } = (await res.json()) as SandboxCall;
    const row = await env.DB.prepare("SELECT idempotency_key, request_hash FROM sandbox_calls WHERE id = ?")
      .bind(call_id)
      .first<{ idempotency_key: string; request_hash: string }>();
    expect(row).toMatchObject({ idempotency_key: "stored-key", request_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });
});
