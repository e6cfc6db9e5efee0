import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { consoleSignIn, local, postForm } from "../support/console";

// Each test signs in through the sandbox like a browser (several requests): generous under a busy machine.
vi.setConfig({ testTimeout: 60_000 });

const PER_PAGE = 50; // the console's page of deliveries
const get = async (cookie: string, path: string) => {
  const res = await local(path, { headers: { cookie } });
  return { status: res.status, html: await res.text() };
};
const deliveryIds = (html: string) =>
  [...html.matchAll(/action="\/console\/deliveries\/([^/"]+)\/retry"/g)].map((m) => decodeURIComponent(m[1]!));
const olderLink = (html: string) => html.match(/<a href="([^"]+)">Older deliveries<\/a>/)?.[1]?.replace(/&amp;/g, "&");

/** A webhook of a new console person, with `count` deliveries seeded in storage, two per timestamp (ties are ordered by id). */
async function webhookWithDeliveries(count: number) {
  const user = await consoleSignIn();
  const added = await postForm(user, "/console/webhooks", {
    kind: "webhook",
    url: "https://hooks.example.com/paging",
    events: ["call.completed"],
  });
  const path = added.headers.get("location")!.split("?")[0]!;
  const webhookId = decodeURIComponent(path.split("/").pop()!);
  const { user_id } = (await env.DB.prepare("SELECT user_id FROM webhooks WHERE id = ?")
    .bind(webhookId)
    .first<{ user_id: string }>())!;
  const base = Date.now() - 3_600_000;
  const seeded = Array.from({ length: count }, (_, i) => ({
    id: `dlv_paging_${String(i).padStart(3, "0")}_${crypto.randomUUID().slice(0, 8)}`,
    event: `evt_paging_${crypto.randomUUID()}`,
    at: base + Math.floor(i / 2) * 1000,
  }));
  await env.DB.batch(
    seeded.flatMap((s) => [
      env.DB.prepare(
        "INSERT INTO events (id, user_id, call_id, type, payload, created_at) VALUES (?, ?, ?, 'call.completed', '{}', ?)",
      ).bind(s.event, user_id, `call_${s.event}`, s.at),
      env.DB.prepare(
        "INSERT INTO deliveries (id, webhook_id, event_id, user_id, state, attempts, created_at, updated_at) VALUES (?, ?, ?, ?, 'succeeded', 1, ?, ?)",
      ).bind(s.id, webhookId, s.event, user_id, s.at, s.at),
    ]),
  );
  // Newest first, as the page lists them: later time first, then the larger id.
  const newestFirst = [...seeded].sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1)).map((s) => s.id);
  return { user, path, newestFirst };
}

describe("a webhook's delivery log in the console", () => {
  it("pages with an “Older deliveries” link (the API's cursor): the second page lists the older ones, none twice", async () => {
    const { user, path, newestFirst } = await webhookWithDeliveries(PER_PAGE + 7);
    const first = await get(user.cookie, path);
    expect(first.status).toBe(200);
    expect(deliveryIds(first.html)).toEqual(newestFirst.slice(0, PER_PAGE));
    expect(first.html).not.toContain("Newest deliveries");
    const older = olderLink(first.html);
    expect(older).toMatch(new RegExp(`^${path}\\?cursor=`));

    const second = await get(user.cookie, older!);
    expect(second.status).toBe(200);
    expect(deliveryIds(second.html)).toEqual(newestFirst.slice(PER_PAGE));
    expect(olderLink(second.html)).toBeUndefined();
    expect(second.html).toContain(`<a href="${path}">Newest deliveries</a>`);
  });

  it("a log that fits one page has no pager links", async () => {
    const { user, path, newestFirst } = await webhookWithDeliveries(3);
    const page = await get(user.cookie, path);
    expect(deliveryIds(page.html)).toEqual(newestFirst);
    expect(olderLink(page.html)).toBeUndefined();
  });

  it("a forged cursor shows no rows and the way back to the newest, as the calls history does, not an error", async () => {
    const { user, path } = await webhookWithDeliveries(3);
    for (const cursor of ["nope", btoa("not-a-time:dlv_x"), "%%%"]) {
      const page = await get(user.cookie, `${path}?cursor=${encodeURIComponent(cursor)}`);
      expect(page.status).toBe(200);
      expect(deliveryIds(page.html)).toEqual([]);
      expect(page.html).toContain("No more deliveries.");
      expect(page.html).toContain(`<a href="${path}">Newest deliveries</a>`);
    }
    const calls = await get(user.cookie, "/console/calls?cursor=nope");
    expect(calls.status).toBe(200);
    expect(calls.html).toContain("No more calls.");
    expect(calls.html).toContain('<a href="/console/calls?">Newest calls</a>');
  });
});
