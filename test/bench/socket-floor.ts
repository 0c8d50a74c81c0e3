// The socket floor under the ping workload: how many request/response round trips a system's UDP
// layer carries between two sockets on 127.0.0.1 when no protocol runs at all (a fixed 60-byte
// datagram echoed back, the same count and the same number in flight as the ping bursts). A
// system's ping rate can only approach this; the gap between the two, in microseconds per ping, is
// what its protocol costs (encode, decode, routing table, request bookkeeping).
//
// Layers: kadscope's native binding (kadscope's default), node:dgram (kadscope when asked, and
// bittorrent-dht through k-rpc-socket) and udx-native (dht-rpc, and kadscope when asked). Each is
// driven the way its system drives it: the native layer's batches in and try-sends out,
// dgram.send() with an IP literal (kadscope's transport answers dgram's address lookup at once,
// core/transport/udp.ts) and no send callback, udx's trySend().
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { loadNativeLayer } from '../../core/transport/native-udp';

export type SocketLayer = 'node:dgram' | 'udx-native' | 'kadscope-native';

const HOST = '127.0.0.1';
const DATAGRAM_BYTES = 60;
/** A burst that has not finished in this long is reported as failed (the loop is bounded). */
const BURST_TIMEOUT_MS = 60_000;

/** Two sockets that echo: `a` sends, `b` answers each datagram to its sender. */
interface EchoPair {
  /** Sends one datagram from a to b. */
  send(): void;
  onAnswer(fn: () => void): void;
  close(): Promise<void>;
}

async function dgramPair(): Promise<EchoPair> {
  const lookup = (address: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void =>
    cb(null, address, 4);
  const a = dgram.createSocket({ type: 'udp4', lookup });
  const b = dgram.createSocket({ type: 'udp4', lookup });
  await Promise.all([new Promise<void>((r) => a.bind(0, HOST, r)), new Promise<void>((r) => b.bind(0, HOST, r))]);
  const portB = b.address().port;
  b.on('message', (m, rinfo) => b.send(Buffer.from(m), rinfo.port, HOST));
  return echoPair(
    (msg) => a.send(Buffer.from(msg), portB, HOST),
    (fn) => a.on('message', fn),
    async () => {
      await Promise.all([new Promise<void>((r) => a.close(() => r())), new Promise<void>((r) => b.close(() => r()))]);
    },
  );
}

/** The sending side's bookkeeping, the same for every layer. */
function echoPair(send: (msg: Buffer) => void, listen: (fn: () => void) => void, close: () => Promise<void>): EchoPair {
  const msg = Buffer.alloc(DATAGRAM_BYTES, 7);
  let answer = (): void => {};
  listen(() => answer());
  return {
    send: () => send(msg),
    onAnswer: (fn) => {
      answer = fn;
    },
    close,
  };
}

interface UdxSocket {
  bind(port: number, host: string): void;
  address(): { port: number };
  on(event: 'message', fn: (buf: Buffer, rinfo: { port: number; host: string }) => void): void;
  trySend(buf: Buffer, port: number, host: string): void;
  close(): Promise<void>;
}

async function udxPair(): Promise<EchoPair> {
  // udx-native comes with dht-rpc (a devDependency); loaded only when this layer is measured.
  const UDX = createRequire(import.meta.url)('udx-native') as new () => { createSocket(): UdxSocket };
  const udx = new UDX();
  const a = udx.createSocket();
  const b = udx.createSocket();
  a.bind(0, HOST);
  b.bind(0, HOST);
  const portB = b.address().port;
  b.on('message', (m, rinfo) => b.trySend(m, rinfo.port, HOST));
  return echoPair(
    (msg) => a.trySend(Buffer.from(msg), portB, HOST),
    (fn) => a.on('message', fn),
    async () => {
      await Promise.all([a.close(), b.close()]);
    },
  );
}

/** kadscope's own binding (native/kadscope_udp.c), driven as its socket layer drives it: batches in, try-sends out. */
async function nativePair(): Promise<EchoPair> {
  const loaded = loadNativeLayer();
  if (!('layer' in loaded)) throw new Error(`kadscope-native: ${loaded.reason}`);
  let answer = (): void => {};
  const noError = (): void => {};
  const a = loaded.layer.create('udp4', { message: () => answer(), error: noError });
  const b = loaded.layer.create('udp4', { message: (m, _host, port) => b.send(m, port, HOST), error: noError });
  await a.bind(HOST, 0);
  const portB = (await b.bind(HOST, 0)).port;
  return echoPair(
    (msg) => a.send(msg, portB, HOST),
    (fn) => {
      answer = fn;
    },
    async () => {
      await Promise.all([a.close(), b.close()]);
    },
  );
}

export class SocketFloor {
  private constructor(
    readonly layer: SocketLayer,
    private readonly pair: EchoPair,
  ) {}

  static async open(layer: SocketLayer): Promise<SocketFloor> {
    return new SocketFloor(layer, layer === 'udx-native' ? await udxPair() : layer === 'kadscope-native' ? await nativePair() : await dgramPair());
  }

  /**
   * `count` round trips with `inFlight` outstanding, as the ping bursts run; resolves with round
   * trips per second. A lost datagram is not resent (loopback does not lose them under this load):
   * a burst still short after BURST_TIMEOUT_MS rejects.
   */
  burst(count: number, inFlight: number): Promise<number> {
    return new Promise((resolve, reject) => {
      let sent = 0;
      let answered = 0;
      const t0 = performance.now();
      const timer = setTimeout(() => reject(new Error(`${this.layer}: ${answered} of ${count} round trips answered in ${BURST_TIMEOUT_MS} ms`)), BURST_TIMEOUT_MS);
      this.pair.onAnswer(() => {
        answered++;
        if (sent < count) {
          sent++;
          this.pair.send();
        } else if (answered === count) {
          clearTimeout(timer);
          resolve((count / (performance.now() - t0)) * 1000);
        }
      });
      for (; sent < Math.min(inFlight, count); ) {
        sent++;
        this.pair.send();
      }
    });
  }

  close(): Promise<void> {
    return this.pair.close();
  }
}
