import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { linkedUser, withKey } from "../support/accounts";
import { bridge, errorOf } from "../support/bridge";
import { getCall, placed, restaurant, upstreamIdOf } from "../support/calls";
import { endSandboxCall } from "../support/sandbox";
import { sandboxPhone } from "../support/sandbox-phones";

describe("GET /v1/calls/{id}", () => {
  it("answers the normalized call, in progress and then with its outcome", async () => {
    const user = await linkedUser();
    const { id } = await placed(user.apiKey, { ...restaurant, name: "John Smith", date: "2026-01-28", time: "20:00" });
    const running = (await (await getCall(user.apiKey, id)).json()) as Record<string, unknown>;
    expect(running).toMatchObject({
      id,
      finished: false,
      highlights: null,
      phone: "+14155551234",
      task: "Reserve a table for 4 at 8pm",
      category: "restaurant",
      business: "Italian Bistro",
      party_size: 4,
      name: "John Smith",
      date: "2026-01-28",
      time: "20:00",
    });
    await endSandboxCall(id);
    const done = (await (await getCall(user.apiKey, id)).json()) as Record<string, unknown>;
    expect(done).toMatchObject({
      id,
      status: "success",
      finished: true,
      highlights: expect.stringContaining("Reserve a table for 4 at 8pm"),
      next_steps: expect.any(String),
      duration_seconds: expect.any(Number),
      ended_at: expect.any(String),
    });
  });

  it("?format=text answers a sentence Siri can speak", async () => {
    const user = await linkedUser();
    const { id } = await placed(user.apiKey);
    await endSandboxCall(id);
    const res = await getCall(user.apiKey, id, "?format=text");
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toMatch(/^Call to Italian Bistro succeeded: .*Reserve a table for 4 at 8pm.*Next: /);
    const viaAccept = await bridge(`/v1/calls/${id}`, withKey(user.apiKey, { accept: "text/plain" }));
    expect(await viaAccept.text()).toBe(text);
  });

  it("says what happened for each outcome", async () => {
    const user = await linkedUser();
    const cases: [string, RegExp][] = [
      [sandboxPhone("no_answer"), /nobody answered/],
      [sandboxPhone("busy"), /busy/],
      [sandboxPhone("failed"), /failed/],
      [sandboxPhone("voicemail"), /voicemail/],
    ];
    for (const [phone, sentence] of cases) {
      const { id } = await placed(user.apiKey, { phone, task: "Ask about store hours today" });
      await endSandboxCall(id);
      expect(await (await getCall(user.apiKey, id, "?format=text")).text(), phone).toMatch(sentence);
    }
  });

  it("?wait=N holds the request until the call ends", async () => {
    const user = await linkedUser();
    const { id } = await placed(user.apiKey);
    await env.DB.prepare(
      "UPDATE sandbox_calls SET ends_at = ? WHERE id = (SELECT upstream_id FROM calls WHERE calls.id = ?)",
    )
      .bind(Date.now() + 1500, id)
      .run();
    const res = await getCall(user.apiKey, id, "?wait=10");
    expect(await res.json()).toMatchObject({ status: "success", finished: true });
  });

  it("?wait=N answers the running call when N passes first", async () => {
    const user = await linkedUser();
    const { id } = await placed(user.apiKey, { phone: sandboxPhone("never"), task: "Ask about store hours today" });
    expect(await (await getCall(user.apiKey, id, "?wait=1")).json()).toMatchObject({ finished: false });
  });

  it("refuses wait above 25 and an unknown format", async () => {
    const user = await linkedUser();
    const { id } = await placed(user.apiKey);
    expect(await errorOf(await getCall(user.apiKey, id, "?wait=26"))).toMatchObject({
      code: "validation_error",
      field: "wait",
    });
    expect(await errorOf(await getCall(user.apiKey, id, "?format=xml"))).toMatchObject({
      code: "validation_error",
      field: "format",
    });
  });

  it("another user's call is 404, and so is an unknown id", async () => {
    const [alice, bob] = [await linkedUser(), await linkedUser()];
    const { id } = await placed(alice.apiKey);
    for (const path of [`/v1/calls/${id}`, `/v1/calls/${id}/transcript`, `/v1/calls/${id}/recording`]) {
      const res = await bridge(path, withKey(bob.apiKey));
      expect(res.status, path).toBe(404);
      expect((await errorOf(res)).code).toBe("call_not_found");
    }
    expect((await bridge(`/v1/calls/${id}/cancel`, { method: "POST", ...withKey(bob.apiKey) })).status).toBe(404);
    expect((await getCall(bob.apiKey, crypto.randomUUID())).status).toBe(404);
  });

  it("reads a call placed outside the bridge on the same KallyAI account", async () => {
    const email = `outside-${crypto.randomUUID()}@example.com`;
    const user = await linkedUser(email);
    const { sandboxSignIn, callBody, auth } = await import("../support/sandbox");
    const { accessToken } = await sandboxSignIn(email);
    const direct = await bridge("/sandbox/v1/calls", {
      method: "POST",
      headers: { ...auth(accessToken), "content-type": "application/json" },
      body: JSON.stringify(callBody("+14155551234")),
    });
    const { call_id } = (await direct.json()) as { call_id: string };
    expect(await (await getCall(user.apiKey, call_id)).json()).toMatchObject({
      id: call_id,
      business: "Italian Bistro",
    });
  });
});

