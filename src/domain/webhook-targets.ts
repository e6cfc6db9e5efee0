import { ApiError } from "../errors";

/**
 * Where webhooks may be sent. Deployed, only https to public hosts: no localhost, *.local,
 * *.internal, and no IP literal in a private, loopback, link-local, CGNAT, multicast or unspecified
 * range (IPv4, IPv6 and IPv4-mapped IPv6). The dev setting (WEBHOOKS_ALLOW_LOOPBACK, on when
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
  if (isPrivateHost(url.hostname)) throw refuse("url: must be a public host; private, loopback and link-local addresses are refused.");
  return url;
}

export function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host === "" || host === "localhost" || /\.(localhost|local|internal|home\.arpa|lan)$/.test(host)) return true;
  if (host.startsWith("[")) return isPrivateIPv6(host.slice(1, -1));
  const v4 = parseIPv4(host);
  if (v4) return isPrivateIPv4(v4);
  // A bare name without a dot (e.g. "intranet") resolves only inside a private network.
  return !host.includes(".");
}

function parseIPv4(host: string): number[] | null {
  // The URL parser has already normalised decimal, octal and hex forms to dotted quads.
  const m = host.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

function isPrivateIPv4([a, b]: number[]): boolean {
  return (
    a === 0 || // 0.0.0.0/8 "this network"
    a === 10 ||
    a === 127 ||
    (a === 100 && b! >= 64 && b! <= 127) || // CGNAT 100.64/10
    (a === 169 && b === 254) ||
    (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) || // 192.0.0/24 and 192.0.2/24 (special / documentation)
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a! >= 224 // multicast, reserved, broadcast
  );
}

function isPrivateIPv6(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "::" || h === "::1") return true;
  const mapped = h.match(/^::ffff:(.+)$/);
  if (mapped) {
    const tail = mapped[1]!;
    const v4 = parseIPv4(tail) ?? hexPairToIPv4(tail);
    return v4 ? isPrivateIPv4(v4) : true;
  }
  const first = parseInt(h.split(":")[0] || "0", 16);
  return (
    (first & 0xfe00) === 0xfc00 || // fc00::/7 unique local
    (first & 0xffc0) === 0xfe80 || // fe80::/10 link-local
    (first & 0xff00) === 0xff00 || // multicast
    h.startsWith("64:ff9b:") || // NAT64 can reach IPv4 private ranges
    h.startsWith("::") // other IPv4-compatible forms
  );
}

function hexPairToIPv4(tail: string): number[] | null {
  const m = tail.match(/^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/);
  if (!m) return null;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255];
}
