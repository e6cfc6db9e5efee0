import type { Context } from "hono";
import { parseIPv6 } from "../shared/ip";

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
  const groups = parseIPv6(address);
  if (!groups) return address;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return groups
      .slice(6)
      .flatMap((g) => [g >> 8, g & 255])
      .join(".");
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}

/** The client's bucket for per-address limits (see addressBucket). */
export const clientBucket = (c: Context) => addressBucket(clientIp(c));
