import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { RECIPES } from "../../src/shared/recipes";
import { consoleSignIn, csrfOf, LOCAL, local, postForm, revealed } from "../support/console";
import { endSandboxCall } from "../support/sandbox";

// Each test signs in through the sandbox like a browser (several requests): generous under a busy machine.
vi.setConfig({ testTimeout: 30_000 });

const get = async (cookie: string, path: string) => {
  const res = await local(path, { headers: { cookie } });
  return { status: res.status, headers: res.headers, html: await res.text() };
};
const api = (apiKey: string, path: string) => local(path, { headers: { authorization: `Bearer ${apiKey}` } });

describe("pages for people: /, /docs and the console's headers", () => {
  it("/ says what the bridge does, offers sign-in, the API reference and the recipes", async () => {
    const res = await local("/");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Sign in with KallyAI");
    expect(html).toContain('href="/auth/login?return_to=%2Fconsole"');
    expect(html).toContain('href="/docs"');
    expect(html).toContain('href="/console/recipes"');
  });

  it("every page has a CSP without unsafe-inline scripts, frame-ancestors 'none' and nosniff, and no inline script", async () => {
    const user = await consoleSignIn();
    for (const path of [
      "/",
      "/docs",
      "/console",
      "/console/keys",
      "/console/calls",
      "/console/calls/new",
      "/console/webhooks",
      "/console/triggers",
      "/console/recipes",
      "/console/unlink",
    ]) {
      const page = await get(user.cookie, path);
      expect(page.status, path).toBe(200);
      const csp = page.headers.get("content-security-policy")!;
      expect(csp, path).toMatch(/script-src 'self'(;|$)/);
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(page.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(page.headers.get("referrer-policy"), path).toBe("same-origin");
      expect(page.html.match(/<script(?![^>]*\bsrc=)[^>]*>/g), path).toBeNull();
      expect(page.html, path).not.toMatch(/\son[a-z]+=/i);
    }
  });

  it("/docs is Swagger UI over /openapi.json from this bridge's own files", async () => {
    const html = await (await local("/docs")).text();
    expect(html).toContain('src="/docs/assets/swagger-ui-bundle.js"');
    expect(html).toContain('href="/docs/assets/swagger-ui.css"');
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1|localhost)/);
    const init = await (await local("/docs/init.js")).text();
    expect(init).toContain('url: "/openapi.json"');
    expect(init).toContain("validatorUrl: null");
  });

  it("/console/recipes shows every documented recipe with this bridge's URL, signed in or not", async () => {
    const html = await (await local("/console/recipes")).text();
    const text = html
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, "&");
    for (const recipe of RECIPES.filter((r) => r.section !== "curl")) {
      expect(text).toContain(recipe.title);
      expect(text).toContain(`${LOCAL}${recipe.path}`);
    }
    expect(text).not.toContain("<bridge>");
  });

  it("escapes what people type: markup in a name shows as text", async () => {
    const user = await consoleSignIn();
    const res = await postForm(user, "/console/keys", {
      name: `<img src=x onerror=alert(1)>"'`,
      scopes: ["calls:read"],
      calls_per_hour: "1",
      expires: "never",
    });
    expect(res.status).toBe(303);
    const { html } = await get(user.cookie, "/console/keys");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("an unknown console page is an HTML 404", async () => {
    const user = await consoleSignIn();
    const page = await get(user.cookie, "/console/nothing-here");
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toContain("text/html");
  });
});

