// udx-native as a socket layer (socket-layer.ts): holepunch's UDP binding over libuv, the socket
// dht-rpc runs on. Its prebuilt N-API binary ships in the registry package (prebuilds/<platform>),
// so it loads in Node and in Electron's main process without compiling. Loaded on first use, once
// per process; when it cannot load, the caller falls back to node:dgram (socket-layer.ts).
//
// What differs from node:dgram, and how the transport keeps the same semantics:
// - A received datagram is read into at most UDX_MAX_RECEIVE_BYTES (2,048) bytes; a longer one
//   arrives cut short. Every protocol kadscope speaks stays under 1,500 bytes, so the transport
//   drops what reaches the limit (counted as `truncated`) instead of decoding a cut datagram.
// - Received bytes are written into a shared 69 KiB slab; each datagram is copied out of it (read
//   straight from the slab, receiveFromSlab), so a value a node keeps (a record, a token) never
//   pins a slab.
// - send() reports no OS refusal: the transport refuses beforehand what it can tell (family, size,
//   port), as it does for node:dgram. Its IPv6 size limit is 65,487 bytes, not UDP's 65,527.
import { createRequire } from 'node:module';
import type { DatagramSink, DatagramSocket, SocketFamily, SocketLayer } from './socket-layer';

/** libudx reads one datagram into a buffer of this size; longer ones are cut to it. */
export const UDX_MAX_RECEIVE_BYTES = 2048;

/** What udx-native sends: the UDP limit over IPv4; over IPv6 it drops more than 65,487 bytes silently. */
const UDX_MAX_SEND_BYTES = Object.freeze({ udp4: 65_507, udp6: 65_487 });

interface UdxSocketHandle {
  bind(port: number, host: string): void;
  address(): { host: string; port: number } | null;
  on(event: 'message', fn: (buf: Buffer, rinfo: { host: string; port: number }) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  trySend(buf: Buffer, port: number, host: string): void;
  setRecvBufferSize(size: number): number;
  setSendBufferSize(size: number): number;
  close(): Promise<void>;
}

export interface UdxInstance {
  createSocket(opts?: { ipv6Only?: boolean }): UdxSocketHandle;
}

/** Returns udx-native's UDX class, or throws why it cannot. */
export type UdxLoader = () => new () => UdxInstance;

const requireUdx: UdxLoader = () => createRequire(import.meta.url)('udx-native') as new () => UdxInstance;

let openSockets = 0;

class UdxSocket implements DatagramSocket {
  private readonly socket: UdxSocketHandle;
  private closing: Promise<void> | undefined;

  constructor(udx: UdxInstance, sink: DatagramSink) {
    openSockets++;
    this.socket = udx.createSocket();
    this.socket.on('error', (err) => sink.error(err));
    // Copied out of udx's shared receive slab (see the top of this file).
    if (!receiveFromSlab(udx, this.socket, sink)) this.socket.on('message', (buf, rinfo) => sink.message(new Uint8Array(buf), rinfo.host, rinfo.port));
  }

  bind(host: string, port: number): Promise<{ address: string; port: number }> {
    try {
      this.socket.bind(port, host);
    } catch (err) {
      return this.close().then(() => Promise.reject(err as Error));
    }
    const a = this.socket.address();
    return Promise.resolve({ address: a?.host ?? host, port: a?.port ?? 0 });
  }

  send(data: Uint8Array, port: number, host: string): void {
    this.socket.trySend(data as Buffer, port, host);
  }

  setRecvBufferSize(bytes: number): void {
    this.socket.setRecvBufferSize(bytes);
  }

  setSendBufferSize(bytes: number): void {
    this.socket.setSendBufferSize(bytes);
  }

  close(): Promise<void> {
    this.closing ??= this.socket.close().then(
      () => {
        openSockets--;
      },
      () => {
        openSockets--;
      },
    );
    return this.closing;
  }
}

/**
 * The parts of udx-native (1.21) the receive path below reads. Not its API: each is checked before
 * use, and without them the transport listens to the socket's 'message' event as any user would.
 */
interface UdxReceiveInternals {
  /** The UDX instance's receive slab: the binding writes each datagram at its start. */
  _buffer?: unknown;
}
interface UdxSocketInternals {
  /** False until the first bind() hands the socket's callbacks to the binding. */
  _inited?: unknown;
  /**
   * What the binding calls with each datagram (its length and sender; the bytes are at the start of
   * the slab), returning the buffer the next datagram is to be written to.
   */
  _onmessage?: unknown;
}

/**
 * Reads each datagram straight out of udx's slab. udx's own `_onmessage` cuts the datagram off the
 * slab as a Buffer view (two `subarray`s, the second to advance the slab), makes a sender object
 * and emits 'message'; the transport then copied the view. Here the one copy is taken from the slab
 * and the same slab goes back to the binding, so the next datagram is written where this one was:
 * no views, no sender object and no event per datagram (the ping workload: ~4% more pings per
 * second). Safe because nothing keeps a view of the slab: the datagram is copied before the
 * handler sees it. Returns false, changing nothing, when udx-native lacks what this reads.
 */
function receiveFromSlab(udx: UdxInstance, socket: UdxSocketHandle, sink: DatagramSink): boolean {
  const u = udx as UdxInstance & UdxReceiveInternals;
  const s = socket as UdxSocketHandle & UdxSocketInternals;
  if (!(u._buffer instanceof Uint8Array) || typeof s._onmessage !== 'function' || s._inited !== false) return false;
  let slab: Uint8Array = u._buffer;
  let view = new Uint8Array(slab.buffer, slab.byteOffset, slab.byteLength);
  s._onmessage = (len: number, port: number, host: string): Uint8Array => {
    // udx replaces its slab only when this callback fails (its realloc path); follow it if it did.
    if (u._buffer !== slab && u._buffer instanceof Uint8Array) {
      slab = u._buffer;
      view = new Uint8Array(slab.buffer, slab.byteOffset, slab.byteLength);
    }
    sink.message(view.slice(0, len), host, port);
    return slab;
  };
  return true;
}

function udxLayer(UDX: new () => UdxInstance): SocketLayer {
  let udx: UdxInstance | undefined;
  return {
    name: 'udx-native',
    maxReceiveBytes: UDX_MAX_RECEIVE_BYTES,
    maxSendBytes: UDX_MAX_SEND_BYTES,
    reportsSendErrors: false,
    sendsAtOnce: false,
    get openSockets() {
      return openSockets;
    },
    create: (_family: SocketFamily, sink: DatagramSink) => new UdxSocket((udx ??= new UDX()), sink),
  };
}

let loaded: { layer: SocketLayer } | { reason: string } | undefined;

/**
 * udx-native as a layer, or why it did not load. The default loader's answer is kept for the
 * process; an injected loader (tests) is asked every time.
 */
export function loadUdxLayer(load?: UdxLoader): { layer: SocketLayer } | { reason: string } {
  if (load === undefined && loaded !== undefined) return loaded;
  let result: { layer: SocketLayer } | { reason: string };
  try {
    const UDX = (load ?? requireUdx)();
    if (typeof UDX !== 'function') throw new Error('udx-native exports no UDX class');
    result = { layer: udxLayer(UDX) };
  } catch (err) {
    result = { reason: (err instanceof Error ? err.message : String(err)).split('\n')[0] };
  }
  if (load === undefined) loaded = result;
  return result;
}
