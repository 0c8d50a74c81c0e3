// kadscope's own UDP binding as a socket layer (socket-layer.ts): native/kadscope_udp.c, a libuv
// UDP handle on the process's event loop through N-API, built from source by `npm ci` (node-gyp,
// against the headers of the Node that runs it; native/build.mjs). Loaded on first use, once per
// process; when it is not built or cannot load, the caller falls back to udx-native, then node:dgram.
//
// What it does that the other two do not (the ping workload pays for each datagram's way in and
// out of JavaScript, README §Benchmarks):
// - Datagrams arrive in batches: libuv reads with recvmmsg (up to 20 per system call), the binding
//   copies them into one inbox shared with JavaScript (`inbox` bytes, `meta` eight int32s per
//   datagram: offset, length, port, family, then the sender's address bytes) and calls in once per
//   read. The addresses are formatted here, by the codecs' formatters and their host cache. Here each
//   datagram is copied out of the inbox before the sink sees it, so nothing keeps a view of it.
// - A send returns the kernel's answer at once (uv_udp_try_send): bytes, or a libuv error, which
//   send() throws and the transport counts. When the kernel's buffer is full the binding copies the
//   datagram and queues it; that completion never calls JavaScript. So send() is done with the
//   caller's bytes when it returns, and the transport hands them over without a copy.
// - Nothing is cut: each receive slot is 64 KiB, more than any UDP payload.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatIPv4, formatIPv6 } from '../wire/compact';
import type { DatagramSink, DatagramSocket, SocketFamily, SocketLayer } from './socket-layer';

/** An opened socket of the binding (an N-API external). */
export type NativeHandle = { readonly __nativeUdp: unique symbol };

/** native/kadscope_udp.c's exports. */
export interface NativeUdpBinding {
  create(
    ipv6: boolean,
    onBatch: (count: number) => void,
    onError: (code: string, message: string) => void,
    onClose: () => void,
  ): NativeHandle;
  /** Returns the bound [address, port]; throws an Error whose code is libuv's (EADDRINUSE, EADDRNOTAVAIL, ...). */
  bind(socket: NativeHandle, host: string, port: number): [string, number];
  /** Bytes the kernel took (or queued), or a negative libuv error. */
  send(socket: NativeHandle, data: Uint8Array, port: number, host: string): number;
  setBufferSize(socket: NativeHandle, receive: boolean, bytes: number): void;
  close(socket: NativeHandle): void;
  /** Whether libuv reads this socket with recvmmsg. */
  usingRecvmmsg(socket: NativeHandle): boolean;
  /** libuv's name of a negative error code (EACCES, ENETUNREACH, ...). */
  errorName(code: number): string;
  /** The bound [address, port] (port 0 before bind); throws EBADF once closed. */
  address(socket: NativeHandle): [string, number];
  readonly inbox: Uint8Array;
  readonly meta: Int32Array;
  readonly metaFields: number;
  readonly maxDatagramBytes: number;
}

/** Returns the binding, or throws why it cannot. */
export type NativeUdpLoader = () => NativeUdpBinding;

/**
 * Where `npm ci` builds the binding (native/build.mjs): two folders up from this file in
 * core/transport and from the bundle in out/main alike. A file path (a URL's pathname would keep
 * %20 for a space), joined rather than `new URL(…, import.meta.url)`, which bundlers take for an
 * asset to copy.
 */
export const NATIVE_UDP_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'native', 'build', 'Release', 'kadscope_udp.node');

const requireNative: NativeUdpLoader = () => createRequire(import.meta.url)(NATIVE_UDP_PATH) as NativeUdpBinding;

/** libuv error names as Node's errors carry them: an Error with `code` and `errno`-like text. */
function uvError(code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(message);
  err.code = code;
  return err;
}

/** The negative libuv error a send returned, as an Error (uncommon: no route, a refused address such as a broadcast one). */
function sendError(binding: NativeUdpBinding, rc: number): NodeJS.ErrnoException {
  const code = binding.errorName(rc);
  return uvError(code, `send ${code}`);
}

