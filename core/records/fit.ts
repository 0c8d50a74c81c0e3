// Making an answer fit one datagram. A FIND_VALUE answer carrying a 1,000-byte mutable record has
// room for only a few contacts next to it (each IPv4 contact is 38 bytes, IPv6 50), and a GET_PEERS
// answer with 32 IPv6 peers and 20 IPv6 contacts is also too big. The record (or the peers) is what
// the asker came for, so contacts give way first: we send as many of the nearest as fit, possibly
// none; only then are peers trimmed.
import { encodeMessage } from '../wire/codec';
import { MAX_DATAGRAM_BYTES, type Message, type ResponseMessage, type WirePeer } from '../wire/types';
import type { ResponseBody } from '../rpc/rpc';

/** The largest transaction id: its CBOR encoding is the longest, so a fit with it fits any tid. */
const WORST_CASE_TID = 0xffff_ffff;

function fits(body: ResponseBody, selfId: Uint8Array, observed: WirePeer, encode: (msg: Message) => Uint8Array): boolean {
  const msg: ResponseMessage = { ...body, kind: 'response', tid: WORST_CASE_TID, id: selfId, observed };
  try {
    return encode(msg).length <= MAX_DATAGRAM_BYTES;
  } catch {
    // Our own, valid fields: the encoder refuses only for size.
    return false;
  }
}

/** Largest n in [0, max] with ok(n), given ok is monotone (true up to some n, false after); -1 if none. */
function largest(max: number, ok: (n: number) => boolean): number {
  if (ok(max)) return max;
  let lo = -1;
  let hi = max;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * `body` with its `nodes` (nearest first), then its `peers`, cut so that the answer to `observed`
 * fits MAX_DATAGRAM_BYTES. Returns body itself when it already fits.
 */
export function fitResponse(body: ResponseBody, selfId: Uint8Array, observed: WirePeer, encode: (msg: Message) => Uint8Array = encodeMessage): ResponseBody {
  if (fits(body, selfId, observed, encode)) return body;
  const nodes = body.nodes ?? [];
  const withNodes = (n: number): ResponseBody => ({ ...body, nodes: nodes.slice(0, n) });
  const n = largest(nodes.length, (i) => fits(withNodes(i), selfId, observed, encode));
  if (n >= 0) return withNodes(n);
  const peers = body.peers ?? [];
  const withPeers = (p: number): ResponseBody => ({ ...body, nodes: [], peers: peers.slice(0, p) });
  const p = largest(peers.length, (i) => fits(withPeers(i), selfId, observed, encode));
  // A record alone always fits (1,000-byte value + key, salt, signature < 1,400 bytes).
  return withPeers(Math.max(0, p));
}
