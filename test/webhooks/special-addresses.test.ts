import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checkTarget } from "../../src/domain/webhook-targets";
import { bridgeWith, linkedUser } from "../support/accounts";
import { errorOf } from "../support/bridge";
import { placed } from "../support/calls";
import { blocked } from "../support/network";
import { endSandboxCall } from "../support/sandbox";
import { makeCallsDue, subscribe, tick } from "../support/webhooks";
import registries from "./data/special-purpose-addresses.json";

/**
 * Webhook targets, as deployed (no loopback allowance), against a table built from IANA's
 * special-purpose registries (test/webhooks/data/special-purpose-addresses.json, with its sources):
 * the first, a middle and the last address of every block, every IPv4-in-IPv6 form carrying a
 * public and a private IPv4, and the neighbours just outside each block, which stay allowed when
 * no other block holds them. The address arithmetic here is the test's own, not the bridge's.
 */
const production = bridgeWith({ WEBHOOKS_ALLOW_LOOPBACK: "false" });

interface Block {
  block: string;
  name: string;
}
const v4 = (registries.ipv4 as Block[]).concat(registries.other_non_unicast.filter((r) => !r.block.includes(":")));
const v6 = (registries.ipv6 as Block[]).concat(
  registries.other_non_unicast.filter((r) => r.block.includes(":")),
  registries.ipv6_reserved_by_ietf,
  registries.ipv4_in_ipv6.flatMap((r) => (r.prefix ? [{ block: r.prefix, name: r.form }] : [])),
);

