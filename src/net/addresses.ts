/**
 * Addresses an image fetch must never reach: private, loopback, link-local, CGNAT, cloud
 * metadata, multicast, reserved and documentation ranges, for IPv4 and IPv6 (including
 * IPv4-mapped and NAT64 forms that smuggle an IPv4 address).
 */
const V4_BLOCKS: Array<[string, number]> = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16],
  ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];

export function parseIPv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function v4Forbidden(ip: number): boolean {
  return V4_BLOCKS.some(([base, bits]) => {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return ((ip & mask) >>> 0) === ((parseIPv4(base)! & mask) >>> 0);
  });
}

/** Parses an IPv6 literal (no brackets) into 8 16-bit groups; null when it is not one. */
export function parseIPv6(input: string): number[] | null {
  if (!input.includes(':')) return null;
  let s = input;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = parseIPv4(v4[1]!);
    if (n === null) return null;
    s = s.slice(0, -v4[1]!.length) + (n >>> 16).toString(16) + ':' + (n & 0xffff).toString(16);
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (h: string) => (h === '' ? [] : h.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if ([...head, ...rest].some(Number.isNaN)) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const fill = 8 - head.length - rest.length;
  return fill >= 1 ? [...head, ...new Array<number>(fill).fill(0), ...rest] : null;
}

function v6Forbidden(g: number[]): boolean {
  const allZero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const embedded = (hi: number, lo: number) => v4Forbidden(((g[hi]! << 16) | g[lo]!) >>> 0);
  if (allZero(0, 5) && g[5] === 0xffff) return embedded(6, 7); // ::ffff:a.b.c.d (IPv4-mapped)
  if (g[0] === 0x64 && g[1] === 0xff9b && allZero(2, 6)) return embedded(6, 7); // NAT64 64:ff9b::/96
  const first = g[0]!;
  // Everything outside global unicast 2000::/3 is refused: ::, ::1, IPv4-compatible ::a.b.c.d,
  // SIIT ::ffff:0:a.b.c.d, discard 100::/64, local-use NAT64 64:ff9b:1::/48, unique local
  // fc00::/7 (incl. fd00:ec2::254), link-local fe80::/10, multicast ff00::/8, unassigned space.
  if ((first & 0xe000) !== 0x2000) return true;
  if (first === 0x2001 && (g[1]! & 0xfe00) === 0) return true; // 2001::/23 IETF protocol assignments (Teredo, benchmarking, ORCHID)
  if (first === 0x2001 && g[1] === 0x0db8) return true; // 2001:db8::/32 documentation
  if (first === 0x3fff && (g[1]! & 0xf000) === 0) return true; // 3fff::/20 documentation
  if (first === 0x2002) return embedded(1, 2); // 6to4 carries an IPv4 address
  return false;
}

/** True when `ip` (v4 dotted quad or v6 literal) must not be connected to. Unparseable -> true. */
export function isForbiddenAddress(ip: string): boolean {
  const v4 = parseIPv4(ip);
  if (v4 !== null) return v4Forbidden(v4);
  const v6 = parseIPv6(ip.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  if (v6 !== null) return v6Forbidden(v6);
  return true;
}

const FORBIDDEN_NAMES = [/^localhost$/, /\.localhost$/, /\.local$/, /\.internal$/, /^metadata$/, /^metadata\.google\.internal$/, /\.home\.arpa$/];

export function isForbiddenHostname(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return FORBIDDEN_NAMES.some((r) => r.test(h)) || !h.includes('.');
}
