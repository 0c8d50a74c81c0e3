// hyperdht's values (node_modules/hyperdht/lib/messages.js and persistent.js are the reference):
//
//   peer              = public key (32) | relay addresses (varint count, ipv4 each)
//   lookup reply      = peers (varint count, peer each) | [bump (varint), absent = 0]
//   announce          = flags (varint: 1 peer, 2 refresh, 4 signature, 8 bump) | [peer]
//                       | [refresh 32] | [signature 64] | [bump]       (UNANNOUNCE uses it too)
//   mutable signable  = seq (varint) | value (varint length + bytes)
//   mutable put       = public key (32) | seq | value | signature (64)
//   mutable get reply = seq | value | signature (64)
//   mutable get       = the lowest seq wanted (varint)
//
// Signatures (ed25519 over 64 bytes: a namespace, then a BLAKE2b-256 hash):
//   announce / unannounce: NS_ANNOUNCE or NS_UNANNOUNCE | H(target | responder id | token | peer | refresh)
//   mutable put:           NS_MUTABLE_PUT | H(mutable signable)
// The announce signature binds the token and the id of the one node it is sent to: it is signed
// afresh for every node that stores it.
//
// Decoders never throw; they return the value or a string saying what is wrong.
import type { RecordModel } from '../../records/model';
import { sign, verify, type KeyPair } from '../../records/signing';
import type { Endpoint } from '../../transport/types';
import { Reader, Writer, sizeOfBuffer, sizeOfIpv4Array, sizeOfUint } from './compact';
import { HYPERDHT_NS, blake2b256, blake2b256Batch, immutableKey, publicKeyTarget } from './crypto';
import { MAX_VALUE_BYTES, type WireAnnouncer } from '../../wire/types';

export const HYPERDHT_PUBLIC_KEY_BYTES = 32;
export const HYPERDHT_SIGNATURE_BYTES = 64;
/** hyperdht keeps at most 3 relay addresses per announcement; more from a peer is hostile. */
export const MAX_RELAY_ADDRESSES = 16;
/** A lookup reply names at most 20 stored peers (+1 forwarded); more is hostile. */
export const MAX_LOOKUP_PEERS = 64;

export interface HyperPeerRecord {
  publicKey: Uint8Array;
  relayAddresses: Endpoint[];
}

export interface LookupReply {
  peers: HyperPeerRecord[];
  bump: number;
}

export interface AnnounceMessage {
  peer: HyperPeerRecord | null;
  refresh: Uint8Array | null;
  signature: Uint8Array | null;
  bump: number;
}

export interface MutableValue {
  seq: number;
  value: Uint8Array;
  signature: Uint8Array;
}

