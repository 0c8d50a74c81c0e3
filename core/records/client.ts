// The client side of records: put and get values, publish signed mutable records, announce and
// find peers under a topic. Each is a lookup toward the key, then writes at the k closest
// (publish.ts); what we publish we keep and republish (maintenance.ts).
import { DhtError, type DhtErrorCode } from '../errors';
import { addressToUse } from '../local-address';
import { bytesToHex, hexToBytes, isIdHex, sha256 } from '../id';
import { endpointKey, type Endpoint } from '../transport/types';
import type { RecordInfo } from '../types';
import { isValidPort } from '../wire/compact';
import type { WirePeer, WireRecord } from '../wire/types';
import type { RecordCallOptions, RecordLayerDeps } from './config';
import type { RecordMaintenance } from './maintenance';
import { announceOnce, drain, noneStored, publish, throwIfAborted, writeToClosest, type StoreResult } from './publish';
import type { RecordModel } from './model';
import { namedKey, nameProblem, PUBLIC_KEY_BYTES, signMutable, type KeyPair, type MutableRecord } from './signing';
import { toRecordInfo, type RecordStore } from './store';
import { copyRecord, equalBytes, sameRecord, validateRecord, withPublicKey, withSalt } from './validate';

/** Addresses collected by one lookupPeers. */
export const MAX_LOOKUP_PEERS = 1_024;

/** Refusals that mean the network holds another version of a mutable record. */
const CONFLICT_CODES: ReadonlySet<DhtErrorCode> = new Set(['SEQ_TOO_LOW', 'SEQ_REUSED', 'CAS_MISMATCH']);

export interface PutMutableInput {
  keyPair: KeyPair;
  /** 0..64 bytes (a string is UTF-8); default none. */
  salt?: Uint8Array | string;
  seq: number;
  value: Uint8Array | string;
  /** Compare-and-swap: storers accept only if the seq they hold equals cas. */
  cas?: number;
}

export interface PutMutableResult extends StoreResult {
  seq: number;
  publicKey: string;
  salt: string;
}

export interface GetResult {
  key: string;
  value: Uint8Array;
  /** Hex id of the node whose answer we return (our own id for our local copy). */
  from: string;
  /** Hop at which that answer came (0 for our local copy). */
  hops: number;
  messages: number;
  durationMs: number;
  /** Mutable records: the highest valid seq seen. */
  seq?: number;
  /** Named records: the name (its SHA-256 is the key). */
  name?: string;
  lookupId: string | null;
}

export interface PutNamedResult extends StoreResult {
  name: string;
}

export interface AnnounceResult extends StoreResult {
  port: number;
}

/** An announced peer: an address, and on HyperDHT the announcer's public key (hex) and relay addresses. */
export interface FoundPeer extends Endpoint {
  publicKey?: string;
  relayAddresses?: Endpoint[];
}

export interface AnnounceOptions extends RecordCallOptions {
  /** The key pair whose public key is announced, where announcements are signed public keys (HyperDHT). */
  keyPair?: KeyPair;
  /** HyperDHT: the relay addresses announced with the public key (at most 3 are kept). */
  relayAddresses?: Endpoint[];
}

/** An announced peer behind our own public address, and the local address we use for it. */
export interface SameNetworkPeer {
  /** Its local address on our subnet (local-address.ts's addressToUse). */
  address: Endpoint;
  /** Where the network sees it: the same public host as us. */
  publicAddress: Endpoint;
}

export interface LookupPeersResult {
  key: string;
  /** Every peer found; the local address of each peer on our network comes first. */
  peers: FoundPeer[];
  /** Peers behind our own public address that announced local addresses (wire v3), at most MAX_LOOKUP_PEERS. */
  sameNetwork: SameNetworkPeer[];
  hops: number;
  messages: number;
  durationMs: number;
  lookupId: string | null;
}

/**
 * Where get() looks. 'auto': an immutable value we hold is the answer, anything else asks the
 * network (a mutable copy of ours takes part). 'local': this node's own copy only, no lookup.
 * 'network': a lookup even for a key we hold, our copy left out, so the user sees what others have.
 */
