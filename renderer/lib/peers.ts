// The addresses a topic's peers were found at, as the Records view's Topics card lists them: each
// peer behind our own public address (kadscope's wire v3 local addresses) is marked as reached at
// its local address on our network, with the public one it shares with us.
import type { LookupPeersDto } from '../../electron/host/contract';

export interface PeerRow {
  /** host:port (on HyperDHT a public key, relays after an @). */
  address: string;
  /** Set for a local address: the peer's public address, the same host as ours. */
  sameNetworkAs?: string;
}

/** One row per address found, in the answer's order (local addresses first). */
export function peerRows(r: Pick<LookupPeersDto, 'peers' | 'sameNetwork'>): PeerRow[] {
  const local = new Map(r.sameNetwork.map((n) => [n.local, n.public]));
  return r.peers.map((address) => {
    const of = local.get(address);
    return of === undefined ? { address } : { address, sameNetworkAs: of };
  });
}

/** What a row says: `local 192.168.1.9:4000 (same network as 203.0.113.7:4000)`, or the address. */
export function peerRowText(row: PeerRow): string {
  return row.sameNetworkAs === undefined ? row.address : `local ${row.address} (same network as ${row.sameNetworkAs})`;
}
