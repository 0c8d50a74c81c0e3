// The local address when peers share a subnet: hyperdht's LAN shortcut. The reference is
// node_modules/hyperdht/lib/holepuncher.js (localAddresses, matchAddress), server.js and connect.js.
//
// Where the addresses travel: a hyperdht peer's announcement (the peer record: public key and
// relay addresses, records.ts) carries no address of the peer itself, and that format is the
// network's, so nothing can be added to it. The peer's addresses go in the handshake payload the
// node holding the announcement relays (messages.js noisePayload `addresses4`): its public address
// first, when it knows it, then its local ones (addressesToShare). The other side, seeing both
// ends at one public host (behind the same NAT), takes the local address on its own subnet instead
// of the public one (addressToUse); any other peer gets the public address.
//
// kadscope's own protocol controls its format, so there the addresses travel in the announcement
// (wire v3, core/wire/README.md): DhtNode.localHosts() lists ours, the storer hands them only to a
// requester at the announcer's public host, and lookupPeers picks with addressToUse.
//
// Pure functions: the caller supplies the bound address and the machine's interfaces.
import type { Endpoint } from './transport/types';

/** An interface as node:os networkInterfaces() and udx's networkInterfaces() list it. */
export interface LocalInterface {
  /** The address (udx says `host`, node:os `address`). */
  host: string;
  family: 4 | 6;
  internal: boolean;
}

/** hyperdht sends a handful of addresses; a peer listing more is not one we follow. */
export const MAX_SHARED_ADDRESSES = 16;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function octets(host: string): number[] | null {
  const m = IPV4.exec(host);
  if (!m) return null;
  const o = m.slice(1).map(Number);
  return o.every((x) => x <= 255) ? o : null;
}

/** bogon's isPrivate: 10/8, 100.64/10 (carrier-grade NAT), 127/8, 169.254/16, 172.16/12, 192.168/16. IPv6 never. */
export function isPrivateIPv4(host: string): boolean {
  const o = octets(host);
  if (!o) return false;
  const [a, b] = o;
  return a === 10 || (a === 100 && b >= 64 && b <= 127) || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/**
 * This node's local addresses, as holepuncher.js localAddresses: bound to 127.0.0.1, just that;
 * otherwise every external IPv4 interface at the bound port, or 127.0.0.1 when there is none.
 */
export function localAddresses(bound: Endpoint, interfaces: readonly LocalInterface[]): Endpoint[] {
  if (bound.host === '127.0.0.1') return [{ host: bound.host, port: bound.port }];
  const out: Endpoint[] = [];
  for (const n of interfaces) {
    if (n.family !== 4 || n.internal || octets(n.host) === null) continue;
    if (out.length < MAX_SHARED_ADDRESSES) out.push({ host: n.host, port: bound.port });
  }
  return out.length > 0 ? out : [{ host: '127.0.0.1', port: bound.port }];
}

/** What a peer sends as `addresses4`: its public address (when known), then its local ones, each once. */
export function addressesToShare(publicAddress: Endpoint | null, locals: readonly Endpoint[]): Endpoint[] {
  const out: Endpoint[] = [];
  const seen = new Set<string>();
  for (const a of publicAddress ? [publicAddress, ...locals] : locals) {
    const key = `${a.host}:${a.port}`;
    if (seen.has(key) || out.length >= MAX_SHARED_ADDRESSES) continue;
    seen.add(key);
    out.push({ host: a.host, port: a.port });
  }
  return out;
}

/**
 * holepuncher.js matchAddress: the remote local address sharing the most leading octets (three,
 * then two, then one) with one of ours, the first found at each level; null when none shares even
 * the first.
 */
export function matchAddress(mine: readonly Endpoint[], theirs: readonly Endpoint[]): Endpoint | null {
  if (theirs.length === 0) return null;
  let best: { segment: number; addr: Endpoint | null } = { segment: 1, addr: null };
  for (const local of mine) {
    const a = local.host.split('.');
    for (const remote of theirs) {
      const b = remote.host.split('.');
      if (a[0] !== b[0]) continue;
      if (best.segment === 1) best = { segment: 2, addr: remote };
      if (a[1] !== b[1]) continue;
      if (best.segment === 2) best = { segment: 3, addr: remote };
      if (a[2] === b[2]) return remote;
    }
  }
  return best.addr;
}

export interface AddressChoice {
  address: Endpoint;
  /** 'local': the peer shares our public address and one of its private addresses is on our side. */
  via: 'local' | 'public';
}

/**
 * Which of a peer's addresses to use (server.js and connect.js): when the relay saw us both at the
 * same public host, the peer's private address that matchAddress picks against ours (or its first
 * private one when none shares an octet, as connect.js falls back); otherwise its public address.
 */
export function addressToUse(input: {
  /** Where the relay saw the peer, and us. */
  theirPublic: Endpoint;
  ourPublic: Endpoint;
  /** The peer's `addresses4`. */
  theirAddresses: readonly Endpoint[];
  ourLocals: readonly Endpoint[];
}): AddressChoice {
  const { theirPublic, ourPublic } = input;
  if (theirPublic.host === ourPublic.host) {
    const privateOnes = input.theirAddresses.slice(0, MAX_SHARED_ADDRESSES).filter((a) => isPrivateIPv4(a.host));
    const pick = matchAddress(input.ourLocals, privateOnes) ?? privateOnes[0];
    if (pick) return { address: { host: pick.host, port: pick.port }, via: 'local' };
  }
  return { address: { host: theirPublic.host, port: theirPublic.port }, via: 'public' };
}