export interface MutablePut extends MutableValue {
  publicKey: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Encoders (throw DhtError INVALID_ARGUMENT on bad input: that is a bug of the caller)

function sizeOfPeer(p: HyperPeerRecord): number {
  return HYPERDHT_PUBLIC_KEY_BYTES + sizeOfIpv4Array(p.relayAddresses);
}

function writePeer(w: Writer, p: HyperPeerRecord): void {
  w.fixed(p.publicKey, HYPERDHT_PUBLIC_KEY_BYTES, 'public key');
  w.ipv4Array(p.relayAddresses, 'relay address');
}

export function encodePeerRecord(p: HyperPeerRecord): Uint8Array {
  const w = new Writer(sizeOfPeer(p));
  writePeer(w, p);
  return w.finish();
}

export function encodeLookupReply(r: LookupReply): Uint8Array {
  let size = sizeOfUint(r.peers.length) + sizeOfUint(r.bump);
  for (const p of r.peers) size += sizeOfPeer(p);
  const w = new Writer(size);
  w.uint(r.peers.length);
  for (const p of r.peers) writePeer(w, p);
  w.uint(r.bump);
  return w.finish();
}

export function encodeAnnounce(a: AnnounceMessage): Uint8Array {
  const flags = (a.peer ? 1 : 0) | (a.refresh ? 2 : 0) | (a.signature ? 4 : 0) | (a.bump ? 8 : 0);
  const size =
    sizeOfUint(flags) +
    (a.peer ? sizeOfPeer(a.peer) : 0) +
    (a.refresh ? 32 : 0) +
    (a.signature ? HYPERDHT_SIGNATURE_BYTES : 0) +
    (a.bump ? sizeOfUint(a.bump) : 0);
  const w = new Writer(size);
  w.uint(flags);
  if (a.peer) writePeer(w, a.peer);
  if (a.refresh) w.fixed(a.refresh, 32, 'refresh');
  if (a.signature) w.fixed(a.signature, HYPERDHT_SIGNATURE_BYTES, 'signature');
  if (a.bump) w.uint(a.bump);
  return w.finish();
}

function encodeMutableSignable(seq: number, value: Uint8Array): Uint8Array {
  const w = new Writer(sizeOfUint(seq) + sizeOfBuffer(value));
  w.uint(seq);
  w.buffer(value);
  return w.finish();
}

export function encodeMutablePut(p: MutablePut): Uint8Array {
  const w = new Writer(HYPERDHT_PUBLIC_KEY_BYTES + sizeOfUint(p.seq) + sizeOfBuffer(p.value) + HYPERDHT_SIGNATURE_BYTES);
  w.fixed(p.publicKey, HYPERDHT_PUBLIC_KEY_BYTES, 'public key');
  w.uint(p.seq);
  w.buffer(p.value);
  w.fixed(p.signature, HYPERDHT_SIGNATURE_BYTES, 'signature');
  return w.finish();
}

export function encodeMutableValue(v: MutableValue): Uint8Array {
  const w = new Writer(sizeOfUint(v.seq) + sizeOfBuffer(v.value) + HYPERDHT_SIGNATURE_BYTES);
  w.uint(v.seq);
  w.buffer(v.value);
  w.fixed(v.signature, HYPERDHT_SIGNATURE_BYTES, 'signature');
  return w.finish();
}

export function encodeSeq(seq: number): Uint8Array {
  const w = new Writer(sizeOfUint(seq));
  w.uint(seq);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Decoders (never throw)

function readPeer(r: Reader): HyperPeerRecord {
  const publicKey = r.fixed(HYPERDHT_PUBLIC_KEY_BYTES);
  const relayAddresses = r.ipv4Array(MAX_RELAY_ADDRESSES);
  return { publicKey, relayAddresses };
}

function finish<T>(r: Reader, value: T): T | string {
  return r.error === null ? value : r.error;
}

function reader(b: unknown): Reader | string {
  return b instanceof Uint8Array ? new Reader(b) : 'not bytes';
}

export function decodePeerRecord(b: Uint8Array): HyperPeerRecord | string {
  const r = reader(b);
  if (typeof r === 'string') return r;
  return finish(r, readPeer(r));
}

export function decodeLookupReply(b: Uint8Array): LookupReply | string {
  const r = reader(b);
  if (typeof r === 'string') return r;
  const n = r.count(HYPERDHT_PUBLIC_KEY_BYTES + 1, MAX_LOOKUP_PEERS);
  const peers: HyperPeerRecord[] = [];
  for (let i = 0; i < n && r.error === null; i++) peers.push(readPeer(r));
  const bump = r.error === null && !r.done ? r.uint() : 0;
  return finish(r, { peers, bump });
}

export function decodeAnnounce(b: Uint8Array): AnnounceMessage | string {
  const r = reader(b);
  if (typeof r === 'string') return r;
  const flags = r.uint();
  const peer = flags & 1 ? readPeer(r) : null;
  const refresh = flags & 2 ? r.fixed(32) : null;
  const signature = flags & 4 ? r.fixed(HYPERDHT_SIGNATURE_BYTES) : null;
  const bump = flags & 8 ? r.uint() : 0;
  return finish(r, { peer, refresh, signature, bump });
}

export function decodeMutablePut(b: Uint8Array): MutablePut | string {
  const r = reader(b);
  if (typeof r === 'string') return r;
  const publicKey = r.fixed(HYPERDHT_PUBLIC_KEY_BYTES);
  const seq = r.uint();
  const value = r.buffer();
  const signature = r.fixed(HYPERDHT_SIGNATURE_BYTES);
  return finish(r, { publicKey, seq, value, signature });
}

export function decodeMutableValue(b: Uint8Array): MutableValue | string {
  const r = reader(b);
  if (typeof r === 'string') return r;
  const seq = r.uint();
  const value = r.buffer();
  const signature = r.fixed(HYPERDHT_SIGNATURE_BYTES);
  return finish(r, { seq, value, signature });
}

export function decodeSeq(b: Uint8Array): number | string {
  const r = reader(b);
  if (typeof r === 'string') return r;
  return finish(r, r.uint());
}

// ---------------------------------------------------------------------------------------------
// Signatures

function signable(ns: Uint8Array, hash: Uint8Array): Uint8Array {
  const out = new Uint8Array(64);
  out.set(ns, 0);
  out.set(hash, 32);
  return out;
}

/** The 64 bytes an announcement (or, with ns = UNANNOUNCE, an unannouncement) signs. */
function announceSignable(
  target: Uint8Array,
  token: Uint8Array,
  responderId: Uint8Array,
  peer: HyperPeerRecord,
  refresh: Uint8Array | null,
  ns: Uint8Array = HYPERDHT_NS.ANNOUNCE,
): Uint8Array {
  return signable(ns, blake2b256Batch([target, responderId, token, encodePeerRecord(peer), refresh ?? new Uint8Array(0)]));
}

export function mutableSignable(seq: number, value: Uint8Array): Uint8Array {
  return signable(HYPERDHT_NS.MUTABLE_PUT, blake2b256(encodeMutableSignable(seq, value)));
}

export function signAnnounce(
  target: Uint8Array,
  token: Uint8Array,
  responderId: Uint8Array,
  peer: HyperPeerRecord,
  keyPair: KeyPair,
  ns: Uint8Array = HYPERDHT_NS.ANNOUNCE,
): Uint8Array {
  return sign(announceSignable(target, token, responderId, peer, null, ns), keyPair.secretKey);
}

export function verifyAnnounce(
  target: Uint8Array,
  token: Uint8Array,
  responderId: Uint8Array,
  ann: AnnounceMessage,
  ns: Uint8Array = HYPERDHT_NS.ANNOUNCE,
): boolean {
  if (!ann.peer || !ann.signature) return false;
  return verify(announceSignable(target, token, responderId, ann.peer, ann.refresh, ns), ann.signature, ann.peer.publicKey);
}

export function signMutable(seq: number, value: Uint8Array, keyPair: KeyPair): Uint8Array {
  return sign(mutableSignable(seq, value), keyPair.secretKey);
}

/** Never throws: a seq we cannot encode or a malformed key is just an invalid signature. */
export function verifyMutable(signature: Uint8Array, seq: number, value: Uint8Array, publicKey: Uint8Array): boolean {
  if (!Number.isSafeInteger(seq) || seq < 0) return false;
  return verify(mutableSignable(seq, value), signature, publicKey);
}

// ---------------------------------------------------------------------------------------------
// The record model on the protocol seam (core/records/model.ts): what the one record store, server
// and client need to hold, answer and publish HyperDHT values through DhtNode.
//   immutable key = BLAKE2b-256(value)          mutable key = BLAKE2b-256(public key), no salt
//   signed bytes  = NS_MUTABLE_PUT | BLAKE2b-256(seq | value)      (mutableSignable above)
// Write tokens come from the reads (IMMUTABLE_GET / MUTABLE_GET, as hyperdht's puts take them);
// MUTABLE_GET answers carry no public key (the getter knows it); an announcement is the announcer's
// public key, signed for each storer over its id and token.

/**
 * Tokens: dht-rpc's are 32 bytes, the engine's TokenManager issues 16. Ours go out zero-padded to
 * 32 and come back cut to 16; a 32-byte token that is not one of ours stays 32 (and fails the check).
 */
const ENGINE_TOKEN_BYTES = 16;
export function tokenToWire(token: Uint8Array): Uint8Array {
  if (token.length === TOKEN_WIRE_BYTES) return token;
  const out = new Uint8Array(TOKEN_WIRE_BYTES);
  out.set(token.subarray(0, TOKEN_WIRE_BYTES), 0);
  return out;
}
export function tokenFromWire(token: Uint8Array): Uint8Array {
  if (token.length !== TOKEN_WIRE_BYTES) return token;
  for (let i = ENGINE_TOKEN_BYTES; i < TOKEN_WIRE_BYTES; i++) if (token[i] !== 0) return token;
  return token.subarray(0, ENGINE_TOKEN_BYTES);
}
const TOKEN_WIRE_BYTES = 32;

/** How long hyperdht's nodes keep an immutable or mutable value (hyperdht/index.js: 48 hours). */
export const HYPERDHT_RECORD_TTL_MS = 48 * 60 * 60_000;

export const HYPERDHT_RECORDS: RecordModel = {
  keyBytes: 32,
  hashName: 'BLAKE2b-256',
  // hyperdht's only limit is the datagram; 1,000 bytes keeps an answer with its contacts in one
  // datagram as for the other protocols.
  maxValueBytes: MAX_VALUE_BYTES,
  maxSaltBytes: 0,
  immutableKey,
  mutableKey: (publicKey) => publicKeyTarget(publicKey),
  signable: (_salt, seq, value) => mutableSignable(seq, value),
  checkValue: () => null,
  encodeValue: (data) => data,
  decodeValue: (value) => value,
  tokensFrom: 'find-value',
  answersCarrySalt: true,
  answersCarryPublicKey: false,
  supportsCas: false,
  // hyperdht keeps immutable and mutable values 48 h (its announcements 20 min, as kadscope's).
  recordTtlMs: HYPERDHT_RECORD_TTL_MS,
  signAnnouncement(topic, token, storerId, keyPair, relays = []): WireAnnouncer {
    // hyperdht keeps at most 3 relay addresses per announcement.
    const relayAddresses = relays.slice(0, 3).map((a) => ({ host: a.host, port: a.port }));
    const peer: HyperPeerRecord = { publicKey: keyPair.publicKey, relayAddresses };
    return { publicKey: keyPair.publicKey, relayAddresses, signature: signAnnounce(topic, tokenToWire(token), storerId, peer, keyPair) };
  },
  verifyAnnouncement(topic, token, selfId, a): boolean {
    const ann: AnnounceMessage = { peer: { publicKey: a.publicKey, relayAddresses: a.relayAddresses }, refresh: null, signature: a.signature, bump: 0 };
    return verifyAnnounce(topic, tokenToWire(token), selfId, ann);
  },
};
