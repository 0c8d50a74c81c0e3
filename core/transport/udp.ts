// Real UDP, IPv4 or IPv6, behind the Transport interface, over one of three socket layers
// (socket-layer.ts): kadscope's native binding when it loads, else udx-native, else node:dgram, or
// the one asked for. This is the edge
// where a node meets the OS: nothing here throws past the socket (send() counts failures, socket
// errors are counted), and close() leaves no handle behind. Address rules, size limits and counters
// live here, so both layers behave alike.
import { isIP } from 'node:net';
import { DhtError } from '../errors';
import { dgramLayer, selectSocketLayer, type DatagramSink, type DatagramSocket, type SocketLayer, type SocketLayerChoice, type SocketLayerName } from './socket-layer';
import { dispatch, IGNORE_MESSAGES, isDestinationPort, newTransportStats, type TransportStats } from './stats';
import { endpointKey, type Endpoint, type MessageHandler, type Transport } from './types';

export const UDP_DEFAULT_HOST = '127.0.0.1';
/**
 * Kernel receive buffer we ask for. A lookup fans out and the answers arrive in a burst; the Linux
 * default (~208 KiB) drops part of a flood. The kernel silently caps it at net.core.rmem_max.
 */
export const UDP_RECV_BUFFER_BYTES = 4 * 1024 * 1024;
export const UDP_SEND_BUFFER_BYTES = 1 * 1024 * 1024;

export type UdpKind = 'udp4' | 'udp6';

export interface UdpTransportDeps {
  /** The socket layer; default selectSocketLayer(options.socketLayer): the native binding, else udx-native, else node:dgram. */
  layer?: SocketLayer;
}

export interface UdpTransportOptions {
  /** IP literal to bind (IPv4 or IPv6, e.g. 127.0.0.1, 0.0.0.0, ::1, ::) or 'localhost'. Default 127.0.0.1. */
  host?: string;
  /** 0 (default) lets the OS pick a free port. */
  port?: number;
  recvBufferBytes?: number;
  sendBufferBytes?: number;
  /** 'native' (kadscope's binding), 'udx' (udx-native) or 'dgram' (node:dgram); default the first that loads, in that order. Ignored when deps.layer is given. */
  socketLayer?: SocketLayerChoice;
  /** The longest datagram peers may send (DhtProtocol.peerDatagramBytes): see selectSocketLayer. */
  peerDatagramBytes?: number;
}

export interface UdpTransportStats extends TransportStats {
  /** 'error' events from the socket after bind (e.g. a failed recvmsg); counted, never thrown. */
  socketErrors: number;
}

const V4_MAPPED_PREFIX = '::ffff:';

/**
 * The largest UDP payload the OS takes: 65,535 minus the UDP header (8) and, for IPv4, the IP
 * header (20). Larger ones fail with EMSGSIZE, which send() counts without asking the OS. A layer
 * may take less (SocketLayer.maxSendBytes: udx-native over IPv6).
 */
export const UDP_MAX_PAYLOAD_BYTES: Readonly<Record<UdpKind, number>> = dgramLayer.maxSendBytes;

type State = 'idle' | 'binding' | 'bound' | 'closed';

/**
 * The common stats and socketErrors, added as a property: a spread into a new literal gave every
 * transport's stats a hidden class (and descriptor array) of its own, ~280 bytes per node.
 */
function newUdpTransportStats(): UdpTransportStats {
  const stats = newTransportStats() as UdpTransportStats;
  stats.socketErrors = 0;
  return stats;
}

export class UdpTransport implements Transport {
  readonly kind: UdpKind;
  readonly stats: UdpTransportStats = newUdpTransportStats();
  /** The socket layer in use: 'kadscope-native', 'udx-native' or 'node:dgram'. */
  readonly socketLayer: SocketLayerName;

  private readonly layer: SocketLayer;
  private readonly host: string;
  private readonly port: number;
  private readonly recvBufferBytes: number;
  private readonly sendBufferBytes: number;
  private readonly maxPayload: number;
  private readonly maxReceive: number;
  /** The layer is done with a datagram's bytes when send() returns, so they go without a copy. */
  private readonly sendsAtOnce: boolean;
  /** A udp6 socket bound to :: reaches IPv4 peers (IPv4-mapped); one bound to any other address cannot. */
  private readonly dualStack: boolean;
  private state: State = 'idle';
  private socket: DatagramSocket | undefined;
  private bound: Endpoint | undefined;
  private handler: MessageHandler = IGNORE_MESSAGES;
  private bindPromise: Promise<Endpoint> | undefined;
  /** Rejects the bind in progress; close() calls it because the layer may then never settle its bind. */
  private abortBind: ((err: Error) => void) | undefined;
  private closePromise: Promise<void> | undefined;
  /** The last destination host and what destinationHost() made of it (a testnet sends to one host). */
  private lastHost: string | undefined;
  private lastDestination: string | undefined;

  /** Whether the last destination is one the OS may refuse on this socket (see send()). */
  private lastChecked = false;

