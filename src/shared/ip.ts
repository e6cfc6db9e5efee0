/**
 * IP address literals: parsing and prefix matching, for the webhook target checks and the
 * per-address limits. One parser for both, so an address means the same thing everywhere.
 */

/** A dotted-quad IPv4 address as its four bytes, or null. */
export function parseIPv4(text: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? bytes : null;
}

/**
 * The eight 16-bit groups of an IPv6 address (`::` shorthand, a trailing dotted IPv4, any case;
 * no brackets, no zone), or null when it is not one.
 */
export function parseIPv6(address: string): number[] | null {
  let text = address.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const bytes = parseIPv4(v4[1]);
    if (!bytes) return null;
    const [a = 0, b = 0, c = 0, d = 0] = bytes;
    text = `${text.slice(0, -v4[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parts = (half: string | undefined) => (half ? half.split(":") : []);
  const head = parts(halves[0]);
  const tail = parts(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return all.map((g) => Number.parseInt(g, 16));
}

/** An IPv4 address (four bytes) or IPv6 address (eight groups) as one number. */
const asNumber = (parts: number[], bitsEach: number): bigint =>
  parts.reduce((acc, part) => (acc << BigInt(bitsEach)) | BigInt(part), 0n);

interface Prefix {
  version: 4 | 6;
  base: bigint;
  shift: bigint;
}

/** "a.b.c.d/n" or "x:y::/n" as a prefix to match addresses against. */
export function prefixOf(cidr: string): Prefix {
  const [address = "", length = ""] = cidr.split("/");
  const v4 = parseIPv4(address);
  const parts = v4 ?? parseIPv6(address);
  if (!parts || !/^\d+$/.test(length)) throw new Error(`not a prefix: ${cidr}`);
  const width = v4 ? 32 : 128;
  const shift = BigInt(width - Number(length));
  return { version: v4 ? 4 : 6, base: asNumber(parts, v4 ? 8 : 16) >> shift, shift };
}

/** A matcher for a list of prefixes: whether an address (bytes or groups) lies in any of them. */
export function prefixSet(cidrs: readonly string[]) {
  const prefixes = cidrs.map(prefixOf);
  return {
    hasIPv4: (bytes: number[]) => matches(prefixes, 4, asNumber(bytes, 8)),
    hasIPv6: (groups: number[]) => matches(prefixes, 6, asNumber(groups, 16)),
  };
}

const matches = (prefixes: Prefix[], version: 4 | 6, value: bigint) =>
  prefixes.some((p) => p.version === version && value >> p.shift === p.base);
