// The OS socket under UdpTransport: kadscope's own binding (native/kadscope_udp.c, built by `npm ci`),
// udx-native (holepunch's libuv UDP binding, prebuilt in its registry package; what dht-rpc runs on)
// or node:dgram (always there). The transport (udp.ts) keeps everything a node relies on: address
// rules, counters, size limits, bind/close states. A layer only opens, binds, sends, receives and
// closes one socket.
//
// Which one runs: the native binding when it loads (it reads datagrams in batches and sends
// without a call back into JavaScript: the cheapest round trip of the three, README §Benchmarks);
// else udx-native, else node:dgram, with one process warning saying why. `socketLayer` (CLI
// `--transport native|udx|dgram`) picks one outright.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { DhtError } from '../errors';
import { loadNativeLayer, type NativeUdpLoader } from './native-udp';
import { loadUdxLayer, UDX_MAX_RECEIVE_BYTES, type UdxLoader } from './udx';

export type SocketLayerName = 'kadscope-native' | 'udx-native' | 'node:dgram';
/** What a user chooses: `native` (kadscope's binding), `udx` (udx-native) or `dgram` (node:dgram). */
export type SocketLayerChoice = 'native' | 'udx' | 'dgram';
export const SOCKET_LAYER_CHOICES: readonly SocketLayerChoice[] = Object.freeze(['native', 'udx', 'dgram']);

export type SocketFamily = 'udp4' | 'udp6';

/** Where a layer's socket reports to. */
export interface DatagramSink {
  /** One datagram; `data` is the receiver's own (never reused by the layer). */
  message(data: Uint8Array, address: string, port: number): void;
  /** An error from the socket after it is bound (counted by the transport, never thrown). */
  error(err: Error): void;
}

export interface DatagramSocket {
  /**
   * Binds; resolves with the bound address. Rejects with the OS error (its `code`, e.g.
   * EADDRINUSE) after the socket is released. May never settle when close() is called first.
   */
  bind(host: string, port: number): Promise<{ address: string; port: number }>;
  /**
   * Sends `data`, which the layer may hold until the OS takes it (callers hand over a copy, unless
   * the layer sendsAtOnce). With `done`, the OS's answer is reported there (only where the layer
   * reportsSendErrors). May throw.
   */
  send(data: Uint8Array, port: number, host: string, done?: (err: Error | null, bytes: number) => void): void;
  setRecvBufferSize(bytes: number): void;
  setSendBufferSize(bytes: number): void;
  /** Resolves once the OS socket is closed and the port free. Idempotent. */
  close(): Promise<void>;
}

export interface SocketLayer {
  readonly name: SocketLayerName;
  /**
   * Datagrams this long or longer may have been cut short by the layer (udx-native reads at most
   * 2,048 bytes of one); the transport drops and counts them. Infinity: never cut.
   */
  readonly maxReceiveBytes: number;
  /**
   * The largest datagram the layer sends, per family; the transport counts a larger one as a send
   * error without asking. node:dgram: the UDP limits (65,507 over IPv4, 65,527 over IPv6);
   * udx-native drops IPv6 datagrams above 65,487 without a word, so that is its IPv6 limit.
   */
  readonly maxSendBytes: Readonly<Record<SocketFamily, number>>;
  /** Whether send()'s `done` reports the OS refusing a datagram (node:dgram and the native binding do, udx-native does not). */
  readonly reportsSendErrors: boolean;
  /**
   * Whether send() is done with `data` when it returns (the native binding: the kernel took it, or
   * the binding copied it to queue), so the caller need not hand over a copy.
   */
  readonly sendsAtOnce: boolean;
  /** Sockets created and not yet closed, for leak checks. */
  readonly openSockets: number;
  create(family: SocketFamily, sink: DatagramSink): DatagramSocket;
}

// --- node:dgram --------------------------------------------------------------------------------

let dgramOpen = 0;

class DgramSocket implements DatagramSocket {
  private readonly socket: Socket;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly family: SocketFamily,
    sink: DatagramSink,
  ) {
    dgramOpen++;
    this.socket = createSocket({ type: family, lookup: this.literalLookup });
    this.socket.on('error', (err) => sink.error(err));
    this.socket.on('message', (msg: Buffer, rinfo: RemoteInfo) =>
      // A plain Uint8Array view over dgram's own per-datagram buffer: no copy, and the same type
      // the memory transport delivers.
      sink.message(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), rinfo.address, rinfo.port),
    );
  }

  private bound = false;

  /**
   * dgram resolves every destination through `lookup`, by default dns.lookup, which answers an IP
   * literal on the next tick: one deferred callback per datagram. The transport only ever hands
   * dgram IP literals, so once bound we answer at once and the datagram goes out inside send().
   * Before that (bind() resolves its address through here too) the answer stays asynchronous, as
   * dgram's bind expects.
   */
  private readonly literalLookup = (address: string, _options: unknown, callback: (err: Error | null, address: string, family: number) => void): void => {
    const family = this.family === 'udp4' ? 4 : 6;
    if (this.bound) callback(null, address, family);
    else process.nextTick(callback, null, address, family);
  };

  bind(host: string, port: number): Promise<{ address: string; port: number }> {
    const socket = this.socket;
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        socket.off('listening', onListening);
        socket.off('error', onBindError);
      };
      const onListening = (): void => {
        settle();
        this.bound = true;
        const a = socket.address();
        resolve({ address: a.address, port: a.port });
      };
      const onBindError = (err: Error): void => {
        settle();
        this.close().then(() => reject(err), () => reject(err));
      };
      socket.once('listening', onListening);
      socket.once('error', onBindError);
      try {
        socket.bind({ port, address: host });
      } catch (err) {
        onBindError(err as Error);
      }
    });
  }

  send(data: Uint8Array, port: number, host: string, done?: (err: Error | null, bytes: number) => void): void {
    if (done) this.socket.send(data, port, host, done);
    else this.socket.send(data, port, host);
  }

  setRecvBufferSize(bytes: number): void {
    this.socket.setRecvBufferSize(bytes);
  }

  setSendBufferSize(bytes: number): void {
    this.socket.setSendBufferSize(bytes);
  }

  /**
   * Resolves once libuv has released the handle, so the port is free and
   * process.getActiveResourcesInfo() no longer lists it. dgram emits 'close' on the next tick, but
   * the handle is released in the loop's close phase; two setImmediate turns always cover that
   * phase whichever phase close() ran in.
   */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const socket = this.socket;
      const finish = (): void => {
        dgramOpen--;
        socket.removeAllListeners();
        // Errors after this point (none are expected) must still never reach the process.
        socket.on('error', () => {});
        setImmediate(() => setImmediate(resolve));
      };
      socket.once('close', finish);
      try {
        socket.close();
      } catch {
        // Already closed (ERR_SOCKET_DGRAM_NOT_RUNNING): nothing left to release.
        socket.off('close', finish);
        finish();
      }
    });
    return this.closing;
  }
}

