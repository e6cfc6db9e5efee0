import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { consoleSignIn, csrfOf, local, postForm, revealed } from "../support/console";
import { endSandboxCall } from "../support/sandbox";
import { makeCallsDue, receiver, tick } from "../support/webhooks";

// Each test signs in through the sandbox like a browser (several requests): generous under a busy machine.
vi.setConfig({ testTimeout: 60_000 });

const get = async (cookie: string, path: string) => {
  const res = await local(path, { headers: { cookie } });
  return { status: res.status, html: await res.text() };
};
const api = (apiKey: string, path: string, init: RequestInit = {}) =>
  local(path, { ...init, headers: { authorization: `Bearer ${apiKey}`, ...init.headers } });
const disable = (id: string) =>
  env.DB.prepare(
    "UPDATE webhooks SET state = 'disabled', disabled_reason = 'Deliveries failed for 5 days.', disabled_at = ? WHERE id = ?",
  )
    .bind(Date.now(), id)
    .run();

describe("webhooks page", () => {
  it("adds a webhook (secret once), sends a test, shows a delivery's attempts, retries it, and re-enables a disabled one", async () => {
    const user = await consoleSignIn();
    let failing = true;
    const hooks = receiver(
      undefined,
      (_, req) =>
        new Response(failing ? "busy" : null, {
          status: req.headers.get("webhook-id")!.startsWith("evt_test_") || !failing ? 200 : 503,
        }),
    );
    const added = await postForm(user, "/console/webhooks", {
      kind: "webhook",
      url: hooks.url,
      events: ["call.completed"],
      description: "Sheet <log>",
    });
    expect(added.status).toBe(303);
    const path = added.headers.get("location")!;
    const first = await get(user.cookie, path);
    expect(revealed(first.html)).toMatch(/^whsec_/);
    expect(first.html).toContain("Sheet &lt;log&gt;");
    expect(first.html).toContain("No deliveries yet");
    expect(revealed((await get(user.cookie, path)).html)).toBeUndefined();

    await postForm(user, `${path}/test`, {}, { csrf: csrfOf(first.html) });
    const tested = (await get(user.cookie, path)).html;
    expect(tested).toMatch(/Test event delivered: HTTP 200 in \d+ ms/);
    // The test is in the log, marked as one, with the body it sent.
    expect(tested).toContain('aria-label="Test deliveries, newest first"');
    expect(tested).toContain('<span class="badge plain">test</span>');
    expect(tested).toContain(`<summary>Request body</summary>`);
    expect(tested).toContain(hooks.received[0]!.headers["webhook-id"]);

    const placed = await postForm(user, "/console/calls", {
      phone: "+14155550160",
      task: "Ask whether they have oat milk in stock",
    });
    const callId = decodeURIComponent(placed.headers.get("location")!.split("/").pop()!);
    await endSandboxCall(callId);
    await makeCallsDue();
    await tick();
    const log = await get(user.cookie, path);
    expect(log.html).toContain("HTTP 503");
    expect(log.html).toContain("Next try");
    const deliveryId = log.html.match(/action="\/console\/deliveries\/([^/]+)\/retry"/)![1]!;
    failing = false;
    const retried = await postForm(user, `/console/deliveries/${deliveryId}/retry`, {}, { csrf: csrfOf(log.html) });
    expect(retried.headers.get("location")).toBe(path);
    const succeeded = (await get(user.cookie, path)).html;
    expect(succeeded).toMatch(/Retried: HTTP 200 \(attempt 2\)/);
    // A succeeded delivery offers to send it again, not to retry it.
    expect(succeeded).toContain("Send again");
    expect(succeeded).not.toContain("Retry now");
    expect(succeeded).toContain("Attempt 1: the answer (first 2 KB)");
    const again = await postForm(user, `/console/deliveries/${deliveryId}/retry`, {}, { csrf: csrfOf(succeeded) });
    expect(again.headers.get("location")).toBe(path);
    expect((await get(user.cookie, path)).html).toMatch(/Sent again: HTTP 200 \(attempt 3\)/);
    const real = hooks.received.filter((r) => !r.headers["webhook-id"]!.startsWith("evt_test_"));
    expect(real.map((r) => r.headers["webhook-id"])).toEqual([
      real[0]!.headers["webhook-id"],
      real[0]!.headers["webhook-id"],
      real[0]!.headers["webhook-id"],
    ]);

    const webhookId = path.split("/").pop()!;
    await disable(webhookId);
    const disabled = await get(user.cookie, path);
    expect(disabled.html).toContain("Deliveries failed for 5 days.");
    expect(disabled.html).toContain("Re-enable");
    expect(disabled.html).not.toContain("Retry now");
    await postForm(user, `${path}/enable`, {}, { csrf: csrfOf(disabled.html) });
    expect((await get(user.cookie, path)).html).toContain("The webhook is active again");
    expect(((await (await api(user.apiKey, `/v1/webhooks/${webhookId}`)).json()) as { state: string }).state).toBe(
      "active",
    );

    const confirm = await get(user.cookie, `${path}/delete`);
    await postForm(user, `${path}/delete`, {}, { csrf: csrfOf(confirm.html) });
    expect((await get(user.cookie, "/console/webhooks")).html).toContain("The webhook was deleted.");
    expect((await api(user.apiKey, `/v1/webhooks/${webhookId}`)).status).toBe(404);
  });

  it("shows the API's field error next to the address", async () => {
    const user = await consoleSignIn();
    const res = await postForm(user, "/console/webhooks", {
      kind: "webhook",
      url: "ftp://example.com/x",
      events: "call.completed",
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/id="f-url-error">/);
    const none = await postForm(user, "/console/webhooks", { kind: "webhook", url: "https://hooks.example.com/x" });
    expect(await none.text()).toMatch(/id="f-events-error">Pick at least one event/);
  });
});

describe("POST /v1/webhooks/{id}/enable", () => {
  it("re-enables a disabled subscription of the key's account, and only of it", async () => {
    const alice = await consoleSignIn();
    const bob = await consoleSignIn();
    const created = (await (
      await api(alice.apiKey, "/v1/webhooks", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ url: "https://hooks.example.com/a", events: ["call.completed"] }),
      })
    ).json()) as { id: string };
    await disable(created.id);
    expect((await api(bob.apiKey, `/v1/webhooks/${created.id}/enable`, { method: "POST" })).status).toBe(404);
    const res = await api(alice.apiKey, `/v1/webhooks/${created.id}/enable`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id: created.id,
      state: "active",
      disabled_reason: null,
      disabled_at: null,
    });
  });
});

