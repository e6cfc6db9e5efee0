import { ApiError } from "../errors";
import { parseIPv4, parseIPv6, prefixSet } from "../shared/ip";

/**
 * Where webhooks may be sent. Deployed, only https to public hosts: no localhost(.localdomain),
 * *.local, *.internal, no name of a wildcard-DNS service that answers with the address written in
 * the name (127.0.0.1.nip.io, *.sslip.io, localtest.me…) nor any name embedding a private IPv4, and
 * no IP literal in a block of IANA's IPv4 or IPv6 special-purpose registries, nor multicast, nor
 * any IPv6 form that carries an IPv4 (mapped, translated, compatible, NAT64, 6to4, Teredo, ISATAP).
 * The URL parser has already normalised decimal, octal and hex IPv4 forms to dotted quads. A name
 * can still resolve privately later (DNS rebinding); Workers' fetch reaches only the public
 * internet, and these checks refuse what a text check can see. The dev setting (WEBHOOKS_ALLOW_LOOPBACK, on when
 * BRIDGE_ENV=development) allows http and any host, so a receiver on 127.0.0.1 works with
 * `npm run dev`. Checked when subscribing and again before every delivery.
 */
const refuse = (message: string) => new ApiError(422, "invalid_webhook_url", message, { field: "url" });

export function checkTarget(raw: string, allowLoopback: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse("url: not a URL. Send the full address, e.g. https://hooks.example.com/kallyai.");
  }
  if (url.username || url.password) throw refuse("url: must not contain a user name or password.");
  if (url.protocol !== "https:" && url.protocol !== "http:") throw refuse("url: must be an https:// address.");
  if (allowLoopback) return url;
  if (url.protocol !== "https:") throw refuse("url: must be an https:// address.");
  if (isPrivateHost(url.hostname))
    throw refuse("url: must be a public host; private, loopback and link-local addresses are refused.");
  return url;
}

/**
 * Wildcard-DNS services: every name under them resolves to the address written in the name (or
 * to 127.0.0.1). No webhook receiver lives there, so they are refused whole.
 */
const WILDCARD_DNS = [
  "nip.io",
  "sslip.io",
  "xip.io",
  "traefik.me",
  "backname.io",
  "localtest.me",
  "lvh.me",
  "vcap.me",
  "lacolhost.com",
  "localhost.direct",
  "fuf.me",
  "yoogle.com",
  "ulh.me",
  "127-0-0-1.org.uk",
];

export function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (
    host === "" ||
    host === "localhost" ||
    /\.(localhost|localdomain|local|internal|home\.arpa|lan)$/.test(host) ||
    host === "localhost.localdomain"
  )
    return true;
  if (host.startsWith("[")) return isPrivateIPv6(host.slice(1, -1));
  const v4 = parseIPv4(host);
  if (v4) return isPrivateIPv4(v4);
  if (WILDCARD_DNS.some((domain) => host === domain || host.endsWith(`.${domain}`))) return true;
  if (embedsPrivateIPv4(host)) return true;
  // A bare name without a dot (e.g. "intranet") resolves only inside a private network.
  return !host.includes(".");
}

/** A private IPv4 written into a name with dots or dashes (10.0.0.1.example.com, 192-168-0-1.example.net). */
/** A special-purpose IPv4 written into a name with dots or dashes (10.0.0.1.example.com, 192-168-0-1.example.net). */
function embedsPrivateIPv4(host: string): boolean {
  for (const m of host.matchAll(/(?:^|[.-])(\d{1,3})[.-](\d{1,3})[.-](\d{1,3})[.-](\d{1,3})(?=$|[.-])/g)) {
    const bytes = m.slice(1, 5).map(Number);
    if (bytes.every((p) => p <= 255) && isPrivateIPv4(bytes)) return true;
  }
  return false;
}

/**
 * Every block of IANA's IPv4 Special-Purpose Address Registry (RFC 6890 and its updates), the
 * globally reachable ones too (anycast services, AS112, AMT: no webhook receiver lives there),
 * and multicast (IANA's multicast registry), which is no unicast destination at all.
 */