let openSockets = 0;

class NativeSocket implements DatagramSocket {
  private readonly handle: NativeHandle;
  private closing: Promise<void> | undefined;
  private resolveClose: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly binding: NativeUdpBinding,
    family: SocketFamily,
    sink: DatagramSink,
  ) {
    const { inbox, meta, metaFields } = binding;
    const addressBytes = new Uint8Array(meta.buffer, meta.byteOffset, meta.byteLength);
    const onBatch = (count: number): void => {
      // A handler may close this socket part way through a batch: the rest is not delivered.
      for (let i = 0, m = 0; i < count && this.closing === undefined; i++, m += metaFields) {
        const offset = meta[m];
        const at = (m + 4) * 4; // the address bytes, after four int32s
        const host = meta[m + 3] === 4 ? formatIPv4(addressBytes, at) : formatIPv6(addressBytes, at);
        sink.message(inbox.slice(offset, offset + meta[m + 1]), host, meta[m + 2]);
      }
    };
    const onClose = (): void => {
      this.closed = true;
      openSockets--;
      this.resolveClose?.();
    };
    this.handle = binding.create(family === 'udp6', onBatch, (code, message) => sink.error(uvError(code, message)), onClose);
    openSockets++;
  }

  bind(host: string, port: number): Promise<{ address: string; port: number }> {
    try {
      const [address, bound] = this.binding.bind(this.handle, host, port);
      return Promise.resolve({ address, port: bound });
    } catch (err) {
      return this.close().then(() => Promise.reject(err as Error));
    }
  }

  send(data: Uint8Array, port: number, host: string, done?: (err: Error | null, bytes: number) => void): void {
    const rc = this.binding.send(this.handle, data, port, host);
    if (done !== undefined) done(rc < 0 ? sendError(this.binding, rc) : null, rc < 0 ? 0 : rc);
    else if (rc < 0) throw sendError(this.binding, rc);
  }

  setRecvBufferSize(bytes: number): void {
    this.binding.setBufferSize(this.handle, true, bytes);
  }

  setSendBufferSize(bytes: number): void {
    this.binding.setBufferSize(this.handle, false, bytes);
  }

  close(): Promise<void> {
    this.closing ??= this.closed
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.resolveClose = resolve;
          this.binding.close(this.handle);
        });
    return this.closing;
  }
}

function nativeLayer(binding: NativeUdpBinding): SocketLayer {
  return {
    name: 'kadscope-native',
    maxReceiveBytes: Infinity,
    maxSendBytes: Object.freeze({ udp4: 65_507, udp6: 65_527 }),
    reportsSendErrors: true,
    sendsAtOnce: true,
    get openSockets() {
      return openSockets;
    },
    create: (family: SocketFamily, sink: DatagramSink) => new NativeSocket(binding, family, sink),
  };
}

let loaded: { layer: SocketLayer } | { reason: string } | undefined;

/**
 * The binding as a layer, or why it did not load. The default loader's answer is kept for the
 * process; an injected loader (tests) is asked every time.
 */
export function loadNativeLayer(load?: NativeUdpLoader): { layer: SocketLayer } | { reason: string } {
  if (load === undefined && loaded !== undefined) return loaded;
  let result: { layer: SocketLayer } | { reason: string };
  try {
    const binding = (load ?? requireNative)();
    if (typeof binding?.create !== 'function' || typeof binding.errorName !== 'function' || !(binding.inbox instanceof Uint8Array) || !(binding.meta instanceof Int32Array)) {
      throw new Error('the kadscope UDP binding exports no socket API');
    }
    result = { layer: nativeLayer(binding) };
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    result = { reason: /Cannot find module|ENOENT/.test(message) ? `native/build/Release/kadscope_udp.node is not built (npm ci builds it; see native/build.mjs)` : message };
  }
  if (load === undefined) loaded = result;
  return result;
}