  // Bound once, so the per-datagram paths allocate no closures. Bound methods, not arrow-function
  // fields: a loader that keeps function names (tsx, esbuild's keepNames) redefines each arrow's
  // name, which gives it a property dictionary of ~256 bytes: ~1 KB per node in a testnet's process.
  private readonly onSendDone = this.sendDone.bind(this);
  private readonly sink: DatagramSink = { message: this.received.bind(this), error: this.socketError.bind(this) };
  private readonly label = this.describe.bind(this);

  constructor(deps: UdpTransportDeps = {}, options: UdpTransportOptions = {}) {
    const { host, kind } = bindHost(options.host ?? UDP_DEFAULT_HOST);
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw DhtError.invalidArgument(`UDP port ${String(port)} is not valid; use 0 (any free port) or 1-65535`);
    }
    this.host = host;
    this.kind = kind;
    this.dualStack = kind === 'udp6' && isUnspecified6(host);
        this.port = port;
    this.recvBufferBytes = positiveOr(options.recvBufferBytes, UDP_RECV_BUFFER_BYTES, 'recvBufferBytes');
    this.sendBufferBytes = positiveOr(options.sendBufferBytes, UDP_SEND_BUFFER_BYTES, 'sendBufferBytes');
    this.layer = deps.layer ?? selectSocketLayer(options.socketLayer, {}, options.peerDatagramBytes);
    this.socketLayer = this.layer.name;
    this.maxReceive = this.layer.maxReceiveBytes;
    this.sendsAtOnce = this.layer.sendsAtOnce;
    this.maxPayload = this.layer.maxSendBytes[kind];
  }

  get address(): Endpoint {
    if (!this.bound) throw new DhtError('NOT_STARTED', `the ${this.kind} transport is not bound; await bind() first`);
    return this.bound;
  }

  /** A second socket on the host this one binds, on a free port (a reachability probe's). */
  sibling(): UdpTransport {
    return new UdpTransport({ layer: this.layer }, { host: this.host, port: 0 });
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  /** Resolves with the address actually bound. Calling it again returns the same promise. */
  bind(): Promise<Endpoint> {
    if (this.state === 'closed') {
      return Promise.reject(new DhtError('STOPPED', `the ${this.kind} transport is closed; create a new one to bind again`));
    }
    this.bindPromise ??= this.openSocket();
    return this.bindPromise;
  }

  /**
   * Fire and forget; never throws. The bytes are copied first, unless the layer sendsAtOnce (the
   * native binding): when the socket's send queue is full a layer sends later and reads the buffer
   * then, and callers reuse their encode buffers.
   *
   * Most datagrams go without a completion callback: with one, dgram defers a callback per datagram
   * (process.nextTick even when the kernel took it at once), about 1 us of CPU each. Without one,
   * the layer reports nothing about the OS's answer, so a datagram counts as sent once the layer
   * accepts it, and sendErrors counts what the OS would refuse that we can tell beforehand: no
   * socket, a destination this socket cannot reach (an IPv4 peer from a udp6 socket not bound to
   * ::), a datagram too large for UDP. The one destination the OS may still refuse after those
   * checks, an IPv4-mapped address from a dual-stack socket, goes with the callback where the layer
   * reports refusals (node:dgram), so that refusal is counted too. Other OS refusals (no route, a
   * firewall) are not visible to send(); those peers simply never answer.
   */
  send(data: Uint8Array, to: Endpoint): void {
    const socket = this.socket;
    const host = this.state === 'bound' && to != null ? this.destinationHost(to) : undefined;
    const length = data.byteLength;
    if (socket === undefined || host === undefined || !isDestinationPort(to.port) || length > this.maxPayload) {
      this.stats.sendErrors++;
      return;
    }
    try {
      const bytes = this.sendsAtOnce ? data : Buffer.from(data);
      if (this.lastChecked) {
        socket.send(bytes, to.port, host, this.onSendDone);
      } else {
        socket.send(bytes, to.port, host);
        this.stats.sent++;
        this.stats.bytesSent += length;
      }
    } catch {
      // Synchronous refusals (e.g. the socket closed under us).
      this.stats.sendErrors++;
    }
  }

  /** Idempotent. Resolves once the OS socket is closed and its handle released. */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    const socket = this.socket;
    this.state = 'closed';
    this.socket = undefined;
    this.handler = IGNORE_MESSAGES;
    this.abortBind?.(new DhtError('STOPPED', `the ${this.kind} transport was closed while binding ${this.host}:${this.port}`));
    this.closePromise = socket ? socket.close() : Promise.resolve();
    return this.closePromise;
  }

  private openSocket(): Promise<Endpoint> {
    this.state = 'binding';
    const socket = this.layer.create(this.kind, this.sink);
    this.socket = socket;
    return new Promise<Endpoint>((resolve, reject) => {
      this.abortBind = (err) => {
        this.abortBind = undefined;
        this.bindPromise = undefined;
        reject(err);
      };
      socket.bind(this.host, this.port).then(
        (a) => {
          if (this.state !== 'binding') return; // closed meanwhile: close() rejected the bind and closes the socket
          this.abortBind = undefined;
          this.tuneBuffers(socket);
          this.bound = Object.freeze({ host: stripZone(a.address), port: a.port });
          this.state = 'bound';
          resolve(this.bound);
        },
        (err: NodeJS.ErrnoException) => {
          if (this.state !== 'binding') return;
          this.abortBind = undefined;
          // Back to idle so a later bind() may retry; the layer released the failed socket already.
          this.socket = undefined;
          this.bindPromise = undefined;
          this.state = 'idle';
          const what = `${this.kind} ${endpointKey({ host: this.host, port: this.port })}`;
          reject(new DhtError('BIND_FAILED', `cannot bind UDP ${what}: ${err.code ?? 'error'} (${err.message})`, { cause: err }));
        },
      );
    });
  }

  private sendDone(err: Error | null, bytes: number): void {
    if (err) {
      this.stats.sendErrors++;
    } else {
      this.stats.sent++;
      this.stats.bytesSent += bytes;
    }
  }

  private received(data: Uint8Array, address: string, port: number): void {
    if (data.byteLength >= this.maxReceive) {
      this.stats.truncated++;
      return;
    }
    dispatch(this.handler, data, { host: peerHost(address), port }, this.stats, this.label);
  }

  private socketError(): void {
    // Before the bind settles the layer reports the error to bind(); afterwards it is only counted.
    if (this.state === 'bound') this.stats.socketErrors++;
  }

  private describe(): string {
    return `kadscope ${this.kind} transport (${this.socketLayer}) ${this.bound ? endpointKey(this.bound) : `${this.host}:${this.port}`}`;
  }

  private tuneBuffers(socket: DatagramSocket): void {
    // Best effort: a refused size leaves the OS default, which still works, only drops sooner.
    try {
      socket.setRecvBufferSize(this.recvBufferBytes);
    } catch {
      /* keep the default */
    }
    try {
      socket.setSendBufferSize(this.sendBufferBytes);
    } catch {
      /* keep the default */
    }
  }

  /** The host string to hand the layer, or undefined when this socket cannot reach `to`. */
  private destinationHost(to: Endpoint): string | undefined {
    const host = to.host;
    if (typeof host !== 'string') return undefined;
    if (host === this.lastHost) return this.lastDestination;
    const destination = this.resolveHost(host);
    this.lastHost = host;
    this.lastDestination = destination;
    // On a udp6 socket the destination differs from the host only for an IPv4 peer (IPv4-mapped).
    this.lastChecked = this.layer.reportsSendErrors && this.kind === 'udp6' && destination !== undefined && destination !== host;
    return destination;
  }

  private resolveHost(host: string): string | undefined {
    // Only IP literals: a host name would start a DNS lookup per datagram.
    const family = isIP(host);
    if (this.kind === 'udp4') {
      if (family === 4) return host;
      if (family === 6) {
        const v4 = unmapV4(host);
        return v4 === host ? undefined : v4;
      }
      return undefined;
    }
    if (family === 6) return host;
    // A dual-stack socket (bound to ::) reaches IPv4 peers through IPv4-mapped addresses; a udp6
    // socket bound to any other address cannot (the OS refuses with ENETUNREACH), so that is
    // counted here, the same on every layer.
    if (family === 4) return this.dualStack ? V4_MAPPED_PREFIX + host : undefined;
    return undefined;
  }
}