const V4_BITS = 32n;
const V6_BITS = 128n;
const toV4 = (n: bigint) => [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join(".");
const toV6 = (n: bigint) =>
  `[${[...Array(8).keys()].map((i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(":")}]`;
const fromV4 = (text: string) => text.split(".").reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
function fromV6(text: string): bigint {
  const [head = "", tail] = text.split("::");
  const groups = (s: string) => (s ? s.split(":") : []);
  const all =
    tail === undefined
      ? groups(head)
      : [...groups(head), ...Array(8 - groups(head).length - groups(tail).length).fill("0"), ...groups(tail)];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

interface Range {
  name: string;
  block: string;
  first: bigint;
  last: bigint;
  bits: bigint;
  host: (n: bigint) => string;
}
const rangeOf = ({ block, name }: Block, bits: bigint): Range => {
  const [address = "", length = ""] = block.split("/");
  const start = bits === V4_BITS ? fromV4(address) : fromV6(address);
  const size = 1n << (bits - BigInt(length));
  return { name, block, first: start, last: start + size - 1n, bits, host: bits === V4_BITS ? toV4 : toV6 };
};
const ranges = [...v4.map((b) => rangeOf(b, V4_BITS)), ...v6.map((b) => rangeOf(b, V6_BITS))];
const inAnyRange = (n: bigint, bits: bigint) => ranges.some((r) => r.bits === bits && r.first <= n && n <= r.last);

/** Every address a row stands for: first, middle, last. */
const inside = ranges.flatMap((r) =>
  [r.first, r.first + (r.last - r.first) / 2n, r.last].map((n) => ({
    url: `https://${r.host(n)}/hook`,
    why: `${r.block} ${r.name}`,
  })),
);

/** IPv4 addresses written into IPv6 by each embedding form. */
const PUBLIC_V4 = fromV4("8.8.8.8");
const PRIVATE_V4 = fromV4("127.0.0.1");
const PUBLIC_V6_PREFIX = fromV6("2600:1f18:4000:1::"); // a public /64 (for ISATAP's interface ids)
const embedded = registries.ipv4_in_ipv6.flatMap((form) =>
  [PUBLIC_V4, PRIVATE_V4].map((ipv4) => {
    let n: bigint;
    if (form.interface_id) n = PUBLIC_V6_PREFIX | (fromV6(`::${form.interface_id}:0:0`) | ipv4);
    else {
      const base = fromV6(String(form.prefix).split("/")[0] ?? "");
      const group = BigInt(form.ipv4_at_group ?? 6);
      n = base | (ipv4 << (V6_BITS - 16n * group - 32n));
    }
    return { url: `https://${toV6(n)}/hook`, why: `${form.form} carrying ${toV4(ipv4)}` };
  }),
);

/** The neighbours just outside each block that no other block holds. */
const outside = ranges.flatMap((r) =>
  [r.first - 1n, r.last + 1n]
    .filter((n) => n >= 0n && n < 1n << r.bits && !inAnyRange(n, r.bits))
    .filter((n) => !(r.bits === V6_BITS && ((n >> 32n) & 0xfcffffffn) === 0x5efen))
    .map((n) => ({ url: `https://${r.host(n)}/hook`, why: `next to ${r.block}` })),
);

describe("webhook targets against IANA's special-purpose registries", () => {
  it("the table is the registries': every row of both, and every IPv4-in-IPv6 form", () => {
    expect(registries.ipv4.length).toBe(26);
    expect(registries.ipv6.length).toBe(25);
    expect(registries.ipv4_in_ipv6.map((f) => f.form)).toEqual([
      "IPv4-mapped",
      "IPv4-translated",
      "IPv4-compatible (deprecated)",
      "NAT64 well-known prefix",
      "NAT64 local-use prefix",
      "6to4",
      "Teredo",
      "ISATAP, local interface id",
      "ISATAP, universal interface id",
    ]);
    expect(inside.length).toBe(3 * ranges.length);
    expect(outside.length).toBeGreaterThan(40);
  });

  it("https://[::ffff:0:7f00:1]/ (IPv4-translated 127.0.0.1, the issue's reproduction) is refused", async () => {
    const user = await linkedUser();
    const res = await subscribeIn(user.apiKey, "https://[::ffff:0:7f00:1]/");
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_webhook_url", field: "url" });
  });

  it("every address of every special-purpose block is refused when subscribing, before any fetch", async () => {
    const user = await linkedUser();
    const accepted: string[] = [];
    for (const { url, why } of [...inside, ...embedded]) {
      const res = await subscribeIn(user.apiKey, url);
      if (res.status !== 422 || (await errorOf(res)).code !== "invalid_webhook_url") accepted.push(`${url} (${why})`);
    }
    expect(accepted).toEqual([]);
    expect(blocked).toEqual([]);
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM webhooks WHERE user_id = ?").bind(user.userId).first();
    expect(rows).toEqual({ n: 0 });
  });

  it("every IPv4-in-IPv6 form is refused whatever IPv4 it carries, a public one too", () => {
    const passing = embedded.filter(({ url }) => !refused(url)).map(({ url, why }) => `${url} (${why})`);
    expect(passing).toEqual([]);
  });

  it("the public neighbours just outside each block stay allowed", () => {
    const refusedOnes = outside.filter(({ url }) => refused(url)).map(({ url, why }) => `${url} (${why})`);
    expect(refusedOnes).toEqual([]);
  });

  it("other spellings of an IPv4 literal are the same address to the check", () => {
    for (const url of ["https://2130706433/", "https://0x7f.1/", "https://0177.0.0.1/", "https://[::ffff:127.0.0.1]/"])
      expect(refused(url), url).toBe(true);
    expect(refused("https://134744072/")).toBe(false); // 8.8.8.8
  });

  it("a stored subscription to such a target is refused again at delivery, before any fetch", async () => {
    const user = await linkedUser();
    const sub = await subscribe(user.apiKey, { url: "https://hooks.example.com/a", events: ["call.completed"] });
    // As if stored before this check existed.
    await env.DB.prepare("UPDATE webhooks SET url = ? WHERE id = ?").bind("https://[::ffff:0:7f00:1]/", sub.id).run();
    const call = await placed(user.apiKey);
    await endSandboxCall(call.id);
    await makeCallsDue([call.id]);
    await tick({ WEBHOOKS_ALLOW_LOOPBACK: "false" });
    expect(blocked).toEqual([]);
    const delivery = await env.DB.prepare("SELECT attempts, last_error FROM deliveries WHERE webhook_id = ?")
      .bind(sub.id)
      .first<{ attempts: number; last_error: string }>();
    expect(delivery).toMatchObject({ attempts: 1, last_error: expect.stringContaining("refused") });
  });
});

function subscribeIn(apiKey: string, url: string) {
  return production("/v1/webhooks", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ url, events: ["call.completed"] }),
  });
}

function refused(url: string): boolean {
  try {
    checkTarget(url, false);
    return false;
  } catch {
    return true;
  }
}
