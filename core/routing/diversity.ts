// IP diversity limits for the routing table: one operator with one subnet should not fill our
// buckets with ids (a Sybil / eclipse defence, as in libtorrent's restrict_routing_ips and
// BEP 42's spirit). The limits make no sense on loopback or private test networks, where every node
// shares 127.0.0.1 or one /24, so they default to off there and the UI says so.
// Pure string parsing: no node:net, so it runs anywhere core/ does.

/** Peers of one /24 (IPv4) or /48 (IPv6) allowed in one bucket. */
export const MAX_PER_SUBNET_PER_BUCKET = 2;
/** Peers of one /24 or /48 allowed in the whole table. */
export const MAX_PER_SUBNET_TOTAL = 10;
/** Ids allowed per IP address (any port). The host:port uniqueness rule applies even with limits off. */
export const MAX_IDS_PER_ADDRESS = 1;

export interface DiversityOptions {
  enabled: boolean;
  /** Default MAX_PER_SUBNET_PER_BUCKET. */
  maxPerSubnet24PerBucket?: number;
  /** Default MAX_PER_SUBNET_TOTAL. */
  maxPerSubnet24Total?: number;
  /** Ids per IP address, whatever the port. Default MAX_IDS_PER_ADDRESS. */
  maxIdsPerAddress?: number;
}

export type ResolvedDiversity = Required<DiversityOptions>;

export function resolveDiversity(o: DiversityOptions): ResolvedDiversity {
  const pick = (v: number | undefined, d: number, name: string): number => {
    const x = v ?? d;
    if (!Number.isInteger(x) || x < 1) throw new RangeError(`diversity.${name} must be an integer >= 1; got ${String(v)}`);
    return x;
  };
  return {
    enabled: o.enabled,
    maxPerSubnet24PerBucket: pick(o.maxPerSubnet24PerBucket, MAX_PER_SUBNET_PER_BUCKET, 'maxPerSubnet24PerBucket'),
    maxPerSubnet24Total: pick(o.maxPerSubnet24Total, MAX_PER_SUBNET_TOTAL, 'maxPerSubnet24Total'),
    maxIdsPerAddress: pick(o.maxIdsPerAddress, MAX_IDS_PER_ADDRESS, 'maxIdsPerAddress'),
  };
}

/**
 * The diversity setting for a node bound to `boundHost`: off when that host is loopback or private
 * (a local test network), on otherwise (including the wildcard 0.0.0.0 / ::, a public node).
 */
export function diversityForHost(boundHost: string): DiversityOptions {
  return { enabled: !isLoopbackOrPrivate(boundHost) };
}

/** Four octets, or null when `s` is not a dotted-quad IPv4 address. */
export function parseIPv4(s: string): [number, number, number, number] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const o = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  if (o.some((x) => x > 255)) return null;
  return o as [number, number, number, number];
}

/**
 * Eight 16-bit groups, or null when `s` is not an IPv6 address. Accepts "::" compression, a zone
 * ("fe80::1%eth0") and a trailing dotted quad ("::ffff:1.2.3.4").
 */
export function parseIPv6(s: string): number[] | null {
  let str = s;
  const zone = str.indexOf('%');
  if (zone >= 0) str = str.slice(0, zone);
  if (!str.includes(':')) return null;
  // A trailing dotted quad stands for the last two groups: rewrite it as hex and parse as usual.
  const lastColon = str.lastIndexOf(':');
  const v4 = parseIPv4(str.slice(lastColon + 1));
  if (v4) str = `${str.slice(0, lastColon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  const parts = str.split('::');
  if (parts.length > 2) return null;
  const parse = (p: string): number[] | null => {
    if (p === '') return [];
    const out: number[] = [];
    for (const g of p.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(parts[0]);
  const rest = parts.length === 2 ? parse(parts[1]) : [];
  if (!head || !rest) return null;
  const known = head.length + rest.length;
  if (parts.length === 2) {
    if (known > 7) return null;
    return [...head, ...new Array<number>(8 - known).fill(0), ...rest];
  }
  if (known !== 8) return null;
  return head;
}

/** The IPv4 address inside an IPv4-mapped IPv6 one (::ffff:a.b.c.d), or null. */
function mappedIPv4(g: number[]): [number, number, number, number] | null {
  if (g[0] || g[1] || g[2] || g[3] || g[4] || g[5] !== 0xffff) return null;
  return [g[6] >> 8, g[6] & 0xff, g[7] >> 8, g[7] & 0xff];
}

function v4IsLoopbackOrPrivate([a, b]: [number, number, number, number]): boolean {
  return (
    a === 127 || // loopback 127/8
    a === 10 || // 10/8
    (a === 172 && b >= 16 && b <= 31) || // 172.16/12
    (a === 192 && b === 168) || // 192.168/16
    (a === 169 && b === 254) // link-local 169.254/16
  );
}

/**
 * True for loopback, private and link-local addresses: 127/8, 10/8, 172.16/12, 192.168/16,
 * 169.254/16, ::1, fc00::/7, fe80::/10 (and those IPv4 ranges IPv4-mapped), and "localhost".
 * Hostnames and public or wildcard addresses are false.
 */
export function isLoopbackOrPrivate(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const v4 = parseIPv4(host);
  if (v4) return v4IsLoopbackOrPrivate(v4);
  const g = parseIPv6(host);
  if (!g) return false;
  const mapped = mappedIPv4(g);
  if (mapped) return v4IsLoopbackOrPrivate(mapped);
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return true; // ::1
  if ((g[0] & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((g[0] & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  return false;
}

/** Canonical form of an IP host (IPv4-mapped IPv6 as IPv4, IPv6 as 8 full groups); other hosts lowercased. */
export function ipKey(host: string): string {
  const v4 = parseIPv4(host);
  if (v4) return v4.join('.');
  const g = parseIPv6(host);
  if (!g) return host.toLowerCase();
  const mapped = mappedIPv4(g);
  if (mapped) return mapped.join('.');
  return g.map((x) => x.toString(16)).join(':');
}

/** The /24 of an IPv4 host or the /48 of an IPv6 one, as a Map key; a hostname is its own subnet. */
export function subnetKey(host: string): string {
  const v4 = parseIPv4(host);
  if (v4) return `${v4[0]}.${v4[1]}.${v4[2]}.0/24`;
  const g = parseIPv6(host);
  if (!g) return host.toLowerCase();
  const mapped = mappedIPv4(g);
  if (mapped) return `${mapped[0]}.${mapped[1]}.${mapped[2]}.0/24`;
  return `${g[0].toString(16)}:${g[1].toString(16)}:${g[2].toString(16)}::/48`;
}