/** '::' in any spelling (all groups zero). */
function isUnspecified6(host: string): boolean {
  return /^[0:]+$/.test(host);
}

/** Chooses the socket family from the bind host. Only IP literals (and 'localhost') are accepted. */
function bindHost(input: string): { host: string; kind: UdpKind } {
  const trimmed = typeof input === 'string' ? input.trim() : '';
  const host = trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed;
  // 'localhost' may resolve to ::1 or 127.0.0.1 depending on the machine; pin it to the address a
  // user most likely means, so the transport's family never depends on /etc/hosts.
  if (host.toLowerCase() === 'localhost') return { host: '127.0.0.1', kind: 'udp4' };
  const family = isIP(host);
  if (family === 4) return { host, kind: 'udp4' };
  if (family === 6) return { host, kind: 'udp6' };
  throw DhtError.invalidArgument(
    `UDP bind host ${JSON.stringify(input)} is not an IP address; use an IPv4 or IPv6 literal such as 127.0.0.1, 0.0.0.0, ::1 or ::`,
  );
}

function positiveOr(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw DhtError.invalidArgument(`${name} must be a positive integer number of bytes; got ${String(value)}`);
  return value;
}

/** How a peer's address is reported: no IPv6 zone, IPv4-mapped addresses as plain IPv4. */
function peerHost(address: string): string {
  if (!address.includes(':')) return address;
  return unmapV4(stripZone(address));
}

function stripZone(address: string): string {
  const zone = address.indexOf('%');
  return zone < 0 ? address : address.slice(0, zone);
}

function unmapV4(address: string): string {
  if (address.length > V4_MAPPED_PREFIX.length && address.slice(0, V4_MAPPED_PREFIX.length).toLowerCase() === V4_MAPPED_PREFIX) {
    const v4 = address.slice(V4_MAPPED_PREFIX.length);
    if (isIP(v4) === 4) return v4;
  }
  return address;
}