export type GetSource = 'auto' | 'local' | 'network';

export interface GetOptions extends RecordCallOptions {
  source?: GetSource;
  /**
   * The salt of a mutable record, for protocols whose answers leave it out (BEP 44): without it a
   * salted item's signature cannot be checked. Our own records' salts are known.
   */
  salt?: Uint8Array | string;
  /** getNamed: take only a named record with this name. */
  name?: string;
  /**
   * The public key of a mutable record (bytes, or 64 hex), for protocols whose answers leave it
   * out (HyperDHT): the key must be that public key's; the get asks for mutable records then.
   */
  publicKey?: Uint8Array | string;
}

export class RecordClient {
  /** Our id now (a HyperDHT node's follows its address: DhtNode rewrites the bytes in place). */
  private get selfHex(): string {
    return bytesToHex(this.deps.selfId);
  }
  private readonly model: RecordModel;

  constructor(
    private readonly deps: RecordLayerDeps,
    private readonly store: RecordStore,
    private readonly maintenance: RecordMaintenance,
  ) {
    this.model = store.model;
  }

  /** The records this node holds (for others, and its own). */
  held(): RecordInfo[] {
    const now = this.deps.clock.now();
    return this.store.entries(now).map((s) => toRecordInfo(s, now));
  }

  // ---- values and mutable records ----

  /**
   * Stores an immutable value (at most 1,000 bytes as stored) at its hash (kadscope SHA-256 of the
   * value; Mainline SHA-1 of the value bencoded as a byte string) on the k closest nodes.
   */
  async put(value: Uint8Array | string, options: RecordCallOptions = {}): Promise<StoreResult> {
    this.deps.assertRunning();
    const raw = toBytes(value, 'value');
    const bytes = this.model.encodeValue(raw);
    const max = this.model.maxValueBytes;
    if (bytes.length > max) throw DhtError.refusal('VALUE_TOO_LARGE', `value is ${bytes.length} bytes${bytes.length !== raw.length ? ' as stored' : ''}; at most ${max} allowed`);
    const key = this.model.immutableKey(bytes);
    const record: WireRecord = { type: 'immutable', value: bytes };
    const out = await publish(this.deps, key, record, options);
    if (out.storedAt.length === 0) throw noneStored('the value', out.failed);
    await this.maintenance.keepOwn(key, record);
    return out;
  }

  /**
   * Stores a value at SHA-256(name) on the k closest nodes (wire v2's named record; go-dht's
   * StoreAt). Nothing binds the value to the name: anyone can write the same name, and each storer
   * keeps the last write (README, "Named keys"). Storers' refusals (a store policy that takes no
   * named records, for one) are listed under `failed`, or thrown when none stored it.
   */
  async putNamed(name: string, value: Uint8Array | string, options: RecordCallOptions = {}): Promise<PutNamedResult> {
    this.deps.assertRunning();
    if (this.deps.namedKeys === false) throw new DhtError('UNSUPPORTED', "this node's protocol has no named records (they are kadscope wire v2)");
    const problem = nameProblem(name);
    if (problem !== null) throw DhtError.invalidArgument(problem);
    const bytes = toBytes(value, 'value');
    if (bytes.length > this.model.maxValueBytes) throw DhtError.refusal('VALUE_TOO_LARGE', `value is ${bytes.length} bytes; at most ${this.model.maxValueBytes} allowed`);
    const key = namedKey(name);
    const record: WireRecord = { type: 'named', name, value: bytes };
    const out = await publish(this.deps, key, record, options);
    if (out.storedAt.length === 0) throw noneStored(`the value named ${JSON.stringify(name.slice(0, 40))}`, out.failed);
    await this.maintenance.keepOwn(key, record);
    return { ...out, name };
  }

  /** The value stored under a name (putNamed): get() at SHA-256(name), taking only a named record with that name. */
  async getNamed(name: string, options: RecordCallOptions & { source?: GetSource } = {}): Promise<GetResult> {
    const problem = nameProblem(name);
    if (problem !== null) throw DhtError.invalidArgument(problem);
    return this.get(bytesToHex(namedKey(name)), { ...options, name });
  }

