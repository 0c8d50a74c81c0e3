// The record model: what a protocol's records are. The store, server, client and maintenance are
// one implementation; a protocol (core/protocols) supplies how keys are derived, which bytes a
// mutable record's signature covers, the size limits, how a user's bytes become the stored value,
// and which lookup hands out write tokens. kadscope's own model is here; Mainline's (BEP 44) is
// core/protocols/mainline/records.ts.
import { ID_BYTES } from '../id';
import { MAX_SALT_BYTES, MAX_VALUE_BYTES } from '../wire/types';
import type { WireAnnouncer, WirePeer } from '../wire/types';
import { encodeSignable, immutableKey, mutableKey, type KeyPair } from './signing';

export interface RecordModel {
  /** Keys are this many bytes (the protocol's id length). */
  readonly keyBytes: number;
  /** The key hash's name, for messages ("SHA-256", "SHA-1"). */
  readonly hashName: string;
  /** Largest stored value (as stored: after encodeValue). */
  readonly maxValueBytes: number;
  readonly maxSaltBytes: number;
  /** The key of an immutable record holding `value` (the stored bytes). */
  immutableKey(value: Uint8Array): Uint8Array;
  /** The key of a mutable record of this public key and salt. */
  mutableKey(publicKey: Uint8Array, salt: Uint8Array): Uint8Array;
  /** The exact bytes a mutable record's signature covers. */
  signable(salt: Uint8Array, seq: number, value: Uint8Array): Uint8Array;
  /** Why stored bytes are not a value of this protocol (Mainline: one bencoded value), or null. */
  checkValue(value: Uint8Array): string | null;
  /** A user's bytes as the stored value (Mainline: a bencoded byte string). */
  encodeValue(data: Uint8Array): Uint8Array;
  /** A stored value as the user's bytes (the inverse of encodeValue where it applies). */
  decodeValue(value: Uint8Array): Uint8Array;
  /**
   * Which lookup collects the write tokens a put needs: kadscope answers FIND_NODE with a token,
   * BEP 44 says tokens come from get (FIND_VALUE).
   */
  readonly tokensFrom: 'find-node' | 'find-value';
  /**
   * A mutable record answered without its salt (BEP 44 get answers carry none): the asker supplies
   * the salt it knows before checking the signature.
   */
  readonly answersCarrySalt: boolean;
  /**
   * false when a mutable record is answered without its public key (HyperDHT's MUTABLE_GET): the
   * getter must know the key and supplies it before checking the signature. Default true.
   */
  readonly answersCarryPublicKey?: boolean;
  /**
   * Present when an announcement is a signed public key rather than a port (HyperDHT): the peer
   * record signed for one storer, whose id and write token the signature binds.
   */
  signAnnouncement?(topic: Uint8Array, token: Uint8Array, storerId: Uint8Array, keyPair: KeyPair, relayAddresses?: readonly WirePeer[]): WireAnnouncer;
  /** Whether an announcement that arrived is signed for us (our id, the token we issued). */
  verifyAnnouncement?(topic: Uint8Array, token: Uint8Array, selfId: Uint8Array, announcer: WireAnnouncer): boolean;
  /** false when puts have no compare-and-swap on this protocol (HyperDHT). Default true. */
  readonly supportsCas?: boolean;
  /**
   * How long a storer keeps a value nobody writes again, where the protocol's nodes keep it longer
   * than kadscope's 2 h (HyperDHT: 48 h). A node's recordTtlMs option still wins.
   */
  readonly recordTtlMs?: number;
}

export const KADSCOPE_RECORDS: RecordModel = {
  keyBytes: ID_BYTES,
  hashName: 'SHA-256',
  maxValueBytes: MAX_VALUE_BYTES,
  maxSaltBytes: MAX_SALT_BYTES,
  immutableKey,
  mutableKey,
  signable: encodeSignable,
  checkValue: () => null,
  encodeValue: (data) => data,
  decodeValue: (value) => value,
  tokensFrom: 'find-node',
  answersCarrySalt: true,
};
