import type { Context } from "hono";

/** Cloudflare sets CF-Connecting-IP on every request; locally it is absent. */
export const clientIp = (c: Context) => c.req.header("cf-connecting-ip") ?? "local";

/**
 * Who a per-address limit counts: an IPv4 address as is, an IPv6 address by its /64 (one
 * subscriber usually holds a whole /64, so counting single addresses would not limit anyone).
 * IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
export function addressBucket(ip: string): string {
  const address = ip
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/%.*$/, "");
  if (!address.includes(":")) return address;
  const mapped = address.match(/^(?:0*:)*:?ffff:(\d+\.\d+\.\d+\.\d+)$/)?.[1];
  if (mapped) return mapped;
  const [head = "", tail] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  // A trailing embedded IPv4 (::a.b.c.d) stands for two groups; only the first four groups matter.
  const groups =
    tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  const prefix = groups.slice(0, 4).map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? g.replace(/^0+(?=.)/, "") : "?"));
  while (prefix.length < 4) prefix.push("0");
  return `${prefix.join(":")}::/64`;
}

/** The client's bucket for per-address limits (see addressBucket). */
export const clientBucket = (c: Context) => addressBucket(clientIp(c));