    /** Signs and stores a mutable record at the hash of public key || salt. Every storer's refusal code reaches the caller. */
  async putMutable(input: PutMutableInput, options: RecordCallOptions = {}): Promise<PutMutableResult> {
    this.deps.assertRunning();
    if (input === null || typeof input !== 'object' || !input.keyPair) throw DhtError.invalidArgument('putMutable needs { keyPair, seq, value }');
    const salt = input.salt === undefined ? new Uint8Array(0) : toBytes(input.salt, 'salt');
    if (salt.length > this.model.maxSaltBytes) throw DhtError.refusal('SALT_TOO_LARGE', `salt is ${salt.length} bytes; at most ${this.model.maxSaltBytes} allowed`);
    if (!Number.isSafeInteger(input.seq) || input.seq < 0) throw DhtError.invalidArgument(`seq must be a non-negative whole number; got ${input.seq}`);
    if (input.cas !== undefined && (!Number.isSafeInteger(input.cas) || input.cas < 0)) throw DhtError.invalidArgument(`cas must be a non-negative whole number; got ${input.cas}`);
    if (input.cas !== undefined && this.model.supportsCas === false) throw new DhtError('UNSUPPORTED', "this node's protocol has no compare-and-swap");
    const record = signMutable({ keyPair: input.keyPair, salt, seq: input.seq, value: this.model.encodeValue(toBytes(input.value, 'value')) }, this.model);
    const key = this.model.mutableKey(input.keyPair.publicKey, salt);
    const out = await this.publishMutable(key, record, { ...options, cas: input.cas });
    if (out.storedAt.length === 0) throw noneStored(`seq ${input.seq}`, out.failed);
    // Some stored it, but others hold a newer or different version: the caller must know.
    const conflicts = out.failed.filter((f) => CONFLICT_CODES.has(f.code));
    if (conflicts.length > 0) throw noneStored(`seq ${input.seq} everywhere (${out.storedAt.length} stored it)`, conflicts);
    await this.maintenance.keepOwn(key, record);
    return { ...out, seq: input.seq, publicKey: bytesToHex(input.keyPair.publicKey), salt: bytesToHex(salt) };
  }

