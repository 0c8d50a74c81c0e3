// The API between a host (Electron main or the headless web host) and the renderer.
//
// Every operation is an `invoke` method: one JSON-safe argument object in, one Result out. Argument
// schemas (zod) live next to each method so both sides validate with the same rules and the types are
// inferred from them. Live data arrives through `subscribe` as numbered batches of DTO events.
//
// This file is imported by the renderer: no Node or Electron imports, only zod, type imports of core/
// shapes and core's pure address parser.
import { z } from 'zod';
import { isIP, parseAddress } from '../../core/address';
import type { DhtErrorCode } from '../../core/errors';
import type {
  CallInfo,
  Contact,
  Counters,
  LookupEvent,
  LookupKind,
  LookupTermination,
  NodeSnapshot,
  PeerInfo,
  RecordInfo,
} from '../../core/types';
import type { CrawlFailure, CrawlNodeSamples, CrawlProgress, CrawlSummary } from '../../core/crawl/types';
import type { Endpoint } from '../../core/transport/types';

// Zod probes `new Function` when it builds object schemas; a strict CSP (no 'unsafe-eval': the
// renderer and the Electron preload both load this file) blocks and reports the probe. Jitless
// mode skips it, and it must be set before the first schema below is built.
z.config({ jitless: true });

export type { CallInfo, Contact, Counters, Endpoint, LookupEvent, LookupKind, LookupTermination, NodeSnapshot, PeerInfo, RecordInfo };

/** Bumped on any incompatible change to methods, DTOs or the wire messages below. */
export const CONTRACT_VERSION = 2;

// ---------------------------------------------------------------------------------------------
// Results

/** Codes a caller can see: core's DhtErrorCode plus the host's own. */
/** CONFLICT: the call does not fit the current state (a testnet already running, none running). */
export type ErrorCode = DhtErrorCode | 'INVALID_ARGUMENT' | 'UNKNOWN_METHOD' | 'UNAVAILABLE' | 'CONFLICT' | 'INTERNAL';

export type Ok<T> = { ok: true; value: T };
export type Err = { ok: false; code: ErrorCode; message: string };
export type Result<T> = Ok<T> | Err;

export const ok = <T>(value: T): Ok<T> => ({ ok: true, value });
export const err = (code: ErrorCode, message: string): Err => ({ ok: false, code, message });

// ---------------------------------------------------------------------------------------------
// Limits shared by both sides (the wire limits of core/wire/README.md, restated here so the renderer can check
// before sending; core enforces them again).

export const MAX_VALUE_BYTES = 1000;
export const MAX_SALT_BYTES = 64;
/** A named record's name, in UTF-8 bytes (core/wire/types.ts MAX_NAME_BYTES). */
export const MAX_NAME_BYTES = 128;
export const MAX_BOOTSTRAP_ADDRESSES = 64;
export const MAX_TESTNET_SIZE = 2000;
export const MAX_TESTNET_CHANGE = 500;
export const MAX_TOPIC_CHARS = 256;
/** Key pair names as core accepts them (core/records/layer.ts). */
export const MAX_KEYPAIR_NAME_CHARS = 100;
/** The service keeps this many lookup traces. */
export const MAX_TRACES = 500;
/** An imported trace file larger than this is refused before parsing. */
export const MAX_TRACE_JSON_CHARS = 8_000_000;

// ---------------------------------------------------------------------------------------------
// Field schemas

const HEX_ID = /^(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{40})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * An id or key as hex: 64 characters (256 bits, kadscope) or 40 (160 bits, Mainline); normalised to
 * lowercase. The node checks that the length is its protocol's.
 */
export const idHex = z
  .string({ error: 'expected a 64-character hex id' })
  .trim()
  .regex(HEX_ID, { error: (iss) => `an id is 64 hex characters (256 bits), or 40 (160 bits) on Mainline; got ${JSON.stringify(String(iss.input).slice(0, 80))}` })
  .transform((s) => s.toLowerCase());

/** `host:port` or a UDP multiaddr, with core/address.ts's messages ("127.0.0.1:99999: port must be 1-65535"). */
export const addressString = z.string({ error: 'expected an address "host:port" or "/ip4/H/udp/P"' }).superRefine((s, ctx) => {
  const r = parseAddress(s);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
});

export const port = z
  .number({ error: 'expected a port number' })
  .int({ error: 'a port is a whole number' })
  .min(1, { error: 'port must be 1-65535' })
  .max(65535, { error: 'port must be 1-65535' });

const byteLength = (s: string): number => new TextEncoder().encode(s).length;
const base64Length = (s: string): number => (s.length / 4) * 3 - (s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0);

/** A value to store: UTF-8 text or raw bytes as base64; at most MAX_VALUE_BYTES either way. */
export const valueInput = z.union(
  [
    z.strictObject({
      text: z.string().refine((s) => byteLength(s) <= MAX_VALUE_BYTES, {
        error: (iss) => `is ${byteLength(String(iss.input))} bytes as UTF-8; a value is at most ${MAX_VALUE_BYTES} bytes`,
      }),
    }),
    z.strictObject({
      base64: z
        .string()
        .regex(BASE64, { error: 'is not valid base64' })
        .refine((s) => base64Length(s) <= MAX_VALUE_BYTES, {
          error: (iss) => `decodes to ${base64Length(String(iss.input))} bytes; a value is at most ${MAX_VALUE_BYTES} bytes`,
        }),
    }),
  ],
  { error: 'expected { text } or { base64 }' },
);
export type ValueInput = z.infer<typeof valueInput>;

