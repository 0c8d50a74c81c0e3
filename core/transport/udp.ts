// Real UDP over node:dgram, IPv4 or IPv6, behind the Transport interface. This is the edge where a
// node meets the OS: nothing here throws past the socket (send() counts failures, socket errors
// are counted), and close() leaves no handle behind.
import { createSocket, type RemoteInfo, type Socket, type SocketOptions } from 'node:dgram';
import { isIP } from 'node:net';
import { DhtError } from '../errors';
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

/** No collaborators yet; kept so the constructor has the (deps, options) shape of every core class. */
export type UdpTransportDeps = Record<string, never>;

export interface UdpTransportOptions {
  /** IP literal to bind (IPv4 or IPv6, e.g. 127.0.0.1, 0.0.0.0, ::1, ::) or 'localhost'. Default 127.0.0.1. */
  host?: string;
  /** 0 (default) lets the OS pick a free port. */
  port?: number;
  recvBufferBytes?: number;
  sendBufferBytes?: number;
}

export interface UdpTransportStats extends TransportStats {
  /** 'error' events from the socket after bind (e.g. a failed recvmsg); counted, never thrown. */
  socketErrors: number;
}

const V4_MAPPED_PREFIX = '::ffff:';

/**
 * The largest UDP payload the OS takes: 65,535 minus the UDP header (8) and, for IPv4, the IP
 * header (20). Larger ones fail with EMSGSIZE, which send() counts without asking the OS.
 */
export const UDP_MAX_PAYLOAD_BYTES: Readonly<Record<UdpKind, number>> = Object.freeze({ udp4: 65_507, udp6: 65_527 });

type State = 'idle' | 'binding' | 'bound' | 'closed';

export class UdpTransport implements Transport {
  readonly kind: UdpKind;
  readonly stats: UdpTransportStats = { ...newTransportStats(), socketErrors: 0 };

  private readonly host: string;
  private readonly port: number;
  private readonly recvBufferBytes: number;
  private readonly sendBufferBytes: number;
  private readonly maxPayload: number;
  private state: State = 'idle';
  private socket: Socket | undefined;
  private bound: Endpoint | undefined;
  private handler: MessageHandler = IGNORE_MESSAGES;
  private bindPromise: Promise<Endpoint> | undefined;
  /** Rejects the bind in progress; close() calls it because dgram then emits neither 'listening' nor 'error'. */
  private abortBind: ((err: Error) => void) | undefined;
  private closePromise: Promise<void> | undefined;
  /** The last destination host and what destinationHost() made of it (a testnet sends to one host). */
  private lastHost: string | undefined;
  private lastDestination: string | undefined;

  /** Whether the last destination is one the OS may refuse on this socket (see send()). */
  private lastChecked = false;

  // Bound once, so the per-datagram paths allocate no closures.
  private readonly onSendDone = (err: Error | null, bytes: number): void => {
    if (err) {
      this.stats.sendErrors++;
    } else {
      this.stats.sent++;
      this.stats.bytesSent += bytes;
    }
  };

  private readonly onDatagram = (msg: Buffer, rinfo: RemoteInfo): void => {
    // A plain Uint8Array view over dgram's own per-datagram buffer: no copy, and the same type the
    // memory transport delivers (Buffer#slice is a view where Uint8Array#slice copies).
    const data = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
    dispatch(this.handler, data, { host: peerHost(rinfo.address), port: rinfo.port }, this.stats, this.label);
  };

  private readonly onSocketError = (_err: Error): void => {
    // Before 'listening' the bind listener reports the error; afterwards it is only counted.
    if (this.state === 'bound') this.stats.socketErrors++;
  };

  /**
   * dgram resolves every destination through `lookup`, by default dns.lookup, which answers an IP
   * literal on the next tick: one deferred callback per datagram. destinationHost() only ever hands
   * dgram IP literals, so once bound we answer at once and the datagram goes out inside send().
   * Before that (bind() resolves its address through here too) the answer stays asynchronous, as
   * dgram's bind expects.
   */
  private readonly literalLookup: NonNullable<SocketOptions['lookup']> = (address, _options, callback) => {
    const family = this.kind === 'udp4' ? 4 : 6;
    if (this.state === 'bound') callback(null, address, family);
    else process.nextTick(callback, null, address, family);
  };

  private readonly label = (): string => `kadscope ${this.kind} transport ${this.bound ? endpointKey(this.bound) : `${this.host}:${this.port}`}`;