  /**
   * Iterative FIND_VALUE (answered locally for an immutable value we hold). An immutable value is
   * checked against its key and returned at the first valid answer; a mutable key is looked up to the end and the highest valid seq wins (asking with
   * the best seq so far, so nodes send a record only when theirs is newer).
   */
  async get(keyHex: string, options: GetOptions = {}): Promise<GetResult> {
    this.deps.assertRunning();
    const key = parseKey(keyHex, 'key', this.model);
    const hex = bytesToHex(key);
    const source = options.source ?? 'auto';
    // getNamed: only a named record with that name answers (an immutable value equal to the name hashes to the same key).
    const wanted = (r: WireRecord): boolean => options.name === undefined || (r.type === 'named' && r.name === options.name);
    const held = source === 'network' ? undefined : this.store.get(hex, this.deps.clock.now());
    const local = held && wanted(held.record) ? held : undefined;
    if (source === 'local') {
      if (!local) throw DhtError.notFound(`this node holds no copy of key ${hex.slice(0, 16)}…; fetch it from the network`);
      return { key: hex, value: this.valueOf(local.record), from: this.selfHex, hops: 0, messages: 0, durationMs: 0, ...recordExtras(local.record), lookupId: null };
    }
    // An immutable value we hold is the answer (it was checked against its key when stored); a
    // mutable one may have been superseded elsewhere, so we still ask the network.
    if (local?.record.type === 'immutable') {
      return { key: hex, value: this.valueOf(local.record), from: this.selfHex, hops: 0, messages: 0, durationMs: 0, lookupId: null };
    }
    const salt = options.salt !== undefined ? toBytes(options.salt, 'salt') : local?.record.type === 'mutable' ? local.record.salt : undefined;
    const publicKey = options.publicKey !== undefined ? parsePublicKey(options.publicKey) : local?.record.type === 'mutable' ? local.record.publicKey : undefined;
    if (publicKey !== undefined && !equalBytes(this.model.mutableKey(publicKey, salt ?? new Uint8Array(0)), key)) {
      throw DhtError.invalidArgument(`key ${hex.slice(0, 16)}… is not the key of public key ${bytesToHex(publicKey).slice(0, 16)}…${salt?.length ? ' with that salt' : ''}`);
    }
    // A protocol with a command per kind (HyperDHT) asks for mutable records only with their public key.
    const mutable = publicKey !== undefined;
    let best: { record: WireRecord; from: string } | null = local ? { record: local.record, from: this.selfHex } : null;
    const bestSeq = (): number | undefined => (best?.record.type === 'mutable' ? best.record.seq : undefined);
    const lookup = this.deps.lookup(
      key,
      'find-value',
      () => {
        const seq = bestSeq();
        return seq === undefined ? { method: 'FIND_VALUE', key, mutable } : { method: 'FIND_VALUE', key, seq, mutable };
      },
      {
        ...options,
        onRecord: (answered, from) => {
          const record = withPublicKey(withSalt(answered, salt), publicKey);
          if (validateRecord(key, record, this.model) !== null || !wanted(record)) return 'reject';
          // A named value may have been written again elsewhere: any valid answer is as good as ours.
          if (record.type !== 'mutable') {
            best = { record: copyRecord(record), from: from.id };
            return 'stop';
          }
          const seq = bestSeq();
          if (seq === undefined || record.seq > seq) best = { record: copyRecord(record), from: from.id };
          return 'continue';
        },
      },
    );
    const hopOf = new Map<string, number>();
    const done = await drain(lookup, (e) => {
      if (e.type === 'response' && e.hasValue) hopOf.set(e.peer.id, e.hop);
    });
    throwIfAborted(this.deps.signal(options.signal));
    const found = best as { record: WireRecord; from: string } | null;
    if (!found) {
      const why = done.reason === 'no-peers' ? 'this node knows no peers yet; join a network first' : `${done.messages} requests, lookup ${done.reason}`;
      const saltHint =
        !this.model.answersCarrySalt && salt === undefined
          ? '; a salted mutable item needs its salt to be checked'
          : this.model.answersCarryPublicKey === false && publicKey === undefined
            ? '; a mutable value is fetched with its public key'
            : '';
      throw DhtError.notFound(`no node returned a valid record for key ${hex.slice(0, 16)}… (${why}${saltHint})`);
    }
    return {
      key: hex,
      value: this.valueOf(found.record),
      from: found.from,
      hops: found.from === this.selfHex ? 0 : (hopOf.get(found.from) ?? done.hops),
      messages: done.messages,
      durationMs: done.durationMs,
      ...recordExtras(found.record),
      lookupId: done.lookupId,
    };
  }

