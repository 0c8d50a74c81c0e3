// Counts the datagrams a node sends, the same way for every system: by wrapping the send methods of
// the UDP socket layers in play (kadscope's native binding, kadscope's default; node:dgram, used by
// bittorrent-dht and by kadscope when asked; udx-native, used by dht-rpc and by kadscope when asked)
// and attributing each send to the local port of the socket it leaves.
// A lookup's message count is then what left the asking node's sockets while it ran, classified as
// request or not by each system's own message format after the window closes (so the tap adds only
// a small copy to the timed path, alike for all systems).
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { NATIVE_UDP_PATH, type NativeHandle, type NativeUdpBinding } from '../../core/transport/native-udp';

/** At most this many datagrams are kept per window; beyond it they are only counted. */
const MAX_CAPTURED_PER_WINDOW = 10_000;

export interface TapWindow {
  /** Stops capturing and returns what was sent on the window's ports while it was open. */
  close(): { datagrams: Uint8Array[]; total: number };
}

interface OpenWindow {
  datagrams: Uint8Array[];
  total: number;
}

type SendFn = (this: unknown, ...args: unknown[]) => unknown;

class DatagramTap {
  private readonly windows = new Map<number, OpenWindow>();
  /** Local port of each socket seen, computed once (a dgram address() is a syscall). */
  private readonly portOf = new WeakMap<object, number>();
  private installed = false;
  private udxPatched = false;

  install(): void {
    if (this.installed) return;
    this.installed = true;
    this.wrap(dgram.Socket.prototype as unknown as Record<string, SendFn>, 'send', (sock) => {
      try {
        return (sock as dgram.Socket).address().port;
      } catch {
        return 0; // not bound yet: nothing we count can have come from it
      }
    });
    this.udxPatched = this.patchUdx();
    this.patchNative();
  }

  /** Whether dht-rpc's socket class (udx-native) is being tapped too. */
  get udxTapped(): boolean {
    return this.udxPatched;
  }

  open(ports: readonly number[]): TapWindow {
    this.install();
    const w: OpenWindow = { datagrams: [], total: 0 };
    for (const p of ports) {
      if (this.windows.has(p)) throw new Error(`a tap window is already open on port ${p}`);
    }
    for (const p of ports) this.windows.set(p, w);
    return {
      close: () => {
        for (const p of ports) if (this.windows.get(p) === w) this.windows.delete(p);
        return { datagrams: w.datagrams, total: w.total };
      },
    };
  }

  private record(sock: object, msg: unknown, port: (s: object) => number): void {
    if (this.windows.size === 0) return;
    let p = this.portOf.get(sock);
    if (p === undefined || p === 0) {
      p = port(sock);
      if (p !== 0) this.portOf.set(sock, p);
    }
    const w = this.windows.get(p);
    if (!w) return;
    w.total++;
    if (w.datagrams.length < MAX_CAPTURED_PER_WINDOW) w.datagrams.push(copyPayload(msg));
  }

  private wrap(proto: Record<string, SendFn>, method: string, port: (s: object) => number): void {
    const original = proto[method];
    if (typeof original !== 'function') throw new Error(`cannot tap ${method}: not a function`);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const tap = this;
    proto[method] = function tapped(this: unknown, ...args: unknown[]): unknown {
      tap.record(this as object, args[0], port);
      return original.apply(this, args);
    };
  }

  /**
   * The native binding's send(socket, data, port, host) is a function on its exports, which every
   * socket of the process calls through that object (core/transport/native-udp.ts): wrapped there,
   * with the socket's handle (an object) standing for the socket. Nothing to wrap where it is not
   * built; the workloads then fail on a lookup or put that left nothing on the tap.
   */
  private patchNative(): void {
    let binding: NativeUdpBinding;
    try {
      binding = createRequire(import.meta.url)(NATIVE_UDP_PATH) as NativeUdpBinding;
    } catch {
      return;
    }
    const original = binding.send;
    const port = (h: object): number => {
      try {
        return binding.address(h as NativeHandle)[1];
      } catch {
        return 0;
      }
    };
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const tap = this;
    (binding as { send: NativeUdpBinding['send'] }).send = function tapped(socket, data, toPort, host) {
      tap.record(socket as object, data, port);
      return original.call(binding, socket, data, toPort, host);
    };
  }

  private patchUdx(): boolean {
    try {
      // The copy of udx-native that dht-rpc itself loads.
      const fromDhtRpc = createRequire(createRequire(import.meta.url).resolve('dht-rpc'));
      const UDXSocket = fromDhtRpc('udx-native/lib/socket.js') as { prototype: Record<string, SendFn> };
      const port = (s: object): number => (s as { address(): { port: number } | null }).address()?.port ?? 0;
      this.wrap(UDXSocket.prototype, 'trySend', port);
      this.wrap(UDXSocket.prototype, 'send', port);
      return true;
    } catch {
      return false;
    }
  }
}

function copyPayload(msg: unknown): Uint8Array {
  if (msg instanceof Uint8Array) return Uint8Array.prototype.slice.call(msg);
  if (typeof msg === 'string') return Buffer.from(msg);
  if (Array.isArray(msg)) return Buffer.concat(msg.map((m) => (typeof m === 'string' ? Buffer.from(m) : (m as Uint8Array))));
  if (msg instanceof DataView) return new Uint8Array(msg.buffer.slice(msg.byteOffset, msg.byteOffset + msg.byteLength));
  return new Uint8Array(0);
}

/** The process-wide tap (the socket classes are process-wide too). */
export const datagramTap = new DatagramTap();
