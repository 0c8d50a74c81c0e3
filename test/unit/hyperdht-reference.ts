// The reference's own encoders and decoders (dht-rpc's lib/io.js, hyperdht's lib/messages.js and
// lib/persistent.js), loaded in tests only, so known-answer tests compare our bytes with theirs.
// Typings are the few members used here, read from those files; the packages ship none.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface RefAddress {
  host: string;
  port: number;
}

interface RefRequest {
  tid: number;
  from: RefAddress & { id: Buffer | null };
  to: RefAddress;
  id?: Buffer | null;
  token: Buffer | null;
  internal: boolean;
  command: number;
  target: Buffer | null;
  value: Buffer | null;
  onresponse: (res: RefResponse) => void;
  _encodeRequest(token: Buffer | null, value: Buffer | null, to: RefAddress, socket: unknown): Buffer;
  sendReply(error: number, value: Buffer | null, token: boolean, hasCloserNodes: boolean): void;
}

export interface RefResponse {
  tid: number;
  from: RefAddress & { id: Buffer | null };
  to: RefAddress;
  token: Buffer | null;
  closerNodes: RefAddress[] | null;
  error: number;
  value: Buffer | null;
}

interface RefIo {
  ephemeral: boolean;
  firewalled: boolean;
  serverSocket: unknown;
  clientSocket: unknown;
  _tid: number;
  createRequest(to: RefAddress, token: Buffer | null, internal: boolean, command: number, target: Buffer | null, value: Buffer | null, session: null, ttl: number): RefRequest;
  onmessage(socket: unknown, buffer: Buffer, from: RefAddress): void;
  token(addr: RefAddress, i: number): Buffer;
}

type IoClass = new (table: unknown, udx: unknown, opts: { onrequest: (req: RefRequest) => void }) => RefIo;

/** A dht-rpc IO over a fake socket: whatever it sends is captured, whatever it decodes is handed back. */
export class ReferenceIo {
  readonly sent: Buffer[] = [];
  readonly requests: RefRequest[] = [];
  readonly io: RefIo;
  private readonly socket = {
    trySend: (buf: Buffer) => {
      this.sent.push(Buffer.from(buf));
    },
    address: () => ({ port: 1 }),
  };

  constructor(id: Uint8Array | null, closest: RefAddress[] = []) {
    const IO = require('dht-rpc/lib/io.js') as IoClass;
    const udx = { watchNetworkInterfaces: () => ({ on() {}, destroy() {} }) };
    const table = { id: id ? Buffer.from(id) : null, closest: () => closest };
    this.io = new IO(table, udx, { onrequest: (req) => this.requests.push(req) });
    this.io.serverSocket = this.socket;
    this.io.clientSocket = this.socket;
    this.io.firewalled = false;
    this.io.ephemeral = id === null;
  }

  encodeRequest(m: { tid: number; to: RefAddress; token: Uint8Array | null; internal: boolean; command: number; target: Uint8Array | null; value: Uint8Array | null }): Buffer {
    this.io._tid = m.tid;
    const token = m.token ? Buffer.from(m.token) : null;
    const value = m.value ? Buffer.from(m.value) : null;
    const req = this.io.createRequest(m.to, token, m.internal, m.command, m.target ? Buffer.from(m.target) : null, value, null, 0);
    return req._encodeRequest(token, value, m.to, this.io.serverSocket);
  }

  /** Decodes a request datagram as a dht-rpc node would; null if it drops it. */
  decodeRequest(buf: Uint8Array, from: RefAddress): RefRequest | null {
    const before = this.requests.length;
    this.io.onmessage(this.socket, Buffer.from(buf), from);
    return this.requests.length > before ? this.requests[this.requests.length - 1] : null;
  }

  /** Decodes a response datagram to a request of ours with that tid; null if it drops it. */
  decodeResponse(buf: Uint8Array, tid: number, from: RefAddress): RefResponse | null {
    this.io._tid = tid;
    const req = this.io.createRequest(from, null, true, 0, null, null, null, 0);
    let got: RefResponse | null = null;
    req.onresponse = (res) => {
      got = res;
    };
    this.io.onmessage(this.socket, Buffer.from(buf), from);
    return got;
  }
}

interface Encoding {
  preencode(state: unknown, m: unknown): void;
}
interface CompactEncoding {
  encode(enc: Encoding, m: unknown): Buffer;
  decode(enc: Encoding, buf: Uint8Array): unknown;
  uint: Encoding;
}

export const c = require('compact-encoding') as CompactEncoding;

export const refMessages = require('hyperdht/lib/messages.js') as {
  peer: Encoding;
  lookupRawReply: Encoding;
  announce: Encoding;
  mutableSignable: Encoding;
  mutablePutRequest: Encoding;
  mutableGetResponse: Encoding;
};

export const refConstants = require('hyperdht/lib/constants.js') as {
  COMMANDS: Record<string, number>;
  ERROR: Record<string, number>;
  NS: Record<'ANNOUNCE' | 'UNANNOUNCE' | 'MUTABLE_PUT', Buffer>;
};

export const refCommands = require('dht-rpc/lib/commands.js') as Record<string, number>;

interface KeyPairRef {
  publicKey: Buffer;
  secretKey: Buffer;
}

export const refPersistent = require('hyperdht/lib/persistent.js') as {
  signMutable(seq: number, value: Buffer, keyPair: KeyPairRef): Buffer;
  verifyMutable(signature: Uint8Array, seq: number, value: Uint8Array, publicKey: Uint8Array): boolean;
  signAnnounce(target: Buffer, token: Buffer, id: Buffer, ann: unknown, keyPair: KeyPairRef): Buffer;
};

export const refCrypto = require('hyperdht/lib/crypto.js') as {
  hash(data: Uint8Array): Buffer;
  createKeyPair(seed?: Uint8Array): KeyPairRef;
};

export const refPeer = require('dht-rpc/lib/peer.js') as { id(host: string, port: number): Buffer };