  /**
   * A find-value lookup toward the key (which also collects write tokens), so that a seq lower than
   * or equal to one the network holds, or a compare-and-swap that cannot succeed, is refused before
   * anything is written; then STORE at the k closest. Storers still check, and their refusals are
   * reported (a newer version may arrive between our lookup and our STORE).
   */
  private async publishMutable(key: Uint8Array, record: MutableRecord, options: RecordCallOptions & { cas?: number }): Promise<StoreResult> {
    const signal = this.deps.signal(options.signal);
    const { cas } = options;
    let newest: { record: MutableRecord; from: string } | null = null;
    // With a cas we need the current seq whatever it is; otherwise only versions at or above ours matter.
    const seqFilter = cas === undefined && record.seq > 0 ? record.seq - 1 : undefined;
    const lookup = this.deps.lookup(
      key,
      'find-value',
      () => (seqFilter === undefined ? { method: 'FIND_VALUE', key, mutable: true } : { method: 'FIND_VALUE', key, seq: seqFilter, mutable: true }),
      {
        ...options,
        onRecord: (answered, from) => {
          const r = withPublicKey(withSalt(answered, record.salt), record.publicKey);
          if (r.type !== 'mutable' || validateRecord(key, r, this.model) !== null) return 'reject';
          if (!newest || r.seq > newest.record.seq) newest = { record: copyRecord(r) as MutableRecord, from: from.id };
          return 'continue';
        },
      },
    );
    const done = await drain(lookup);
    throwIfAborted(signal);
    const held = newest as { record: MutableRecord; from: string } | null;
    const where = held ? `node ${held.from.slice(0, 16)}… holds seq ${held.record.seq}` : '';
    if (held && held.record.seq > record.seq) {
      throw DhtError.refusal('SEQ_TOO_LOW', `seq ${record.seq} is lower than the stored seq ${held.record.seq} (${where}); publish with a higher seq`);
    }
    if (held && held.record.seq === record.seq && !sameRecord(held.record, record)) {
      throw DhtError.refusal('SEQ_REUSED', `seq ${record.seq} is already stored with a different value (${where}); publish with a higher seq`);
    }
    if (cas !== undefined && held?.record.seq !== cas) {
      throw DhtError.refusal('CAS_MISMATCH', `compare-and-swap expected seq ${cas}, but ${held ? where : 'no node holds this key'}`);
    }
    const out = await writeToClosest(this.deps, lookup, done, signal, (token) =>
      cas === undefined ? { method: 'STORE', key, record, token } : { method: 'STORE', key, record, token, cas },
    );
    return { key: bytesToHex(key), ...out };
  }

  /** A record's value as the caller put it (Mainline: the byte string inside the bencoded value). */
  private valueOf(record: WireRecord): Uint8Array {
    return new Uint8Array(this.model.decodeValue(record.value));
  }

  // ---- topics ----

  /**
   * Announces our address (our port, or `port`) at the k closest to the topic's key and keeps it
   * fresh until stop() or unannounce(). A text topic is hashed by the protocol (SHA-256; Mainline
   * SHA-1); bytes are the key.
   */
  async announce(topic: string | Uint8Array, port?: number, options: AnnounceOptions = {}): Promise<AnnounceResult> {
    this.deps.assertRunning();
    const key = this.topicKey(topic);
    const p = port ?? this.deps.address().port;
    if (!isValidPort(p)) throw DhtError.invalidArgument(`port must be 1-65535; got ${p}`);
    const { keyPair, relayAddresses, ...call } = options;
    const out = await announceOnce(this.deps, key, p, call, keyPair, relayAddresses);
    if (out.storedAt.length === 0) throw noneStored('the announcement', out.failed);
    this.maintenance.keepAnnouncing(key, p, this.model.signAnnouncement ? keyPair : undefined);
    return { ...out, port: p };
  }

  /** Stops refreshing an announcement (it expires at the storers on its own). */
  unannounce(topic: string | Uint8Array, port?: number): boolean {
    const p = port ?? this.deps.address().port;
    return this.maintenance.stopAnnouncing(this.topicKey(topic), p);
  }

  /** topicKey() in this node's protocol: its hash for text, its key length for bytes. */
  private topicKey(topic: string | Uint8Array): Uint8Array {
    return topicKey(topic, this.deps.selfId.length, this.deps.hashTopic);
  }

