// Parsing of user-typed addresses (`host:port`, `[v6]:port`, and multiaddrs such as
// `/ip4/127.0.0.1/udp/4000` or `/ip6/::1/udp/4000`) with errors a person can act on. The one place
// addresses are parsed: bootstrap lists in the CLI, the contract and the Join form all come here.
// Pure string code (no node:net), so the renderer-facing contract can validate with the same messages.
import type { Endpoint } from './transport/types';

export type ParseResult = { ok: true; value: Endpoint } | { ok: false; message: string };

const IPV4_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const IPV4 = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;
const IPV6_GROUPS = 8;

/** Dotted-quad IPv4 without leading zeros, as node:net's isIPv4 accepts. */
function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

/** IPv6 text form: 8 groups, one "::" abbreviation, an optional trailing IPv4 and an optional %zone. */
function isIPv6(input: string): boolean {
  const zone = input.indexOf('%');
  const s = zone >= 0 ? input.slice(0, zone) : input;
  if (zone >= 0 && zone === input.length - 1) return false;
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groupsOf = (part: string): string[] | null => (part === '' ? [] : part.split(':'));
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (head === null || tail === null) return false;
  const all = [...head, ...tail];
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const g = all[i];
    const isLast = i === all.length - 1;
    if (isLast && g.includes('.')) {
      if (!isIPv4(g)) return false;
      count += 2; // an embedded IPv4 fills the last two groups
    } else if (IPV6_GROUP.test(g)) {
      count += 1;
    } else {
      return false;
    }
  }
  return halves.length === 2 ? count < IPV6_GROUPS : count === IPV6_GROUPS;
}

/** 4, 6 or 0, like node:net's isIP. */
export function isIP(s: string): 0 | 4 | 6 {
  if (isIPv4(s)) return 4;
  if (isIPv6(s)) return 6;
  return 0;
}

const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** Longest input echoed back in an error message (the rest is cut with "…"). */
const ECHO_MAX_CHARS = 80;

/**
 * Parses `host:port` or a UDP multiaddr (`/ip4/H/udp/P`, `/ip6/H/udp/P`, `/dns/N/udp/P`,
 * `/dns4/…`, `/dns6/…`). The message starts with the input, e.g. "127.0.0.1:99999: port must be 1-65535".
 */
export function parseAddress(input: string): ParseResult {
  const s = input.trim();
  const echo = s.length > ECHO_MAX_CHARS ? `${s.slice(0, ECHO_MAX_CHARS)}…` : s;
  const fail = (why: string): ParseResult => ({ ok: false, message: `${echo || '(empty)'}: ${why}` });
  if (s === '') return fail('empty address; expected host:port, e.g. 127.0.0.1:4000');
  if (s.startsWith('/')) return parseMultiaddr(s, fail);
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return fail('missing "]" after the IPv6 address');
    host = s.slice(1, close);
    if (s[close + 1] !== ':') return fail('missing ":port" after "]"');
    portText = s.slice(close + 2);
    if (isIP(host) !== 6) return fail(`"${clip(host)}" is not an IPv6 address`);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) return fail('missing ":port"; expected host:port, e.g. 127.0.0.1:4000');
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (host.includes(':')) return fail('an IPv6 address goes in brackets: [::1]:4000');
    if (host === '') return fail('missing host before ":"');
    if (isIP(host) === 0 && !HOSTNAME.test(host)) return fail(`"${clip(host)}" is not an IP address or host name`);
    if (/^[0-9.]+$/.test(host) && isIP(host) !== 4) return fail(`"${clip(host)}" is not a valid IPv4 address`);
  }
  if (portText === '') return fail('missing port after ":"');
  return withPort(host, portText, fail);
}

function withPort(host: string, portText: string, fail: (why: string) => ParseResult): ParseResult {
  if (!/^[0-9]+$/.test(portText)) return fail(`port "${clip(portText)}" is not a number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) return fail('port must be 1-65535');
  return { ok: true, value: { host, port } };
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

const MULTIADDR_HOST_PROTOCOLS = ['ip4', 'ip6', 'dns', 'dns4', 'dns6'];

/** `/ip4/H/udp/P` and its kin: exactly four components; kadscope speaks UDP only. */
function parseMultiaddr(s: string, fail: (why: string) => ParseResult): ParseResult {
  const parts = s.slice(1).split('/');
  if (parts[parts.length - 1] === '') parts.pop(); // a trailing "/" is harmless
  const [proto, host, transport, portText] = parts;
  if (!proto) return fail('empty multiaddr; expected e.g. /ip4/127.0.0.1/udp/4000');
  if (!MULTIADDR_HOST_PROTOCOLS.includes(proto)) {
    return fail(`multiaddr protocol "${clip(proto)}" is not supported; expected /ip4, /ip6, /dns, /dns4 or /dns6, e.g. /ip4/127.0.0.1/udp/4000`);
  }
  if (host === undefined || host === '') return fail(`missing the address after /${proto}`);
  if (proto === 'ip4' && isIP(host) !== 4) return fail(`"${clip(host)}" is not an IPv4 address`);
  if (proto === 'ip6' && isIP(host) !== 6) return fail(`"${clip(host)}" is not an IPv6 address`);
  if (proto.startsWith('dns') && (!HOSTNAME.test(host) || isIP(host) !== 0)) return fail(`"${clip(host)}" is not a host name`);
  if (transport === undefined) return fail(`missing /udp/port after /${proto}/${clip(host)}`);
  if (transport !== 'udp') return fail(`kadscope speaks UDP: expected /udp/port, not /${clip(transport)}`);
  if (portText === undefined || portText === '') return fail('missing port after /udp');
  if (parts.length > 4) return fail(`unexpected "/${clip(parts.slice(4).join('/'))}" after the port; expected e.g. /ip4/127.0.0.1/udp/4000`);
  return withPort(host, portText, fail);
}

/** The multiaddr form of an endpoint: `/ip4/H/udp/P`, `/ip6/H/udp/P` or `/dns/N/udp/P`. */
export function formatMultiaddr(e: Endpoint): string {
  const fam = isIP(e.host);
  return `/${fam === 4 ? 'ip4' : fam === 6 ? 'ip6' : 'dns'}/${e.host}/udp/${e.port}`;
}

/** Parses a comma- or whitespace-separated list; every bad entry is reported. */
export function parseAddressList(input: string | string[]): { ok: true; value: Endpoint[] } | { ok: false; message: string } {
  const parts = (Array.isArray(input) ? input : input.split(/[\s,]+/)).map((p) => p.trim()).filter((p) => p !== '');
  const out: Endpoint[] = [];
  const errors: string[] = [];
  for (const p of parts) {
    const r = parseAddress(p);
    if (r.ok) out.push(r.value);
    else errors.push(r.message);
  }
  if (errors.length > 0) return { ok: false, message: errors.join('; ') };
  return { ok: true, value: out };
}
