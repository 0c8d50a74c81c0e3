// Making an answer fit one datagram. A FIND_VALUE answer carrying a 1,000-byte mutable record has
// room for only a few contacts next to it (each IPv4 contact is 38 bytes, IPv6 50), and a GET_PEERS
// answer with 32 IPv6 peers and 20 IPv6 contacts is also too big. The record (or the peers) is what
// the asker came for, so contacts give way first: we send as many of the nearest as fit, possibly
// none; only then are peers trimmed.
import { answerBytes, largest } from '../rpc/amplification';
import { encodeMessage } from '../wire/codec';
import { MAX_DATAGRAM_BYTES, type Message, type WirePeer } from '../wire/types';
import type { ResponseBody } from '../rpc/rpc';

function fits(body: ResponseBody, selfId: Uint8Array, observed: WirePeer, encode: (msg: Message) => Uint8Array, limit: number): boolean {
  try {
    return answerBytes(body, selfId, observed, encode) <= limit;
  } catch {
    // Our own, valid fields: the encoder refuses only for size.
    return false;
  }
}

/**
 * `body` with its `nodes` (nearest first), then its `peers`, cut so that the answer to `observed`
 * fits `limit` (the protocol's largest answer; wire v1: MAX_DATAGRAM_BYTES). Returns body itself when it already fits.
 */
export function fitResponse(
  body: ResponseBody,
  selfId: Uint8Array,
  observed: WirePeer,
  encode: (msg: Message) => Uint8Array = encodeMessage,
  limit: number = MAX_DATAGRAM_BYTES,
): ResponseBody {
  if (fits(body, selfId, observed, encode, limit)) return body;
  const nodes = body.nodes ?? [];
  const withNodes = (n: number): ResponseBody => ({ ...body, nodes: nodes.slice(0, n) });
  const n = largest(nodes.length, (i) => fits(withNodes(i), selfId, observed, encode, limit));
  if (n >= 0) return withNodes(n);
  const peers = body.peers ?? [];
  const withPeers = (p: number): ResponseBody => ({ ...body, nodes: [], peers: peers.slice(0, p) });
  const p = largest(peers.length, (i) => fits(withPeers(i), selfId, observed, encode, limit));
  // A record alone always fits (1,000-byte value + key, salt, signature < 1,400 bytes).
  return withPeers(Math.max(0, p));
}
