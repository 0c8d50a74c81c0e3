// Minimal typings for the peer DHTs the benchmark drives: only what the drivers use, read from the
// packages' sources (node_modules/dht-rpc/index.js, lib/query.js, lib/peer.js;
// node_modules/bittorrent-dht/client.js, k-rpc/index.js). Neither package ships its own types.

declare module 'dht-rpc' {
  import type { EventEmitter } from 'node:events';

  interface DhtRpcAddress {
    host: string;
    port: number;
  }

  interface DhtRpcPeer extends DhtRpcAddress {
    /** 32-byte routing id (blake2b of the node's ip:port); null for ephemeral senders. */
    id: Buffer | null;
  }

  interface DhtRpcReply {
    from: DhtRpcPeer;
    to: DhtRpcAddress;
    closerNodes: DhtRpcPeer[] | null;
    /** Round-trip token of the replier, to echo in a later request (commit). */
    token: Buffer | null;
    value: Buffer | null;
    error: number;
    rtt: number;
  }

  /** An incoming request, as the 'request' event hands it to user command handlers. */
  export interface DhtRpcRequest {
    command: number;
    target: Buffer | null;
    value: Buffer | null;
    /** Set only when the requester echoed a valid round-trip token. */
    token: Buffer | null;
    from: DhtRpcAddress;
    reply(value: Buffer | null): void;
    error(code: number): void;
  }

  interface DhtRpcQueryOptions {
    /** true, or a function called for each of the closest replies once the walk ends. */
    commit?: boolean | ((reply: DhtRpcReply, dht: DHT, query: DhtRpcQuery) => Promise<unknown>);
  }

  interface DhtRpcOptions {
    bootstrap?: string[] | false;
    port?: number;
    host?: string;
    ephemeral?: boolean;
    firewalled?: boolean;
    anyPort?: boolean;
    concurrency?: number;
  }

  interface DhtRpcQuery extends AsyncIterable<DhtRpcReply> {
    readonly closestReplies: DhtRpcReply[];
    readonly successes: number;
    readonly errors: number;
    finished(): Promise<void>;
  }

  interface UdxSocketLike {
    address(): { host: string; port: number } | null;
  }

  class DHT extends EventEmitter {
    constructor(opts?: DhtRpcOptions);
    static bootstrapper(port: number, host: string, opts?: DhtRpcOptions): DHT;
    static readonly ERROR_UNKNOWN_COMMAND: number;
    readonly id: Buffer | null;
    readonly ephemeral: boolean;
    readonly firewalled: boolean;
    readonly destroyed: boolean;
    readonly io: { serverSocket: UdxSocketLike | null; clientSocket: UdxSocketLike | null; inflight: unknown[] };
    readonly table: { toArray(): DhtRpcPeer[] };
    address(): DhtRpcAddress | null;
    fullyBootstrapped(): Promise<void>;
    findNode(target: Buffer): DhtRpcQuery;
    query(q: { target: Buffer; command: number; value: Buffer | null }, opts?: DhtRpcQueryOptions): DhtRpcQuery;
    request(q: { token: Buffer | null; command: number; target: Buffer | null; value: Buffer | null }, to: DhtRpcAddress): Promise<DhtRpcReply>;
    ping(to: DhtRpcAddress): Promise<DhtRpcReply>;
    destroy(): Promise<void>;
  }

  export default DHT;
}

declare module 'dht-rpc/lib/peer.js' {
  interface CompactState {
    start: number;
    end: number;
    buffer: Uint8Array | null;
  }

  interface Encoder<I, O> {
    preencode(state: CompactState, value: I): void;
    encode(state: CompactState, value: I): void;
    decode(state: CompactState): O;
  }

  interface Ipv4Peer {
    id: Buffer | null;
    host: string;
    port: number;
  }

  export function id(host: string, port: number, out?: Buffer): Buffer;
  export const ipv4: Encoder<{ host: string; port: number }, Ipv4Peer>;
  export const ipv4Array: Encoder<{ host: string; port: number }[], Ipv4Peer[]>;
}

declare module 'bittorrent-dht' {
  import type { EventEmitter } from 'node:events';

  interface KrpcPeer {
    host?: string;
    address?: string;
    port: number;
    id?: Buffer;
  }

  interface KrpcMessage {
    t?: Buffer;
    y?: Buffer | string;
    q?: string;
    a?: Record<string, unknown>;
    r?: { id?: Buffer; nodes?: Buffer; [key: string]: unknown };
  }

  type KrpcCallback = (err: Error | null, res: KrpcMessage | null, peer: KrpcPeer) => void;

  interface Krpc {
    id: Buffer;
    k: number;
    concurrency: number;
    pending: unknown[];
    nodes: { toArray(): { id: Buffer; host: string; port: number }[]; count(): number };
    socket: { inflight: number; socket: { address(): { port: number } } };
    closest(
      target: Buffer,
      message: { q: string; a: Record<string, unknown> },
      visit: ((res: KrpcMessage, peer: KrpcPeer) => boolean | void) | null,
      cb: (err: Error | null, responded: number) => void,
    ): void;
    populate(target: Buffer, message: { q: string; a: Record<string, unknown> }, cb: (err: Error | null, n: number) => void): void;
    query(peer: KrpcPeer, message: { q: string; a?: Record<string, unknown> }, cb: KrpcCallback): void;
  }

  interface BittorrentDhtOptions {
    bootstrap?: string[] | false;
    host?: string | false;
    k?: number;
    concurrency?: number;
    /** BEP 44 mutable items: ed25519 verification (without it mutable puts are refused). */
    verify?: (sig: Buffer, msg: Buffer, pk: Buffer) => boolean;
  }

  class DHT extends EventEmitter {
    constructor(opts?: BittorrentDhtOptions);
    readonly nodeId: Buffer;
    readonly _rpc: Krpc;
    listening: boolean;
    ready?: boolean;
    listen(port: number, address: string, cb?: () => void): void;
    /** BEP 44 put; the callback gets the key and how many nodes acknowledged. Returns the key. */
    put(
      opts: { v: Buffer; k?: Buffer; seq?: number; salt?: Buffer; cas?: number; sign?: (buf: Buffer) => Buffer },
      cb: (err: Error | null, key: Buffer, n: number) => void,
    ): Buffer;
    /** BEP 44 get; res is null when no node returned a value matching the key. */
    get(key: Buffer, cb: (err: Error | null, res: { v: Buffer; seq?: number; k?: Buffer; salt?: Buffer } | null) => void): void;
    get(key: Buffer, opts: { salt?: Buffer; cache?: boolean }, cb: (err: Error | null, res: { v: Buffer; seq?: number; k?: Buffer; salt?: Buffer } | null) => void): void;
    /** get_peers lookup; emits 'peer' ({ host, port }, infoHash, from) for each peer found. */
    lookup(infoHash: Buffer | string, cb?: (err: Error | null, n: number) => void): () => void;
    /** announce_peer at the closest nodes (port 0: implied_port). */
    announce(infoHash: Buffer | string, port: number, cb?: (err: Error | null) => void): void;
    /** The values this node stores (an LRU keyed by hex key). */
    readonly _values: { peek(keyHex: string): unknown };
    address(): { address: string; port: number; family: string };
    destroy(cb?: () => void): void;
  }

  export default DHT;
}