  /** The addresses announced under a topic (hashed as in announce()): a get-peers lookup to the end, answers merged. */
  async lookupPeers(topic: string | Uint8Array, options: RecordCallOptions = {}): Promise<LookupPeersResult> {
    this.deps.assertRunning();
    const key = this.topicKey(topic);
    const found = new Map<string, FoundPeer>();
    const near = new Map<string, SameNetworkPeer>();
    const observed = this.deps.observedAddress?.() ?? null;
    const ourLocals = (this.deps.localHosts?.() ?? []).map((host) => ({ host, port: 0 }));
    const add = (p: WirePeer): void => {
      if (found.size >= MAX_LOOKUP_PEERS) return;
      // HyperDHT: a peer is its public key (the address is only its first relay, if any).
      if (p.publicKey) {
        const relayAddresses = (p.relayAddresses ?? []).map((a) => ({ host: a.host, port: a.port }));
        found.set(`key:${bytesToHex(p.publicKey)}`, { host: p.host, port: p.port, publicKey: bytesToHex(p.publicKey), relayAddresses });
        return;
      }
      const at = endpointKey(p);
      found.set(at, { host: p.host, port: p.port });
      // Storers send local hosts only to a requester at the announcer's public host; we check that
      // against where the network sees us, not the storer's word alone.
      if (p.locals === undefined || observed === null || near.size >= MAX_LOOKUP_PEERS || near.has(at)) return;
      const choice = addressToUse({ theirPublic: p, ourPublic: observed, theirAddresses: p.locals.map((host) => ({ host, port: p.port })), ourLocals });
      if (choice.via === 'local') near.set(at, { address: choice.address, publicAddress: { host: p.host, port: p.port } });
    };
    for (const p of this.store.peers(key, this.deps.clock.now(), undefined, observed?.host)) add(p);
    const lookup = this.deps.lookup(key, 'get-peers', () => ({ method: 'GET_PEERS', topic: key }), {
      ...options,
      onPeers: (peers) => {
        for (const p of peers) add(p);
      },
    });
    const done = await drain(lookup);
    throwIfAborted(this.deps.signal(options.signal));
    const sameNetwork = [...near.values()];
    const first = new Map<string, FoundPeer>(sameNetwork.map((n) => [endpointKey(n.address), n.address]));
    for (const [k, p] of found) if (!first.has(k)) first.set(k, p);
    return { key: bytesToHex(key), peers: [...first.values()], sameNetwork, hops: done.hops, messages: done.messages, durationMs: done.durationMs, lookupId: done.lookupId };
  }
}

// ---- helpers ----

/** What a get result says beside the value: a mutable record's seq, a named record's name. */
function recordExtras(r: WireRecord): { seq?: number; name?: string } {
  if (r.type === 'mutable') return { seq: r.seq };
  return r.type === 'named' ? { name: r.name } : {};
}

function toBytes(v: Uint8Array | string, what: string): Uint8Array {
  if (typeof v === 'string') return new TextEncoder().encode(v);
  if (v instanceof Uint8Array) return v;
  throw DhtError.invalidArgument(`${what} must be bytes (Uint8Array) or a string`);
}

function parsePublicKey(k: Uint8Array | string): Uint8Array {
  const bytes = typeof k === 'string' && isIdHex(k.toLowerCase(), PUBLIC_KEY_BYTES) ? hexToBytes(k.toLowerCase()) : k;
  if (!(bytes instanceof Uint8Array) || bytes.length !== PUBLIC_KEY_BYTES) throw DhtError.invalidArgument(`publicKey must be ${PUBLIC_KEY_BYTES} bytes or ${PUBLIC_KEY_BYTES * 2} hex characters`);
  return bytes;
}

function parseKey(hex: string, what: string, model: RecordModel): Uint8Array {
  if (typeof hex !== 'string' || !isIdHex(hex.toLowerCase(), model.keyBytes)) {
    throw DhtError.invalidArgument(`${what} must be ${model.keyBytes * 2} hex characters (a ${model.hashName} key); got "${String(hex).slice(0, 80)}"`);
  }
  return hexToBytes(hex.toLowerCase());
}

/** A topic's key: the hash (default SHA-256) of its UTF-8 text, or a key of `keyBytes` (default 32) itself. */
export function topicKey(topic: string | Uint8Array, keyBytes = 32, hash: (text: string) => Uint8Array = sha256): Uint8Array {
  if (typeof topic === 'string') {
    if (topic.length === 0) throw DhtError.invalidArgument('a topic cannot be empty');
    return hash(topic);
  }
  if (topic instanceof Uint8Array && topic.length === keyBytes) return topic;
  throw DhtError.invalidArgument(`a topic is a non-empty string or a ${keyBytes}-byte key`);
}