  constructor(_deps: UdpTransportDeps = {}, options: UdpTransportOptions = {}) {
    const { host, kind } = bindHost(options.host ?? UDP_DEFAULT_HOST);
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw DhtError.invalidArgument(`UDP port ${String(port)} is not valid; use 0 (any free port) or 1-65535`);
    }
    this.host = host;
    this.kind = kind;
    this.maxPayload = UDP_MAX_PAYLOAD_BYTES[kind];
    this.port = port;
    this.recvBufferBytes = positiveOr(options.recvBufferBytes, UDP_RECV_BUFFER_BYTES, 'recvBufferBytes');
    this.sendBufferBytes = positiveOr(options.sendBufferBytes, UDP_SEND_BUFFER_BYTES, 'sendBufferBytes');
  }

  get address(): Endpoint {
    if (!this.bound) throw new DhtError('NOT_STARTED', `the ${this.kind} transport is not bound; await bind() first`);
    return this.bound;
  }

  /** A second socket on the host this one binds, on a free port (a reachability probe's). */
  sibling(): UdpTransport {
    return new UdpTransport({}, { host: this.host, port: 0 });
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
   * Fire and forget; never throws. The bytes are copied first: when the socket's send queue is full
   * libuv falls back to an asynchronous send that reads the buffer later, and callers reuse their
   * encode buffers.
   *
   * Most datagrams go without a completion callback: with one, dgram defers a callback per datagram
   * (process.nextTick even when the kernel took it at once), about 1 us of CPU each. Without one,
   * dgram reports nothing about the OS's answer, so a datagram counts as sent once dgram accepts
   * it, and sendErrors counts what the OS would refuse that we can tell beforehand: no socket, a
   * destination this socket cannot reach, a datagram too large for UDP. The one destination the OS
   * may refuse after those checks, an IPv4-mapped address from an IPv6 socket (only a dual-stack
   * socket reaches it), still goes with the callback, so that refusal is counted too. Other OS
   * refusals (no route, a firewall) are not visible to send(); those peers simply never answer.
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
      if (this.lastChecked) {
        socket.send(Buffer.from(data), to.port, host, this.onSendDone);
      } else {
        socket.send(Buffer.from(data), to.port, host);
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
    this.closePromise = socket ? closeSocket(socket) : Promise.resolve();
    return this.closePromise;
  }

  private openSocket(): Promise<Endpoint> {
    this.state = 'binding';
    const socket = createSocket({ type: this.kind, lookup: this.literalLookup });
    this.socket = socket;
    socket.on('error', this.onSocketError);
    socket.on('message', this.onDatagram);
    return new Promise<Endpoint>((resolve, reject) => {
      const settle = (): void => {
        socket.off('listening', onListening);
        socket.off('error', onBindError);
        this.abortBind = undefined;
      };
      const onListening = (): void => {
        settle();
        this.tuneBuffers(socket);
        const a = socket.address();
        this.bound = Object.freeze({ host: stripZone(a.address), port: a.port });
        this.state = 'bound';
        resolve(this.bound);
      };
      const onBindError = (err: NodeJS.ErrnoException): void => {
        settle();
        // Back to idle so a later bind() may retry; the failed socket is fully released first.
        this.socket = undefined;
        this.bindPromise = undefined;
        this.state = 'idle';
        const what = `${this.kind} ${endpointKey({ host: this.host, port: this.port })}`;
        const error = new DhtError('BIND_FAILED', `cannot bind UDP ${what}: ${err.code ?? 'error'} (${err.message})`, { cause: err });
        closeSocket(socket).then(() => reject(error), () => reject(error));
      };
      this.abortBind = (err) => {
        settle();
        this.bindPromise = undefined;
        reject(err);
      };
      socket.once('listening', onListening);
      socket.once('error', onBindError);
      try {
        socket.bind({ port: this.port, address: this.host });
      } catch (err) {
        onBindError(err as NodeJS.ErrnoException);
      }
    });
  }

  private tuneBuffers(socket: Socket): void {
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

  /** The host string to hand dgram, or undefined when this socket cannot reach `to`. */
  private destinationHost(to: Endpoint): string | undefined {
    const host = to.host;
    if (typeof host !== 'string') return undefined;
    if (host === this.lastHost) return this.lastDestination;
    const destination = this.resolveHost(host);
    this.lastHost = host;
    this.lastDestination = destination;
    // On a udp6 socket the destination differs from the host only for an IPv4 peer (IPv4-mapped).
    this.lastChecked = this.kind === 'udp6' && destination !== undefined && destination !== host;
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
    // A dual-stack socket (bound to ::) reaches IPv4 peers through IPv4-mapped addresses; any other
    // udp6 socket gets an OS error for this, which onSendDone counts (send() asks for the callback
    // whenever the destination differs from the host it was given).
    if (family === 4) return V4_MAPPED_PREFIX + host;
    return undefined;
  }
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

/**
 * Closes a dgram socket and resolves once libuv has released the handle, so the port is free and
 * process.getActiveResourcesInfo() no longer lists it. dgram emits 'close' on the next tick, but
 * the handle is released in the loop's close phase; two setImmediate turns always cover that phase
 * whichever phase close() ran in.
 */
function closeSocket(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    const finish = (): void => {
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
}