describe("trigger URLs page", () => {
  it("makes a trigger URL from a template (URL and examples once), lists it without the URL, and revokes it", async () => {
    const user = await consoleSignIn();
    const made = await postForm(user, "/console/triggers", {
      trigger_name: "Oat milk",
      phone: "(415) 555-0170",
      task: "Ask whether they have {{value1}} in stock",
      business: "Corner Shop",
    });
    expect(made.status).toBe(303);
    const page = await get(user.cookie, "/console/triggers");
    const url = revealed(page.html)!;
    expect(url).toMatch(/^http:\/\/localhost:8787\/t\/[\w-]{32}$/);
    // One complete Shortcut: the input asked first, one request that places the call and waits, then Siri.
    const shortcut = page.html.slice(page.html.indexOf("1. Ask for Input"));
    const order = [
      "1. Ask for Input",
      "2. Text",
      `3. Get Contents of URL: ${url}?wait=25&amp;format=text`,
      "4. Speak Text",
    ];
    expect(order.map((step) => shortcut.indexOf(step))).toEqual(
      order.map((step) => shortcut.indexOf(step)).sort((a, b) => a - b),
    );
    expect(order.every((step) => shortcut.includes(step))).toBe(true);
    expect(shortcut).toContain("Request Body JSON: value1 = Provided Input");
    expect(shortcut.split("Get Contents of URL").length - 1).toBe(1);
    expect(page.html).toContain("Make a web request");
    expect(page.html).toContain("value1=oat+milk");
    const hit = await local(`${new URL(url).pathname}?value1=oat%20milk`, { method: "POST" });
    expect(hit.status).toBe(202);

    const later = await get(user.cookie, "/console/triggers");
    expect(later.html).not.toContain(url);
    const id = later.html.match(/href="\/console\/triggers\/([^/]+)\/revoke"/)![1]!;
    const confirm = await get(user.cookie, `/console/triggers/${id}/revoke`);
    expect(confirm.html).toContain("stop placing calls");
    await postForm(user, `/console/triggers/${id}/revoke`, {}, { csrf: csrfOf(confirm.html) });
    expect((await local(`${new URL(url).pathname}?value1=x`, { method: "POST" })).status).toBe(404);
  });

  it("offers category and language as the call form's drop-downs, and stores the choice", async () => {
    const user = await consoleSignIn();
    const form = await get(user.cookie, "/console/triggers");
    expect(form.html).toMatch(
      /<select[^>]*name="category"[^>]*>.*<option value="general" selected="">general<\/option>/s,
    );
    expect(form.html).toMatch(/<select[^>]*name="language"[^>]*>.*<option value="es">Spanish<\/option>/s);
    await postForm(user, "/console/triggers", {
      trigger_name: "Clinic in Spanish",
      phone: "+14155550135",
      task: "Ask for an appointment on {{value1}}",
      category: "clinic",
      language: "es",
    });
    const { items } = (await (await api(user.apiKey, "/v1/triggers")).json()) as {
      items: Array<{ name: string; fields: Record<string, unknown> }>;
    };
    expect(items.find((t) => t.name === "Clinic in Spanish")?.fields).toMatchObject({
      category: "clinic",
      language: "es",
    });
  });

  it("keeps the trigger's own name apart from the template's name (Your name)", async () => {
    const user = await consoleSignIn();
    const form = await get(user.cookie, "/console/triggers");
    expect(form.html.match(/id="f-name"/g)).toHaveLength(1);
    expect(form.html.match(/id="f-trigger_name"/g)).toHaveLength(1);
    const made = await postForm(user, "/console/triggers", {
      trigger_name: "Table for Sam",
      name: "Sam Rivera",
      phone: "+14155550172",
      task: "Book a table for {{value1}}",
    });
    expect(made.status).toBe(303);
    const listed = (await (await api(user.apiKey, "/v1/triggers")).json()) as {
      items: Array<{ name: string; fields: Record<string, unknown> }>;
    };
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).toMatchObject({
      name: "Table for Sam",
      fields: { name: "Sam Rivera", phone: "+14155550172" },
    });
  });

  it("asks for the trigger's name next to its own field, not the template's", async () => {
    const user = await consoleSignIn();
    const res = await postForm(user, "/console/triggers", {
      trigger_name: "",
      name: "Sam Rivera",
      phone: "+14155550173",
      task: "Ask whether they have {{value1}} in stock",
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/id="f-trigger_name-error">[^<]*Give the trigger URL a name/);
    expect(html).not.toContain('id="f-name-error"');
    expect(html).toMatch(/id="f-name"[^>]*value="Sam Rivera"|value="Sam Rivera"[^>]*id="f-name"/);
  });

  it("refuses a template that is not a call, next to its field", async () => {
    const user = await consoleSignIn();
    const res = await postForm(user, "/console/triggers", {
      trigger_name: "Bad",
      phone: "+14155550171",
      task: "Ask whether they have {{value1}} in stock",
      party_size: "99",
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/id="f-party_size-error">[^<]*between 1 and 50/);
  });
});

describe("trigger URLs' locked fields in the console", () => {
  const corner = {
    name: "Corner Shop",
    phone: "+14155550174",
    task: "Ask whether they have {{value1}} in stock",
  };
  const makeViaApi = async (apiKey: string) =>
    (await (
      await api(apiKey, "/v1/triggers", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(corner),
      })
    ).json()) as { id: string; url: string };
  const infoOf = async (apiKey: string, id: string) =>
    (await (await api(apiKey, `/v1/triggers/${id}`)).json()) as { open: boolean; open_fields: string[] };

  it("makes a trigger with the fields a hit may set ticked, and lists what is open", async () => {
    const user = await consoleSignIn();
    const form = await get(user.cookie, "/console/triggers");
    expect(form.html).toContain('name="open_fields" value="party_size"');
    await postForm(user, "/console/triggers", {
      trigger_name: "Table",
      phone: "+14155550175",
      task: "Book a table for {{value1}}",
      open_fields: ["party_size", "date"],
    });
    const { items } = (await (await api(user.apiKey, "/v1/triggers")).json()) as {
      items: Array<{ open: boolean; open_fields: string[] }>;
    };
    expect(items[0]).toMatchObject({ open: false, open_fields: ["party_size", "date"] });
    const page = await get(user.cookie, "/console/triggers");
    expect(page.html).toContain("its placeholders and party_size, date");
    expect(page.html).not.toContain('class="badge wait">open<');
  });

  it("flags a trigger made before fields were locked as open; editing it locks it, and the leaked URL cannot change the number", async () => {
    const user = await consoleSignIn();
    const made = await makeViaApi(user.apiKey);
    await env.DB.prepare("UPDATE triggers SET open_fields = NULL WHERE id = ?").bind(made.id).run(); // as before 0012
    const path = new URL(made.url).pathname;
    const page = await get(user.cookie, "/console/triggers");
    expect(page.html).toContain('class="badge wait">open<');
    expect(page.html).toContain("Edit and lock");

    const edit = await get(user.cookie, `/console/triggers/${made.id}/edit`);
    expect(edit.html).toContain("Saving locks it");
    expect(edit.html).toMatch(/value="\+14155550174"/);
    expect(edit.html).not.toMatch(/name="open_fields" value="[a-z_]+" checked/);
    const saved = await postForm(
      user,
      `/console/triggers/${made.id}/edit`,
      { trigger_name: "Corner Shop", phone: "+14155550174", task: corner.task },
      { csrf: csrfOf(edit.html) },
    );
    expect(saved.status).toBe(303);
    expect(await infoOf(user.apiKey, made.id)).toMatchObject({ open: false, open_fields: [] });
    const leaked = await local(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ value1: "oat milk", phone: "+14155559999", task: "Book a flight to Paris tomorrow" }),
    });
    expect(leaked.status).toBe(422);
    expect(((await leaked.json()) as { error: { code: string } }).error.code).toBe("field_locked");
    const after = await get(user.cookie, "/console/triggers");
    expect(after.html).toContain("only its placeholders");
  });

  it("an edit opens ticked fields and refuses a bad template next to its field, changing nothing", async () => {
    const user = await consoleSignIn();
    const made = await makeViaApi(user.apiKey);
    const edit = await get(user.cookie, `/console/triggers/${made.id}/edit`);
    const bad = await postForm(
      user,
      `/console/triggers/${made.id}/edit`,
      { trigger_name: "Corner Shop", phone: "+14155550174", task: corner.task, party_size: "99", open_fields: "phone" },
      { csrf: csrfOf(edit.html) },
    );
    expect(bad.status).toBe(200);
    const html = await bad.text();
    expect(html).toMatch(/id="f-party_size-error">[^<]*between 1 and 50/);
    expect(html).toMatch(/name="open_fields" value="phone" checked/);
    expect(await infoOf(user.apiKey, made.id)).toMatchObject({ open_fields: [] });
    await postForm(
      user,
      `/console/triggers/${made.id}/edit`,
      { trigger_name: "Corner Shop", phone: "+14155550174", task: corner.task, open_fields: "phone" },
      { csrf: csrfOf(edit.html) },
    );
    expect(await infoOf(user.apiKey, made.id)).toMatchObject({ open: false, open_fields: ["phone"] });
    expect((await get(user.cookie, "/console/triggers/trg_nope/edit")).status).toBe(404);
  });
});

describe("overview page", () => {
  it("shows the plan's use and, when KallyAI refused the stored sign-in, a relink button", async () => {
    const user = await consoleSignIn(`plan-${crypto.randomUUID()}+calls3@example.com`);
    const page = await get(user.cookie, "/console");
    expect(page.html).toMatch(/<progress[^>]*max="3"/);
    expect(page.html).toContain("Open the billing portal");
    expect(page.html).not.toContain("Relink with KallyAI");
    const me = (await (await api(user.apiKey, "/v1/me")).json()) as { user_id: string };
    await env.DB.prepare("UPDATE users SET link_state = 'relink_required' WHERE id = ?").bind(me.user_id).run();
    const broken = await get(user.cookie, "/console");
    expect(broken.html).toContain("Relink with KallyAI");
    expect(broken.html).toContain('href="/auth/login?return_to=%2Fconsole"');
  });
});