/** A record's name (put's `at`, get's `name`): its SHA-256 is the key. */
export const recordName = z
  .string({ error: 'expected a name (text)' })
  .min(1, { error: 'a name cannot be empty' })
  .refine((s) => byteLength(s) <= MAX_NAME_BYTES, { error: (iss) => `a name is at most ${MAX_NAME_BYTES} bytes as UTF-8; got ${byteLength(String(iss.input))}` })
  .refine((s) => !/\p{Cs}/u.test(s), { error: 'a name cannot hold a lone UTF-16 surrogate' });

const keyPairName = z
  .string()
  .min(1, { error: 'a key pair name cannot be empty' })
  .max(MAX_KEYPAIR_NAME_CHARS, { error: `a key pair name is at most ${MAX_KEYPAIR_NAME_CHARS} characters` })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'a key pair name uses letters, digits, ".", "_" and "-", starting with a letter or digit' });

const count = (max: number) =>
  z
    .number({ error: 'expected a number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(max, { error: `must be at most ${max}` });

const noArgs = z.strictObject({}).optional();

// ---------------------------------------------------------------------------------------------
// DTOs: what methods return and events carry. Plain data; ids and keys as lowercase hex.

export type HostKind = 'electron' | 'web' | 'memory';

export interface HostInfo {
  contractVersion: number;
  appVersion: string;
  host: HostKind;
  dataDir: string;
  /** Where the user's node came from at startup. */
  mode: 'embedded-testnet' | 'bootstrap' | 'saved-peers' | 'standalone';
  /** http://HOST:PORT/metrics while the metrics setting serves them; null otherwise. */
  metricsUrl: string | null;
}

/** The networks the app's node and testnet can speak (core/protocols). */
export const PROTOCOLS = ['kadscope', 'mainline', 'hyperdht'] as const;
export type ProtocolChoice = (typeof PROTOCOLS)[number];
const protocolChoice = z.enum(PROTOCOLS, { error: 'expected "kadscope", "mainline" or "hyperdht"' });

export interface TestnetStatus {
  running: boolean;
  /** The protocol its nodes speak; null when none runs. */
  protocol?: ProtocolChoice | null;
  /** The testnet runs over UDP on 127.0.0.1, so the user's node (UDP) can join it. */
  transport: 'udp' | null;
  /** Nodes started over the testnet's lifetime minus those stopped. */
  alive: number;
  stopped: number;
  /** Addresses a node can join through (host:port). */
  bootstrap: string[];
  /** True when the testnet's nodes run in a worker thread (large testnets). */
  inWorker: boolean;
  startedAt: number | null;
}

export interface SnapshotDto {
  node: NodeSnapshot;
  testnet: TestnetStatus;
  /** Local records this node stores. */
  records: RecordInfo[];
}

export interface JoinResult {
  /** Bootstrap nodes that answered our PING. */
  reached: Contact[];
  failed: { address: string; message: string }[];
  /** Peers in the routing table after the join lookups. */
  peers: number;
}

/** Limits of the extension points (core/wire/types.ts), restated for the renderer. */
export const MAX_CALL_ARGS_JSON_CHARS = 4000;
export const MAX_BROADCAST_BYTES = 1000;
export const MAX_BROADCAST_HOPS = 64;
const CUSTOM_METHOD_NAME = /^[a-z][a-z0-9._-]{0,31}$/;

/** A custom method's name as the wire carries it. */
export const customMethodName = z
  .string({ error: 'expected a method name' })
  .trim()
  .regex(CUSTOM_METHOD_NAME, { error: 'a method name is 1-32 characters of a-z 0-9 . _ - starting with a letter' });

export interface CustomMethodDto {
  name: string;
  description: string;
}

export interface CallDto {
  /** The result, made JSON-safe: byte strings as { bytes: hex }, big integers as strings. */
  value: unknown;
  /** The answering node's id, and the round trip. */
  id: string;
  rttMs: number;
  address: string;
}

/** A broadcast the user's node received. */
export interface BroadcastDto {
  id: string;
  origin: string;
  from: Contact;
  hops: number;
  hopLimit: number;
  /** Clock ms (wall clock on a real node). */
  receivedAt: number;
  size: number;
  /** The payload as text when it is UTF-8, else null; base64 always. */
  text: string | null;
  base64: string;
}

export interface BroadcastSendDto {
  id: string;
  /** Bucket ranges handed the message, and ranges where every contact failed. */
  reached: number;
  failed: number;
}

export interface PingDto {
  id: string;
  rttMs: number;
  /** Absent when the peer did not say (a Mainline answer without `ip`). */
  observed?: Endpoint;
}

export interface FindNodeDto {
  closest: Contact[];
  hops: number;
  messages: number;
  durationMs: number;
  reason: LookupTermination;
  /** The lookup's trace id, when it could be matched. */
  lookupId: string | null;
}

export interface StoreFailureDto {
  /** Hex id of the node that did not store. */
  id: string;
  /** Its refusal (INVALID_TOKEN, SEQ_TOO_LOW, STORE_FULL, ...) or TIMEOUT. */
  code: string;
  message: string;
}

export interface PutDto {
  key: string;
  /** Hex ids of the nodes that acknowledged. */
  storedAt: string[];
  failed: StoreFailureDto[];
  lookupId: string | null;
  /** put with `at`: the name the value was stored under. */
  name?: string;
}

export interface PutMutableDto extends PutDto {
  seq: number;
  publicKey: string;
  salt: string | null;
  /** The key pair that signed (a generated one gets a fresh name). */
  keyPair: string;
}

export interface GetDto {
  key: string;
  /** Raw bytes, base64. */
  base64: string;
  /** The bytes as text when they are valid UTF-8, else null. */
  text: string | null;
  /** Id of the node that returned the value. */
  from: string;
  hops: number;
  messages: number;
  durationMs: number;
  seq: number | null;
  /** A named record's name, else null. */
  name: string | null;
  lookupId: string | null;
}

/** A key pair the node keeps (saved with its identity); the secret half never leaves the host. */
export interface KeyPairInfo {
  name: string;
  publicKey: string;
}

export interface AnnounceDto {
  topic: string;
  /** SHA-256 of the topic text. */
  key: string;
  storedAt: string[];
  failed: StoreFailureDto[];
  lookupId: string | null;
}

export interface LookupPeersDto {
  topic: string;
  key: string;
  /**
   * host:port of each peer, the local address of each peer on our network first; on HyperDHT each
   * peer's public key (hex), its relay addresses after an @ when it named any.
   */
  peers: string[];
  /** Peers behind our own public address that announced local addresses (wire v3): the one we use, and where the network sees them. */
  sameNetwork: Array<{ local: string; public: string }>;
  lookupId: string | null;
}

// Traces: the service keeps the last MAX_TRACES lookups, and files load back through traceImport.

/** A LookupEvent without its lookupId, timed as ms since the lookup started. */
export type TraceEvent = DistributiveOmit<LookupEvent, 'lookupId' | 'at'> & { t: number };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export const TRACE_FORMAT = 'kadtrace';
/**
 * 3: a lookup wider than k records its width (params.width, and on its 'started' event); 2: traces
 * record the network's protocol (and ids may be 40 hex characters). Version 1 files are read as
 * kadscope's, and 1 and 2 as lookups k wide.
 */
export const TRACE_VERSION = 3;

export interface TraceSummary {
  reason: LookupTermination | null;
  durationMs: number | null;
  hops: number | null;
  messages: number;
  timeToClosestMs: number | null;
  closest: Contact[];
  responses: number;
  timeouts: number;
  errors: number;
}

export interface Trace {
  format: typeof TRACE_FORMAT;
  version: typeof TRACE_VERSION;
  /** The network's protocol: 'kadscope', 'mainline', 'hyperdht'. */
  protocol: string;
  id: string;
  /** Clock ms (epoch on real clocks) when the lookup started. */
  startedAt: number;
  self: string;
  target: string;
  kind: LookupKind;
  /**
   * lookupTimeoutMs: the whole lookup's deadline (absent in traces from before it was recorded).
   * width: the live candidates that had to answer before it ended, when more than k (absent: k).
   */
  params: { k: number; alpha: number; rpcTimeoutMs: number; lookupTimeoutMs?: number; width?: number };
  events: TraceEvent[];
  summary: TraceSummary;
  /** 'live' when recorded by this process, 'imported' when loaded from a file. */
  origin: 'live' | 'imported';
  /** Events past the per-trace cap were dropped (the summary still counts them). */
  truncated: boolean;
}

export interface TraceListItem {
  id: string;
  startedAt: number;
  target: string;
  kind: LookupKind;
  origin: Trace['origin'];
  /** False while the lookup is still running. */
  done: boolean;
  summary: TraceSummary;
}

/** One node's figures for the side-by-side Overview (ours or an attached remote's). */
export interface RemoteSummary {
  nodeId: string;
  peers: number;
  /** Requests sent plus requests answered per second, over the last poll interval; null on the first read. */
  rpcPerSecond: number | null;
  /** Median duration of its newest finished lookups, ms; null when it has none. */
  lookupMedianMs: number | null;
}

/** A remote node this host is attached to (kadscope serve --listen on another machine). */
export interface RemoteNodeDto {
  /** This host's handle for it ("r1", ...); the page opens it with ?node=<id>. */
  id: string;
  /** https://host:port */
  url: string;
  label: string;
  /** SHA-256 of the certificate it presented and that is pinned for it. */
  fingerprint: string;
  state: 'connecting' | 'connected' | 'disconnected' | 'error';
  error: string | null;
  summary: RemoteSummary | null;
}

export interface RemotesDto {
  /** This host's own node. */
  local: RemoteSummary;
  remotes: RemoteNodeDto[];
}

/** Remote-node methods are answered by the host the page was loaded from, even while it shows a remote node. */
export const LOCAL_ONLY_METHODS: readonly string[] = ['remoteList', 'remoteAttach', 'remoteDetach'];
/** The page's query parameter naming the attached node it shows (remoteAttach's id); absent: the host's own. */
export const NODE_PARAM = 'node';
/** An attached node's id as it may appear in a page's URL or a relay path (remoteAttach makes "r1", "r2", …). */
export function isRemoteNodeId(id: string | null): id is string {
  return id !== null && /^[a-z0-9]{1,32}$/.test(id);
}

export type Theme = 'system' | 'light' | 'dark';

/**
 * An address to listen on: an IP address and a port, where port 0 (unlike in a destination) asks
 * the system for a free port; whoever listens reports the port it got.
 */
export function parseListenAddress(text: string): { ok: true; value: Endpoint } | { ok: false; message: string } {
  const v = text.trim();
  const anyPort = /:0$/.test(v);
  const r = parseAddress(anyPort ? `${v.slice(0, -2)}:1` : v);
  if (!r.ok) return { ok: false, message: `${anyPort ? `${v}: not HOST:0` : r.message.replace('port must be 1-65535', 'port must be 0-65535')} (expected HOST:PORT, e.g. 127.0.0.1:9464)` };
  if (isIP(r.value.host) === 0) return { ok: false, message: `"${r.value.host}" is not an IP address (expected HOST:PORT, e.g. 127.0.0.1:9464)` };
  return { ok: true, value: { host: r.value.host, port: anyPort ? 0 : r.value.port } };
}

export const settingsSchema = z.strictObject({
  theme: z.enum(['system', 'light', 'dark'], { error: 'expected "system", "light" or "dark"' }),
  /** Bootstrap addresses remembered for the Join form. */
  savedBootstrap: z.array(addressString).max(MAX_BOOTSTRAP_ADDRESSES, { error: `at most ${MAX_BOOTSTRAP_ADDRESSES} addresses` }),
  defaultTestnetSize: count(MAX_TESTNET_SIZE),
  /** Graph view: draw at most this many peers (the rest are summarised). */
  graphMaxPeers: count(20_000),
  /** Serve Prometheus metrics of the node at http://HOST:PORT/metrics; '' for none. */
  metricsAddress: z
    .string()
    .trim()
    .max(60)
    .superRefine((s, ctx) => {
      if (s === '') return;
      const r = parseListenAddress(s);
      if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
    }),
});
export type Settings = z.infer<typeof settingsSchema>;

export const DEFAULT_SETTINGS: Settings = {
  theme: 'system',
  savedBootstrap: [],
  defaultTestnetSize: 32,
  graphMaxPeers: 5000,
  metricsAddress: '',
};

// ---------------------------------------------------------------------------------------------
// Crawls: the whole-network map, kept in the data directory's crawl history.

/** Crawls the app lists at most (newest first); the history keeps every one. */
export const MAX_LISTED_CRAWLS = 500;
/** Nodes of one crawl the app receives at most. */
export const MAX_VIEW_NODES = 100_000;

export type CrawlFailureDto = CrawlFailure;

/** The protocols a crawl can speak (electron/host/crawl-clients.ts opens a crawling node for each). */
export const CRAWL_PROTOCOLS = ['kadscope', 'mainline', 'hyperdht'] as const;
export type CrawlProtocol = (typeof CRAWL_PROTOCOLS)[number];

/** A stored crawl's figures: core's CrawlSummary (plain data already) plus its id in the history. */
export interface CrawlSummaryDto extends CrawlSummary {
  id: number;
}

export interface CrawlNodeDto {
  id: string | null;
  host: string;
  port: number;
  status: 'reachable' | 'unreachable' | 'not-crawled';
  failure: string | null;
  rttMs: number | null;
  client: string | null;
  /** Mainline: its id against the address it answered from (BEP 42); null where ids are free. */
  bep42: 'compliant' | 'exempt' | 'non-compliant' | null;
  /** HyperDHT: its id is the hash of the address it answered from; null for other protocols. */
  idMatchesAddress: boolean | null;
  /** Distinct nodes it returned. */
  neighbours: number;
  /** Mainline (BEP 51): what it said to sample_infohashes; null when it was not asked. */
  samples: CrawlNodeSamples | null;
}

export interface CrawlDetailDto {
  crawl: CrawlSummaryDto;
  nodes: CrawlNodeDto[];
}

export interface CrawlComparisonDto {
  from: number;
  to: number;
  /** Reachable in `to`, not reachable in `from`. */
  joined: number;
  /** Reachable in `from`, not reachable in `to`. */
  left: number;
  /** Reachable in both. */
  stayed: number;
  joinedIds: string[];
  leftIds: string[];
}

/** Plain numbers: core's own progress is already a DTO. */
export type CrawlProgressDto = CrawlProgress;

export interface CrawlStatus {
  running: boolean;
  /** The running crawl's progress, or the last one's final figures. */
  progress: CrawlProgressDto | null;
  /** The last finished crawl's id in the history. */
  lastId: number | null;
  /** Why the last crawl failed (it was not stored). */
  error: string | null;
  /** The user's node's protocol: a crawl speaks it unless told otherwise. */
  nodeProtocol: string;
}

const crawlId = z.number({ error: 'expected a crawl id (a number)' }).int({ error: 'a crawl id is a whole number' }).min(1, { error: 'a crawl id is at least 1' }).max(2 ** 31 - 1);

// ---------------------------------------------------------------------------------------------
// Methods

interface MethodSpec<A extends z.ZodType, R> {
  args: A;
  /** Phantom: the value type of a successful result. Never read at runtime. */
  result?: R;
  /** One line for docs and error messages. */
  doc: string;
}

const method = <R>() => <A extends z.ZodType>(args: A, doc: string): MethodSpec<A, R> => ({ args, doc });

export const methods = {
  info: method<HostInfo>()(noArgs, 'Host, contract version and data directory.'),
  snapshot: method<SnapshotDto>()(noArgs, "The user's node, testnet status and local records, whole."),
  join: method<JoinResult>()(
    z.strictObject({
      bootstrap: z
        .array(addressString, { error: 'expected a list of "host:port" strings' })
        .min(1, { error: 'give at least one bootstrap address' })
        .max(MAX_BOOTSTRAP_ADDRESSES, { error: `at most ${MAX_BOOTSTRAP_ADDRESSES} bootstrap addresses` }),
      /** The network's protocol; another than the node's restarts the node speaking it (its state kept apart per protocol). */
      protocol: protocolChoice.optional(),
    }),
    'Ping each bootstrap address, then look up our own id to fill the routing table (speaking `protocol`, when given).',
  ),
  ping: method<PingDto>()(z.strictObject({ address: addressString }), 'PING a host:port.'),
  findNode: method<FindNodeDto>()(z.strictObject({ target: idHex }), 'Iterative FIND_NODE; resolves when done.'),
  startLookup: method<{ lookupId: string }>()(
    z.strictObject({ target: idHex, kind: z.enum(['find-node', 'find-value'], { error: 'expected "find-node" or "find-value"' }).default('find-node') }),
    'Start a lookup and return its id at once; its events arrive through subscribe.',
  ),
  cancelLookup: method<{ cancelled: boolean }>()(z.strictObject({ lookupId: z.string().min(1).max(128) }), 'Abort a lookup started with startLookup.'),
  records: method<RecordInfo[]>()(noArgs, 'The records this node stores.'),
  get: method<GetDto>()(
    z
      .strictObject({
        key: idHex.optional(),
        name: recordName.optional(),
        source: z.enum(['auto', 'local', 'network'], { error: 'expected "auto", "local" or "network"' }).default('auto'),
        /** A mutable record's salt, for Mainline (BEP 44 answers leave it out). */
        salt: z
          .string()
          .refine((s) => byteLength(s) <= MAX_SALT_BYTES, { error: `a salt is at most ${MAX_SALT_BYTES} bytes as UTF-8` })
          .optional(),
        /**
         * A mutable record's public key (64 hex), for HyperDHT (MUTABLE_GET answers leave it out);
         * without it this node's own key pairs are tried, then the key is fetched as immutable.
         */
        publicKey: idHex.optional(),
      })
      .refine((a) => (a.key === undefined) !== (a.name === undefined), { error: 'give either key (64 hex characters) or name' }),
    'Fetch a value by key, or by name (a value put with `at`, at SHA-256(name)): iterative FIND_VALUE ("network", or "auto": an immutable value this node holds is answered from its copy), or this node\'s own copy only ("local", no lookup).',
  ),
  put: method<PutDto>()(
    z.strictObject({ value: valueInput, at: recordName.optional() }),
    'Store an immutable value at its hash (SHA-256 of the value; Mainline: SHA-1 of it bencoded, BEP 44), or with `at` a named value at SHA-256(at) that anyone may overwrite (README, "Named keys").',
  ),
  putMutable: method<PutMutableDto>()(
    z.strictObject({
      value: valueInput,
      seq: z.number({ error: 'expected a number' }).int({ error: 'must be a whole number' }).min(0, { error: 'must be at least 0' }).max(Number.MAX_SAFE_INTEGER),
      salt: z
        .string()
        .refine((s) => byteLength(s) <= MAX_SALT_BYTES, { error: `a salt is at most ${MAX_SALT_BYTES} bytes as UTF-8` })
        .optional(),
      keyPair: z.union([z.literal('generate'), keyPairName], { error: 'expected "generate" or a saved key pair name' }),
      /** Compare-and-swap: store only if the current seq equals this. */
      cas: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    }),
    'Sign and store a mutable record under a saved or freshly generated key pair.',
  ),
  generateKeyPair: method<KeyPairInfo>()(z.strictObject({ name: keyPairName.optional() }), 'Generate an ed25519 key pair, saved with the node identity (default name key-N).'),
  listKeyPairs: method<KeyPairInfo[]>()(noArgs, 'Saved key pairs (public halves only).'),
  importKeyPair: method<KeyPairInfo>()(
    z.strictObject({
      name: keyPairName,
      /** The file a key pair was saved to (JSON text), as the CLI and app write it. */
      json: z.string().min(1).max(16_384, { error: 'a key pair file is at most 16 KiB' }),
    }),
    'Load a key pair from its saved file contents.',
  ),
  announce: method<AnnounceDto>()(
    z.strictObject({ topic: z.string().min(1, { error: 'a topic cannot be empty' }).max(MAX_TOPIC_CHARS), port }),
    'Announce our address under the topic\'s hash (SHA-256; Mainline: SHA-1; HyperDHT: BLAKE2b-256, announcing the public key of this node\'s key pair "announce", created when missing).',
  ),
  lookupPeers: method<LookupPeersDto>()(
    z.strictObject({ topic: z.string().min(1, { error: 'a topic cannot be empty' }).max(MAX_TOPIC_CHARS) }),
    'Find the addresses announced under a topic.',
  ),
  testnetStart: method<TestnetStatus>()(
    z.strictObject({
      size: count(MAX_TESTNET_SIZE),
      /** Join the user's node to it once it is up. */
      join: z.boolean().default(true),
      /** What its nodes speak (default kadscope); joining it switches the user's node to the same. */
      protocol: protocolChoice.optional(),
    }),
    'Start a local testnet on 127.0.0.1 (fails if one is running).',
  ),
  testnetStop: method<TestnetStatus>()(noArgs, 'Stop the local testnet.'),
  testnetAdd: method<TestnetStatus>()(z.strictObject({ count: count(MAX_TESTNET_CHANGE) }), 'Add nodes to the running testnet.'),
  testnetStopRandom: method<TestnetStatus>()(z.strictObject({ count: count(MAX_TESTNET_CHANGE) }), 'Stop N random testnet nodes.'),
  testnetStatus: method<TestnetStatus>()(noArgs, 'The local testnet, if any.'),
  tracesList: method<TraceListItem[]>()(noArgs, 'Recent lookup traces, newest first (at most MAX_TRACES).'),
  traceGet: method<Trace>()(z.strictObject({ id: z.string().min(1).max(128) }), 'One trace, whole.'),
  traceImport: method<TraceListItem>()(
    z.strictObject({ json: z.string().min(2).max(MAX_TRACE_JSON_CHARS, { error: 'a trace file is at most 8 MB' }) }),
    'Load a trace from its file contents (validated).',
  ),
  remoteList: method<RemotesDto>()(noArgs, 'This node and the remote nodes attached, with their figures.'),
  remoteAttach: method<RemoteNodeDto>()(
    z.strictObject({
      url: z.string().trim().min(1, { error: 'give the remote URL, https://HOST:PORT' }).max(300),
      token: z.string().trim().min(1, { error: 'give the session token the remote host printed' }).max(200),
      fingerprint: z.string().max(200).optional(),
    }),
    'Attach to a remote kadscope serve --listen over TLS (pinning the certificate fingerprint if given).',
  ),
  remoteDetach: method<{ detached: boolean }>()(z.strictObject({ id: z.string().min(1).max(32) }), 'Detach a remote node.'),
  methodsList: method<CustomMethodDto[]>()(noArgs, "The custom RPC methods registered on the user's node."),
  call: method<CallDto>()(
    z.strictObject({
      address: addressString,
      name: customMethodName,
      /** The arguments as JSON text; absent or empty for none. */
      args: z.string().max(MAX_CALL_ARGS_JSON_CHARS, { error: `arguments are at most ${MAX_CALL_ARGS_JSON_CHARS} characters of JSON` }).optional(),
    }),
    'Call a custom RPC method on the node at address; its refusal (UNKNOWN_METHOD, PROTOCOL, ...) is the error.',
  ),
  broadcast: method<BroadcastSendDto>()(
    z.strictObject({
      text: z
        .string()
        .min(1, { error: 'a broadcast cannot be empty' })
        .refine((t) => byteLength(t) <= MAX_BROADCAST_BYTES, { error: `a broadcast is at most ${MAX_BROADCAST_BYTES} bytes as UTF-8` }),
      hopLimit: z.number().int({ error: 'must be a whole number' }).min(1).max(MAX_BROADCAST_HOPS).optional(),
    }),
    'Send text to every node of the network, once each.',
  ),
  broadcasts: method<BroadcastDto[]>()(noArgs, 'Broadcasts the user\'s node received, newest first (at most 200).'),
  settingsGet: method<Settings>()(noArgs, 'The saved settings.'),
  settingsSet: method<Settings>()(settingsSchema.partial(), 'Change some settings; returns all of them.'),
  crawlStart: method<CrawlStatus>()(
    z.strictObject({
      /** Default: the testnet's bootstrap addresses, else peers from the node's routing table. */
      bootstrap: z.array(addressString).min(1).max(MAX_BOOTSTRAP_ADDRESSES, { error: `at most ${MAX_BOOTSTRAP_ADDRESSES} bootstrap addresses` }).optional(),
      /** Default: the user's node's protocol (its node crawls); another protocol crawls from a node of its own and needs `bootstrap`. */
      protocol: z.enum(CRAWL_PROTOCOLS, { error: `protocol must be one of: ${CRAWL_PROTOCOLS.join(', ')}` }).optional(),
    }),
    "Crawl the whole network from bootstrap addresses, with the user's node or, for another protocol, a crawling node of that protocol; progress arrives as crawl events (fails if one is running).",
  ),
  crawlCancel: method<CrawlStatus>()(noArgs, 'Stop the running crawl; what it found is stored, marked cancelled.'),
  crawlStatus: method<CrawlStatus>()(noArgs, 'The running or last crawl.'),
  crawlsList: method<CrawlSummaryDto[]>()(noArgs, `Stored crawls, newest first (at most ${MAX_LISTED_CRAWLS}).`),
  crawlGet: method<CrawlDetailDto>()(z.strictObject({ id: crawlId }), `One stored crawl: its figures and nodes (at most ${MAX_VIEW_NODES}).`),
  crawlCompare: method<CrawlComparisonDto>()(z.strictObject({ from: crawlId, to: crawlId }), 'Nodes that joined, left and stayed between two crawls.'),
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export const METHOD_NAMES = Object.keys(methods) as MethodName[];

/** What a caller passes (before defaults and transforms). */
export type ArgsIn<M extends MethodName> = z.input<Methods[M]['args']>;
/** What the service receives after validation. */
export type ArgsOut<M extends MethodName> = z.output<Methods[M]['args']>;
export type ValueOf<M extends MethodName> = Methods[M] extends MethodSpec<z.ZodType, infer R> ? R : never;

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(methods, name);
}

/** Validates a method's arguments; the message names each bad field and what was wrong. */
export function parseArgs<M extends MethodName>(name: M, args: unknown): Result<ArgsOut<M>> {
  const r = methods[name].args.safeParse(args ?? undefined);
  if (r.success) return ok(r.data as ArgsOut<M>);
  return err('INVALID_ARGUMENT', `${name}: ${formatIssues(r.error.issues)}`);
}

/** Checks a batch's shape as it came off IPC or the WebSocket (batch-codec.ts checks its indices and expands it). */
export function parseWireBatch(batch: unknown): Result<WireBatch> {
  const r = wireBatchSchema.safeParse(batch);
  if (r.success) return ok(r.data as WireBatch);
  return err('INVALID_ARGUMENT', `malformed event batch: ${formatIssues(r.error.issues)}`);
}

const MAX_REPORTED_ISSUES = 5;

/** One issue's text at most this long: messages quote the input, and the input may be huge. */
const MAX_ISSUE_CHARS = 300;
const clip = (s: string): string => (s.length > MAX_ISSUE_CHARS ? `${s.slice(0, MAX_ISSUE_CHARS - 1)}…` : s);

function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  const parts = issues.slice(0, MAX_REPORTED_ISSUES).map((i) => {
    const where = i.path.length > 0 ? i.path.map(String).join('.') : 'arguments';
    if (i.code === 'unrecognized_keys') return clip(`${where}: unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`);
    return clip(`${where}: ${i.message}`);
  });
  if (issues.length > MAX_REPORTED_ISSUES) parts.push(`and ${issues.length - MAX_REPORTED_ISSUES} more`);
  return parts.join('; ');
}

// ---------------------------------------------------------------------------------------------
// Events

export type ExplorerEvent =
  | { type: 'peer-added'; peer: PeerInfo }
  | { type: 'peer-removed'; id: string; host: string; port: number; reason: 'evicted' | 'replaced' | 'failed' | 'stopped' }
  | { type: 'peer-health'; peer: PeerInfo }
  /** Every lookup of the user's node, including those inside get, put, announce and lookupPeers. */
  | { type: 'lookup'; event: LookupEvent }
  | { type: 'observed-address'; address: Endpoint }
  | { type: 'record-stored'; record: RecordInfo }
  | { type: 'record-expired'; key: string }
  | { type: 'record-refused'; key: string | null; code: string; message: string; from: string | null }
  /** A broadcast reached the user's node (once per broadcast). */
  | { type: 'broadcast'; broadcast: BroadcastDto }
  /** A custom method call the user's node made or answered ended (the Messages view's call log). */
  | { type: 'call'; call: CallInfo }
  /** Sent about once a second: the counters and the figures the Overview charts. */
  | { type: 'tick'; at: number; counters: Counters; peers: number; estimatedNetworkSize: number; observedAddress: Endpoint | null }
  | { type: 'testnet'; status: TestnetStatus }
  /** A crawl's progress (at most a few per second), and its end. */
  | { type: 'crawl'; status: CrawlStatus }
  /** The user's node was replaced or restarted: reload the snapshot. */
  | { type: 'node'; id: string; address: Endpoint; state: 'started' | 'stopped' };

/**
 * One delivery to a subscriber. `seq` counts batches per subscription from 1 with no gaps.
 * `resync: true` means state was missed: the host dropped a slow subscriber's queue (such a batch has
 * no events), or the client saw a gap in seq (the batch keeps its events, which are newer than the
 * gap). Either way: reload the snapshot, then apply this batch's events and the ones after it.
 */
export interface EventBatch {
  seq: number;
  events: ExplorerEvent[];
  resync: boolean;
}

/** Every ExplorerEvent type. A wire batch carries lookup events compact (WireLookupEvent), the others as they are. */
export const EXPLORER_EVENT_TYPES = [
  'peer-added',
  'peer-removed',
  'peer-health',
  'lookup',
  'observed-address',
  'record-stored',
  'record-expired',
  'record-refused',
  'broadcast',
  'call',
  'tick',
  'testnet',
  'crawl',
  'node',
] as const satisfies readonly ExplorerEvent['type'][];
// Every type of the union is listed (a type missing above fails here).
const everyEventTypeListed: Exclude<ExplorerEvent['type'], (typeof EXPLORER_EVENT_TYPES)[number]> extends never ? true : never = true;
void everyEventTypeListed;

// A batch as it crosses IPC and the WebSocket (batch-codec.ts encodes and decodes it). A lookup's
// events name the same contacts again and again (each answer's k contacts, the last hops returning
// nearly the same ones), so each contact and lookup id is written once per batch, in `contacts` and
// `lookups`, and a lookup event is a tuple that refers to them by index. The client expands it back
// into the same LookupEvents, so the views see what they always saw.
//
//   ['s', lookup, at, kind, target, self, k, alpha, rpcTimeoutMs, lookupTimeoutMs | null, seeds, protocol | null, width?]   started
//   ['q', lookup, at, peer, hop, bytes]                                                                              query
//   ['r', lookup, at, peer, hop, rttMs, bytes, nodes, hasValue | null, peerCount | null]                            response
//   ['t', lookup, at, peer, hop, afterMs]                                                                            timeout
//   ['e', lookup, at, peer, hop, code, message]                                                                      error
//   ['d', lookup, at, reason, closest, hops, messages, durationMs, timeToClosestMs]                                  done
//
// lookup: index into `lookups`; peer: index into `contacts`; seeds, nodes, closest: arrays of such indices.
// width?: only when the lookup's width is more than k (a host from before it was sent leaves it out).

/** Largest batch a client accepts: the batcher's MAX_BATCH_EVENTS, with room; contacts at most k per event. */
export const MAX_WIRE_BATCH_EVENTS = 4096;
export const MAX_WIRE_BATCH_CONTACTS = 65_536;
const MAX_WIRE_CONTACT_REFS = 1024;
const MAX_WIRE_STRING = 65_536;

const wireIndex = z.number().int().min(0);
const wireRefs = z.array(wireIndex).max(MAX_WIRE_CONTACT_REFS);
const wireNum = z.number();
const wireText = z.string().max(MAX_WIRE_STRING);

/** The compact lookup events by their tag: tuples, validated element by element. */
export const WIRE_LOOKUP_EVENTS = {
  s: z.tuple([z.literal('s'), wireIndex, wireNum, wireText, wireText, wireText, wireNum, wireNum, wireNum, wireNum.nullable(), wireRefs, wireText.nullable(), wireNum.optional()]),
  q: z.tuple([z.literal('q'), wireIndex, wireNum, wireIndex, wireNum, wireNum]),
  r: z.tuple([z.literal('r'), wireIndex, wireNum, wireIndex, wireNum, wireNum, wireNum, wireRefs, z.boolean().nullable(), wireNum.nullable()]),
  t: z.tuple([z.literal('t'), wireIndex, wireNum, wireIndex, wireNum, wireNum]),
  e: z.tuple([z.literal('e'), wireIndex, wireNum, wireIndex, wireNum, wireText, wireText]),
  d: z.tuple([z.literal('d'), wireIndex, wireNum, wireText, wireRefs, wireNum, wireNum, wireNum, wireNum]),
} as const;
export type WireLookupEvent = { [T in keyof typeof WIRE_LOOKUP_EVENTS]: z.output<(typeof WIRE_LOOKUP_EVENTS)[T]> }[keyof typeof WIRE_LOOKUP_EVENTS];

/** Any other event: an object whose type is one of ours other than 'lookup' (its fields as the host sent them). */
const wireOtherEvent = z.looseObject({
  type: z.enum(EXPLORER_EVENT_TYPES.filter((t) => t !== 'lookup') as [string, ...string[]], { error: 'not an event type of this contract (a lookup event travels as a tuple)' }),
});
export type WireEvent = WireLookupEvent | Exclude<ExplorerEvent, { type: 'lookup' }>;

const wireEvent = z.unknown().superRefine((e, ctx) => {
  if (Array.isArray(e)) {
    const tag = e[0] as unknown;
    const schema = typeof tag === 'string' && Object.prototype.hasOwnProperty.call(WIRE_LOOKUP_EVENTS, tag) ? WIRE_LOOKUP_EVENTS[tag as keyof typeof WIRE_LOOKUP_EVENTS] : null;
    if (!schema) {
      ctx.addIssue({ code: 'custom', message: `a lookup event's tag is one of ${Object.keys(WIRE_LOOKUP_EVENTS).join(', ')}; got ${JSON.stringify(tag)?.slice(0, 40)}` });
      return;
    }
    const r = schema.safeParse(e);
    if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: `(${tag}) ${i.path.length > 0 ? `[${i.path.map(String).join('.')}]` : ''}: ${i.message}` });
    return;
  }
  const r = wireOtherEvent.safeParse(e);
  if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: `${i.path.length > 0 ? `${i.path.map(String).join('.')}: ` : ''}${i.message}` });
});