export const dgramLayer: SocketLayer = {
  name: 'node:dgram',
  maxReceiveBytes: Infinity,
  maxSendBytes: Object.freeze({ udp4: 65_507, udp6: 65_527 }),
  reportsSendErrors: true,
  sendsAtOnce: false,
  get openSockets() {
    return dgramOpen;
  },
  create: (family, sink) => new DgramSocket(family, sink),
};

// --- choosing ----------------------------------------------------------------------------------

export interface SocketLayerDeps {
  /** Loads the native binding; tests inject one that fails. Default: native/build/Release/kadscope_udp.node, once per process. */
  loadNative?: NativeUdpLoader;
  /** Loads udx-native; tests inject one that fails. Default: require('udx-native'), once per process. */
  loadUdx?: UdxLoader;
  /** Where the fallback line goes (default: one process warning per process). */
  warn?: (message: string) => void;
}

let warnedFallback = false;
const warnOnce = (message: string): void => {
  if (warnedFallback) return;
  warnedFallback = true;
  process.emitWarning(message, 'KadscopeTransportWarning');
};

/**
 * The layer for a choice: 'dgram' is node:dgram; 'native' and 'udx' are the native binding and
 * udx-native, or a clear error when that one cannot load; undefined (the default) is the first of
 * native, udx-native and node:dgram that loads, with one line saying why when it is not the first.
 *
 * `peerDatagramBytes`: the longest datagram the socket's peers may send (DhtProtocol's). udx-native
 * reads at most UDX_MAX_RECEIVE_BYTES of one and the transport drops what reaches that, so for
 * peers that send longer ones (bittorrent-dht answers up to ~3 KB) the default passes over it, and
 * an explicit 'udx' is an error rather than a node that silently loses those answers.
 */
export function selectSocketLayer(choice: SocketLayerChoice | undefined, deps: SocketLayerDeps = {}, peerDatagramBytes?: number): SocketLayer {
  if (choice === 'dgram') return dgramLayer;
  if (choice !== undefined && choice !== 'udx' && choice !== 'native') {
    throw DhtError.invalidArgument(`transport ${JSON.stringify(choice)} is not one of ${SOCKET_LAYER_CHOICES.join(', ')}`);
  }
  const udxTooShort = peerDatagramBytes !== undefined && peerDatagramBytes >= UDX_MAX_RECEIVE_BYTES;
  if (choice === 'udx' && udxTooShort) {
    throw DhtError.invalidArgument(
      `the udx transport reads at most ${UDX_MAX_RECEIVE_BYTES.toLocaleString('en-US')} bytes of a datagram and this network's peers send longer ones (up to ${peerDatagramBytes.toLocaleString('en-US')}); use --transport native or dgram`,
    );
  }
  if (choice !== 'udx') {
    const warn = deps.warn ?? warnOnce;
    const native = loadNativeLayer(deps.loadNative);
    if ('layer' in native) return native.layer;
    if (choice === 'native') {
      throw new DhtError('UNSUPPORTED', `the native transport is not available: ${native.reason}; use --transport udx or dgram`);
    }
    if (udxTooShort) {
      warn(`kadscope: the native UDP binding did not load (${native.reason}); UDP runs on node:dgram`);
      return dgramLayer;
    }
    const udx = loadUdxLayer(deps.loadUdx);
    if ('layer' in udx) {
      warn(`kadscope: the native UDP binding did not load (${native.reason}); UDP runs on udx-native`);
      return udx.layer;
    }
    warn(`kadscope: neither the native UDP binding (${native.reason}) nor udx-native (${udx.reason}) loaded; UDP runs on node:dgram`);
    return dgramLayer;
  }
  const udx = loadUdxLayer(deps.loadUdx);
  if ('layer' in udx) return udx.layer;
  throw new DhtError('UNSUPPORTED', `the udx transport is not available: udx-native did not load (${udx.reason}); use --transport native or dgram`);
}

/** The name of the layer a choice resolves to, without warning (for status lines). */
export function socketLayerName(choice: SocketLayerChoice | undefined, deps: SocketLayerDeps = {}, peerDatagramBytes?: number): SocketLayerName {
  return selectSocketLayer(choice, { ...deps, warn: () => {} }, peerDatagramBytes).name;
}
