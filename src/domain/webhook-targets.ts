import { ApiError } from "../errors";

/**
 * Where webhooks may be sent. Deployed, only https to public hosts: no localhost(.localdomain),
 * *.local, *.internal, no name of a wildcard-DNS service that answers with the address written in
 * the name (127.0.0.1.nip.io, *.sslip.io, localtest.me…) nor any name embedding a private IPv4, and
 * no IP literal in a private, loopback, link-local, CGNAT, documentation, multicast or unspecified
 * range — IPv4, IPv6, and the IPv6 forms that carry an IPv4 (mapped, 6to4, NAT64, Teredo). A name
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
function embedsPrivateIPv4(host: string): boolean {
  for (const m of host.matchAll(/(?:^|[.-])(\d{1,3})[.-](\d{1,3})[.-](\d{1,3})[.-](\d{1,3})(?=$|[.-])/g)) {
    const parts = m.slice(1, 5).map(Number);
    if (isQuad(parts) && isPrivateIPv4(parts)) return true;
  }
  return false;
}

/** An IPv4 address as its four numbers. */
type Quad = [number, number, number, number];
const isQuad = (parts: number[]): parts is Quad => parts.length === 4 && parts.every((p) => p >= 0 && p <= 255);

/** The eight 16-bit groups of an IPv6 address. */
type Groups = [number, number, number, number, number, number, number, number];
const isGroups = (groups: number[]): groups is Groups => groups.length === 8;

function parseIPv4(host: string): Quad | null {
  // The URL parser has already normalised decimal, octal and hex forms to dotted quads.
  const m = host.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return isQuad(parts) ? parts : null;
}

function isPrivateIPv4([a, b, c]: Quad): boolean {
  return (
    a === 0 || // 0.0.0.0/8 "this network"
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // CGNAT 100.64/10
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) || // 192.0.0/24 and 192.0.2/24 (special / documentation)
    (a === 192 && b === 88 && c === 99) || // 6to4 relay anycast
    (a === 198 && b === 51 && c === 100) || // documentation
    (a === 203 && b === 0 && c === 113) || // documentation
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a >= 224 // multicast, reserved, broadcast
  );
}

function isPrivateIPv6(host: string): boolean {
  const groups = ipv6Groups(host.toLowerCase());
  if (!groups) return true; // not an address this check understands: refuse rather than guess
  const [g0, g1, , , , g5, g6, g7] = groups;
  const embedded = (hi: number, lo: number): Quad => [hi >> 8, hi & 255, lo >> 8, lo & 255];
  if (groups.slice(0, 6).every((g) => g === 0)) return true; // ::, ::1, IPv4-compatible ::a.b.c.d
  if (groups.slice(0, 5).every((g) => g === 0) && g5 === 0xffff) return isPrivateIPv4(embedded(g6, g7)); // ::ffff:a.b.c.d
  return (
    (g0 & 0xfe00) === 0xfc00 || // fc00::/7 unique local
    (g0 & 0xffc0) === 0xfe80 || // fe80::/10 link-local
    (g0 & 0xffc0) === 0xfec0 || // fec0::/10 site-local (deprecated)
    (g0 & 0xff00) === 0xff00 || // multicast
    (g0 === 0x64 && g1 === 0xff9b) || // 64:ff9b::/96 and 64:ff9b:1::/48 NAT64: reach any IPv4, private ones too
    g0 === 0x2002 || // 6to4: the IPv4 it tunnels to is in the address
    (g0 === 0x2001 && g1 === 0) || // Teredo
    (g0 === 0x2001 && g1 === 0xdb8) || // documentation
    (g0 & 0xfff0) === 0x3ff0 || // 3fff::/20 documentation
    (g0 === 0x100 && groups.slice(1, 4).every((g) => g === 0)) // 100::/64 discard-only
  );
}

/** The eight 16-bit groups of an IPv6 address (as the URL parser writes it), or null. */
function ipv6Groups(address: string): Groups | null {
  let text = address;
  const v4 = text.match(/\d+\.\d+\.\d+\.\d+$/);
  if (v4) {
    const quad = parseIPv4(v4[0]);
    if (!quad) return null;
    const [a, b, c, d] = quad;
    text = `${text.slice(0, -v4[0].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [first = "", second, ...more] = text.split("::");
  if (more.length > 0) return null;
  const parse = (part: string) => (part ? part.split(":") : []);
  const head = parse(first);
  const tail = second === undefined ? [] : parse(second);
  const missing = 8 - head.length - tail.length;
  if (second === undefined ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(second === undefined ? 0 : missing).fill("0"), ...tail];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  const groups = all.map((g) => parseInt(g, 16));
  return isGroups(groups) ? groups : null;
}