export const wireBatchSchema = z.strictObject({
  seq: z.number().int().min(0),
  resync: z.boolean(),
  /** [id, host, port] of each contact the lookup events name, once each. */
  contacts: z.array(z.tuple([wireText, wireText, z.number().int().min(0).max(65535)])).max(MAX_WIRE_BATCH_CONTACTS),
  /** The lookup ids the lookup events name, once each. */
  lookups: z.array(wireText).max(MAX_WIRE_BATCH_EVENTS),
  events: z.array(wireEvent).max(MAX_WIRE_BATCH_EVENTS, { error: `a batch holds at most ${MAX_WIRE_BATCH_EVENTS} events` }),
});

export interface WireBatch {
  seq: number;
  resync: boolean;
  contacts: Array<[id: string, host: string, port: number]>;
  lookups: string[];
  events: WireEvent[];
}

// ---------------------------------------------------------------------------------------------
// The API as the renderer sees it (window.kadscope in Electron, the WebSocket client in a browser).

export type InvokeFn = <M extends MethodName>(method: M, args?: ArgsIn<M>) => Promise<Result<ValueOf<M>>>;

type MethodFn<M extends MethodName> = undefined extends ArgsIn<M>
  ? (args?: ArgsIn<M>) => Promise<Result<ValueOf<M>>>
  : (args: ArgsIn<M>) => Promise<Result<ValueOf<M>>>;

export type KadscopeApi = { [M in MethodName]: MethodFn<M> } & {
  /** Calls cb with every batch; returns unsubscribe. */
  subscribe(cb: (batch: EventBatch) => void): () => void;
};

// ---------------------------------------------------------------------------------------------
// Transport messages (WebSocket JSON; Electron IPC uses the same shapes: batches as WireBatch).

export const WS_PATH = '/ws';
export const TOKEN_PARAM = 'token';
/** Electron IPC channel names (preload <-> main). */
export const IPC_INVOKE = 'kadscope:invoke';
export const IPC_SUBSCRIBE = 'kadscope:subscribe';
export const IPC_UNSUBSCRIBE = 'kadscope:unsubscribe';
export const IPC_BATCH = 'kadscope:batch';

export type ClientMessage =
  | { type: 'invoke'; id: number; method: string; args?: unknown }
  | { type: 'subscribe' }
  | { type: 'unsubscribe' };

export type ServerMessage =
  | { type: 'result'; id: number; result: Result<unknown> }
  | ({ type: 'batch' } & WireBatch)
  | { type: 'hello'; contractVersion: number };