describe("GET /v1/calls", () => {
  it("lists the user's calls newest first, pages with a cursor, filters by status", async () => {
    const user = await linkedUser();
    const other = await linkedUser();
    await placed(other.apiKey);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await placed(user.apiKey, { ...restaurant, task: `Reserve a table number ${i}` })).id);
    await endSandboxCall(ids[0]!);
    await getCall(user.apiKey, ids[0]!);

    const first = (await (await bridge("/v1/calls?limit=2", withKey(user.apiKey))).json()) as {
      items: { id: string }[];
      next_cursor: string;
    };
    expect(first.items.map((c) => c.id)).toEqual([ids[4], ids[3]]);
    const second = (await (
      await bridge(`/v1/calls?limit=2&cursor=${first.next_cursor}`, withKey(user.apiKey))
    ).json()) as { items: { id: string }[]; next_cursor: string };
    expect(second.items.map((c) => c.id)).toEqual([ids[2], ids[1]]);
    const last = (await (
      await bridge(`/v1/calls?limit=2&cursor=${second.next_cursor}`, withKey(user.apiKey))
    ).json()) as { items: { id: string }[]; next_cursor: string | null };
    expect(last).toMatchObject({ items: [{ id: ids[0] }], next_cursor: null });

    const offset = (await (await bridge("/v1/calls?limit=1&offset=1", withKey(user.apiKey))).json()) as {
      items: { id: string }[];
    };
    expect(offset.items.map((c) => c.id)).toEqual([ids[3]]);
    const successes = (await (await bridge("/v1/calls?status=success", withKey(user.apiKey))).json()) as {
      items: { id: string }[];
    };
    expect(successes.items.map((c) => c.id)).toEqual([ids[0]]);
  });

  it("refuses a bad limit and a forged cursor", async () => {
    const user = await linkedUser();
    expect(await errorOf(await bridge("/v1/calls?limit=0", withKey(user.apiKey)))).toMatchObject({
      code: "validation_error",
      field: "limit",
    });
    expect(await errorOf(await bridge("/v1/calls?limit=101", withKey(user.apiKey)))).toMatchObject({ field: "limit" });
    expect(await errorOf(await bridge("/v1/calls?cursor=garbage", withKey(user.apiKey)))).toMatchObject({
      code: "validation_error",
      field: "cursor",
    });
  });

  it("needs the calls:read scope", async () => {
    const user = await linkedUser();
    const writer = (await (
      await bridge("/v1/keys", {
        method: "POST",
        ...withKey(user.apiKey, { "content-type": "application/json" }),
        body: JSON.stringify({ name: "w", scopes: ["calls:write"] }),
      })
    ).json()) as { api_key: string };
    expect(await errorOf(await bridge("/v1/calls", withKey(writer.api_key)))).toMatchObject({
      code: "insufficient_scope",
    });
  });
});

describe("transcript, recording, cancel", () => {
  it("GET /v1/calls/{id}/transcript answers the entries, or text", async () => {
    const user = await linkedUser();
    const { id } = await placed(user.apiKey);
    const early = await bridge(`/v1/calls/${id}/transcript`, withKey(user.apiKey));
    expect(early.status).toBe(404);
    expect(await errorOf(early)).toMatchObject({
      code: "transcript_not_found",
      message: expect.stringContaining("once the call has ended"),
    });
    await endSandboxCall(id);
    const res = await bridge(`/v1/calls/${id}/transcript`, withKey(user.apiKey));
    const body = (await res.json()) as { call_id: string; entries: { speaker: string; content: string }[] };
    expect(body.call_id).toBe(id);
    expect(body.entries.some((e) => e.speaker === "AI" && e.content.includes("Reserve a table for 4 at 8pm"))).toBe(
      true,
    );
    const text = await (await bridge(`/v1/calls/${id}/transcript?format=text`, withKey(user.apiKey))).text();
    expect(text).toMatch(/^Business: .*\nAssistant: /);
  });

  it("GET /v1/calls/{id}/recording answers the URL when there is one", async () => {
    const user = await linkedUser();
    const { id } = await placed(user.apiKey);
    await endSandboxCall(id);
    const body = (await (await bridge(`/v1/calls/${id}/recording`, withKey(user.apiKey))).json()) as {
      recording_url: string;
    };
    expect(body.recording_url).toMatch(new RegExp(`/v1/calls/${await upstreamIdOf(id)}/recording.wav$`));
    const { id: unanswered } = await placed(user.apiKey, {
      phone: sandboxPhone("no_answer"),
      task: "Ask about store hours today",
    });
    await endSandboxCall(unanswered);
    expect(await errorOf(await bridge(`/v1/calls/${unanswered}/recording`, withKey(user.apiKey)))).toMatchObject({
      code: "recording_not_found",
    });
  });

  it("POST /v1/calls/{id}/cancel cancels a running call; an ended one answers 409", async () => {
    const user = await linkedUser();
    const { id } = await placed(user.apiKey);
    const res = await bridge(`/v1/calls/${id}/cancel`, { method: "POST", ...withKey(user.apiKey) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, status: "cancelled", finished: true });
    const { id: ended } = await placed(user.apiKey);
    await endSandboxCall(ended);
    const late = await bridge(`/v1/calls/${ended}/cancel`, { method: "POST", ...withKey(user.apiKey) });
    expect(late.status).toBe(409);
    expect(await errorOf(late)).toMatchObject({ code: "call_already_ended" });
  });
});