describe("keys page", () => {
  it("creates a key with the chosen scopes, limit and expiry, shows it once, lists it, and revokes it", async () => {
    const user = await consoleSignIn();
    const res = await postForm(user, "/console/keys", {
      name: "Zapier",
      scopes: ["calls:write", "calls:read"],
      calls_per_hour: "7",
      expires: "7d",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/keys");
    const shown = await get(user.cookie, "/console/keys");
    const key = revealed(shown.html)!;
    expect(key).toBeTruthy();
    const info = (await (await api(key, "/v1/me")).json()) as {
      key: { id: string; scopes: string[]; expires_at: string };
    };
    expect(info.key.scopes).toEqual(["calls:write", "calls:read"]);
    expect(Date.parse(info.key.expires_at) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expect((await api(key, "/v1/usage")).status).toBe(403);
    const listed = (await (await api(user.apiKey, "/v1/keys")).json()) as {
      items: Array<{ id: string; calls_per_hour: number }>;
    };
    expect(listed.items.find((k) => k.id === info.key.id)!.calls_per_hour).toBe(7);

    const again = await get(user.cookie, "/console/keys");
    expect(again.html).not.toContain(key);
    expect(again.html).toContain(info.key.id);

    const confirm = await get(user.cookie, `/console/keys/${info.key.id}/revoke`);
    expect(confirm.html).toContain("stops working at once");
    expect((await api(key, "/v1/me")).status).toBe(200); // only the POST revokes
    const revoked = await postForm(user, `/console/keys/${info.key.id}/revoke`, {}, { csrf: csrfOf(confirm.html) });
    expect(revoked.status).toBe(303);
    expect((await api(key, "/v1/me")).status).toBe(401);
    expect((await get(user.cookie, "/console/keys")).html).toContain(`The key ${info.key.id} was revoked.`);
  });

  it("lists an expired key neither among the active keys nor as a key a trigger URL may act as", async () => {
    const user = await consoleSignIn();
    await postForm(user, "/console/keys", {
      name: "Short-lived",
      scopes: ["calls:write", "calls:read"],
      calls_per_hour: "5",
      expires: "7d",
    });
    const key = revealed((await get(user.cookie, "/console/keys")).html)!;
    const {
      key: { id },
    } = (await (await api(key, "/v1/me")).json()) as { key: { id: string } };
    expect((await get(user.cookie, "/console/keys")).html).toContain(id);
    expect((await get(user.cookie, "/console/triggers")).html).toContain(`<option value="${id}"`);

    await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, id)
      .run();
    const keys = await get(user.cookie, "/console/keys");
    const own = (await (await api(user.apiKey, "/v1/me")).json()) as { key: { id: string } };
    expect(keys.html).toContain(own.key.id);
    expect(keys.html).not.toContain(id);
    expect((await get(user.cookie, "/console/triggers")).html).not.toContain(id);
  });

  it.each([
    [
      { name: "", scopes: ["calls:read"], calls_per_hour: "5", expires: "never" },
      "f-name-error",
      "Give the key a name",
    ],
    [{ name: "x", calls_per_hour: "5", expires: "never" }, "f-scopes-error", "Pick at least one scope"],
    [
      { name: "x", scopes: ["calls:read"], calls_per_hour: "5000", expires: "never" },
      "f-calls_per_hour-error",
      "0 to 1000",
    ],
    [
      { name: "x", scopes: ["admin"], calls_per_hour: "5", expires: "never" },
      "f-scopes-error",
      "Pick scopes from the list",
    ],
    [
      { name: "x", scopes: ["calls:read"], calls_per_hour: "5", expires: "forever" },
      "f-expires-error",
      "Pick when the key expires",
    ],
  ])("refuses %j with the error next to its field", async (fields, errorId, message) => {
    const user = await consoleSignIn();
    const res = await postForm(user, "/console/keys", fields as Record<string, string | string[]>);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(new RegExp(`id="${errorId}">[^<]*${message}`));
    expect(revealed(html)).toBeUndefined();
  });
});

describe("calls pages", () => {
  it("places a call from the form with a national-format phone, and its page shows the outcome and transcript once it ends", async () => {
    const user = await consoleSignIn();
    const form = await get(user.cookie, "/console/calls/new");
    const idempotency = form.html.match(/name="idempotency_key" value="([^"]+)"/)![1]!;
    const fields = {
      phone: "(415) 555-0142",
      task: "Ask whether they have oat milk in stock",
      business: "Corner Shop",
      party_size: "2",
      timezone: "Europe/Madrid",
      instructions: "Be brief\nSay thanks",
      idempotency_key: idempotency,
      category: "general",
      language: "en",
    };
    const res = await postForm(user, "/console/calls", fields, { csrf: csrfOf(form.html) });
    expect(res.status).toBe(303);
    const path = res.headers.get("location")!;
    const id = decodeURIComponent(path.split("/").pop()!);
    const call = (await (await api(user.apiKey, `/v1/calls/${id}`)).json()) as Record<string, unknown>;
    expect(call).toMatchObject({
      phone: "+14155550142",
      business: "Corner Shop",
      party_size: 2,
      timezone: "Europe/Madrid",
      instructions: ["Be brief", "Say thanks"],
    });

    // The same form sent twice (a double click) places one call.
    const twice = await postForm(user, "/console/calls", fields, { csrf: csrfOf(form.html) });
    expect(twice.headers.get("location")).toBe(path);

    const running = await get(user.cookie, path);
    expect(running.html).toContain("Calling Corner Shop now.");
    expect(running.html).toContain(`data-live="${path}/status"`);
    expect(running.html).toContain('http-equiv="refresh"');
    const status = (await (await local(`${path}/status`, { headers: { cookie: user.cookie } })).json()) as {
      finished: boolean;
    };
    expect(status.finished).toBe(false);

    await endSandboxCall(id);
    const ended = await get(user.cookie, path);
    expect(ended.html).toContain("Finished: success");
    expect(ended.html).toMatch(/<ol class="transcript"[^>]*>.*<li>/s);
    expect(ended.html).toContain("Listen to the recording");
    expect(ended.html).not.toContain("data-live=");
    expect(ended.html).not.toContain("Cancel the call");
    const history = await get(user.cookie, "/console/calls?status=success");
    expect(history.html).toContain(`/console/calls/${encodeURIComponent(id)}`);
    expect((await get(user.cookie, "/console/calls?status=failed")).html).toContain("No calls with status");
  });

  it("cancels a running call", async () => {
    const user = await consoleSignIn();
    const placed = await postForm(user, "/console/calls", {
      phone: "+14155550143",
      task: "Ask about opening hours today",
    });
    const path = placed.headers.get("location")!;
    const cancelled = await postForm(user, `${path}/cancel`, {});
    expect(cancelled.status).toBe(303);
    expect((await get(user.cookie, path)).html).toContain("Finished: cancelled");
  });

  it("offers “Add to calendar” on a call that booked something, serving KallyAI's calendar.ics; not on one that did not", async () => {
    const user = await consoleSignIn();
    const booked = await postForm(user, "/console/calls", {
      phone: "+14155550145",
      task: "Reserve a table for 2 at 8pm",
      category: "restaurant",
      business: "Italian Bistro",
      party_size: "2",
      date: "2026-01-28",
      time: "20:00",
    });
    const asked = await postForm(user, "/console/calls", {
      phone: "+14155550146",
      task: "Ask whether they have oat milk in stock",
      category: "general",
    });
    const [bookedPath, askedPath] = [booked.headers.get("location") ?? "", asked.headers.get("location") ?? ""];
    expect((await get(user.cookie, bookedPath)).html).not.toContain("Add to calendar");
    await endSandboxCall(decodeURIComponent(bookedPath.split("/").pop() ?? ""));
    await endSandboxCall(decodeURIComponent(askedPath.split("/").pop() ?? ""));

    const page = await get(user.cookie, bookedPath);
    expect(page.html).toContain("Finished: success");
    expect(page.html).toContain(`href="${bookedPath}/calendar.ics"`);
    expect(page.html).toContain("Add to calendar");
    const ics = await local(`${bookedPath}/calendar.ics`, { headers: { cookie: user.cookie } });
    expect(ics.status).toBe(200);
    expect(ics.headers.get("content-type")).toContain("text/calendar");
    expect(ics.headers.get("content-disposition")).toMatch(/^attachment; filename="call-[\w.-]+\.ics"$/);
    expect(await ics.text()).toContain("DTSTART;TZID=");

    const other = await get(user.cookie, askedPath);
    expect(other.html).toContain("Finished: success");
    expect(other.html).not.toContain("Add to calendar");
  });

  it.each([
    [{ phone: "12", task: "Ask whether they have oat milk" }, "phone", "not a valid phone number"],
    [{ phone: "911", task: "Ask whether they have oat milk" }, "phone", "Emergency"],
    [{ phone: "+14155550144", task: "short" }, "task", "at least 10 characters"],
    [{ phone: "+14155550144", task: "Ask whether they have oat milk", date: "2026-02-30" }, "date", "not a real date"],
    [
      { phone: "+14155550144", task: "Ask whether they have oat milk", party_size: "99" },
      "party_size",
      "between 1 and 50",
    ],
    [{ phone: "+14155550144", task: "Ask whether they have oat milk", timezone: "Mars/Base" }, "timezone", "IANA"],
  ])("refuses %j with the error next to the field (%s), keeping what was typed", async (fields, field, message) => {
    const user = await consoleSignIn();
    const res = await postForm(user, "/console/calls", fields);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(new RegExp(`id="f-${field}-error">[^<]*${message}`));
    expect(html).toMatch(new RegExp(`id="f-${field}"[^>]*aria-invalid="true"`));
    expect(html).toContain(`>${fields.task}</textarea>`);
    expect(((await (await api(user.apiKey, "/v1/calls")).json()) as { items: unknown[] }).items).toEqual([]);
  });
});