const SPECIAL_IPV4 = prefixSet([
  "0.0.0.0/8", // "this network" (RFC 791), 0.0.0.0/32 "this host" (RFC 1122)
  "10.0.0.0/8", // private use (RFC 1918)
  "100.64.0.0/10", // shared address space, CGNAT (RFC 6598)
  "127.0.0.0/8", // loopback (RFC 1122)
  "169.254.0.0/16", // link local (RFC 3927)
  "172.16.0.0/12", // private use (RFC 1918)
  "192.0.0.0/24", // IETF protocol assignments (RFC 6890): service continuity, dummy, PCP/TURN anycast, NAT64 discovery
  "192.0.2.0/24", // documentation, TEST-NET-1 (RFC 5737)
  "192.31.196.0/24", // AS112-v4 (RFC 7535)
  "192.52.193.0/24", // AMT (RFC 7450)
  "192.88.99.0/24", // deprecated 6to4 relay anycast (RFC 7526), 6a44 relay anycast (RFC 6751)
  "192.168.0.0/16", // private use (RFC 1918)
  "192.175.48.0/24", // direct delegation AS112 service (RFC 7534)
  "198.18.0.0/15", // benchmarking (RFC 2544)
  "198.51.100.0/24", // documentation, TEST-NET-2 (RFC 5737)
  "203.0.113.0/24", // documentation, TEST-NET-3 (RFC 5737)
  "224.0.0.0/4", // multicast (RFC 5771)
  "240.0.0.0/4", // reserved (RFC 1112), 255.255.255.255/32 limited broadcast (RFC 919)
]);

/**
 * Every block of IANA's IPv6 Special-Purpose Address Registry, the IPv6 forms that carry an IPv4
 * address (which may be a private one, so they are refused whatever they carry), and the
 * non-unicast and deprecated blocks of IANA's IPv6 address space.
 */
const SPECIAL_IPV6 = prefixSet([
  "::/96", // unspecified ::/128, loopback ::1/128 (RFC 4291); IPv4-compatible ::a.b.c.d (RFC 4291 §2.5.5.1, deprecated)
  "::ffff:0:0/96", // IPv4-mapped (RFC 4291)
  "::ffff:0:0:0/96", // IPv4-translated (RFC 2765 §2.1)
  "64:ff9b::/96", // NAT64 well-known prefix (RFC 6052)
  "64:ff9b:1::/48", // NAT64 local-use prefix (RFC 8215)
  "100::/64", // discard-only (RFC 6666)
  "100:0:0:1::/64", // dummy IPv6 prefix (RFC 9780)
  "2001::/23", // IETF protocol assignments (RFC 2928): Teredo 2001::/32 (RFC 4380), PCP/TURN/DNS-SD anycast,
  // benchmarking 2001:2::/48, AMT 2001:3::/32, AS112-v6, ORCHID, ORCHIDv2, drone DETs
  "2001:db8::/32", // documentation (RFC 3849)
  "2002::/16", // 6to4 (RFC 3056)
  "2620:4f:8000::/48", // direct delegation AS112 service (RFC 7534)
  "3fff::/20", // documentation (RFC 9637)
  "5f00::/16", // segment routing SIDs (RFC 9602)
  "fc00::/7", // unique local (RFC 4193)
  "fe80::/10", // link-local unicast (RFC 4291)
  "fec0::/10", // site-local (RFC 3879, deprecated)
  "ff00::/8", // multicast (RFC 4291)
]);

function isPrivateIPv4(bytes: number[]): boolean {
  return SPECIAL_IPV4.hasIPv4(bytes);
}

/** The only IPv6 block IANA allocates for global unicast; the rest is reserved, local or multicast. */
const GLOBAL_UNICAST = prefixSet(["2000::/3"]);

function isPrivateIPv6(address: string): boolean {
  const groups = parseIPv6(address);
  if (!groups) return true; // not an address this check understands: refuse rather than guess
  return !GLOBAL_UNICAST.hasIPv6(groups) || SPECIAL_IPV6.hasIPv6(groups) || isIsatap(groups);
}

/**
 * ISATAP (RFC 5214 §6.1): under any prefix, an interface id of 0000:5efe or 0200:5efe (with the
 * universal/local and group bits either way) followed by the IPv4 address of the tunnel's end.
 */
const isIsatap = (groups: number[]) => ((groups[4] ?? 0) & 0xfcff) === 0 && groups[5] === 0x5efe;
