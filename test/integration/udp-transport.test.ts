// Real sockets on the loopback interfaces only, over all three socket layers (kadscope's native
// binding, udx-native and node:dgram): one suite, the same semantics; then what only the native
// binding does (batches, whole 64 KiB datagrams, a worker that exits with sockets open). Waits are bounded: a helper resolves on the packet
// and rejects after PACKET_WAIT_MS; nothing sleeps for a fixed time.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isDhtError } from '../../core/errors';
import { dgramLayer, selectSocketLayer, type SocketLayer } from '../../core/transport/socket-layer';
import { UDP_MAX_PAYLOAD_BYTES, UdpTransport, type UdpTransportOptions } from '../../core/transport/udp';
import { loadUdxLayer, UDX_MAX_RECEIVE_BYTES } from '../../core/transport/udx';
import { loadNativeLayer, NATIVE_UDP_PATH, type NativeUdpBinding } from '../../core/transport/native-udp';
import type { Endpoint } from '../../core/transport/types';
import { hasIpv6Loopback } from './ipv6-loopback';

const PACKET_WAIT_MS = 2_000;
const MAX_TURNS = 1_000;

const udx = loadUdxLayer();
if (!('layer' in udx)) throw new Error(`udx-native must load on this machine (it is in node_modules): ${udx.reason}`);
const native = loadNativeLayer();
if (!('layer' in native)) throw new Error(`the native UDP binding must load on this machine (npm ci builds it with node-gyp): ${native.reason}`);
const LAYERS: SocketLayer[] = [native.layer, udx.layer, dgramLayer];

/** Resolves on the first datagram (or the first one matching `pred`), rejects after PACKET_WAIT_MS. */
function nextMessage(t: UdpTransport, pred: (data: Uint8Array) => boolean = () => true): Promise<{ data: Uint8Array; from: Endpoint }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no datagram within ${PACKET_WAIT_MS} ms`)), PACKET_WAIT_MS);
    t.onMessage((data, from) => {
      if (!pred(data)) return;
      clearTimeout(timer);
      resolve({ data, from });
    });
  });
}

/** Waits (bounded, event-loop turns, not wall-clock sleeps) until cond holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < MAX_TURNS && !cond(); i++) await new Promise((r) => setImmediate(r));
  if (!cond()) throw new Error(`condition never held: ${what}`);
}


const IPV6 = await hasIpv6Loopback();
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (d: Uint8Array): string => new TextDecoder().decode(d);

const open: UdpTransport[] = [];
/** A transport on the layer under test (set by each describe block below). */
let layer: SocketLayer = dgramLayer;
function transport(options: UdpTransportOptions = {}, on: SocketLayer = layer): UdpTransport {
  const t = new UdpTransport({ layer: on }, options);
  open.push(t);
  return t;
}

/**
 * Open sockets of the layer: node:dgram's as the process sees them (libuv UDP handles), udx-native's
 * and the native binding's as the layer counts them (their handles are not listed by
 * getActiveResourcesInfo).
 */
const udpHandles = (): number =>
  layer === dgramLayer ? process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length : layer.openSockets;

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

const families = [
  { name: 'IPv4 127.0.0.1', host: '127.0.0.1', kind: 'udp4', enabled: true },
  { name: IPV6 ? 'IPv6 ::1' : 'IPv6 ::1 (skipped: this machine has no IPv6 loopback)', host: '::1', kind: 'udp6', enabled: IPV6 },
] as const;

for (const on of LAYERS) {
describe(`over ${on.name}`, () => {
  beforeAll(() => {
    layer = on;
  });

for (const fam of families) {
  describe.skipIf(!fam.enabled)(`UdpTransport over ${fam.name}`, () => {
    it('binds port 0 to a real port and exchanges datagrams both ways', async () => {
      const a = transport({ host: fam.host });
      const b = transport({ host: fam.host });
      expect(a.kind).toBe(fam.kind);
      const ea = await a.bind();
      const eb = await b.bind();
      expect(ea.host).toBe(fam.host);
      expect(ea.port).toBeGreaterThan(0);
      expect(a.address).toEqual(ea);
      expect(a.socketLayer).toBe(on.name);

      const atB = nextMessage(b);
      a.send(text('ping'), eb);
      const got = await atB;
      expect(decode(got.data)).toBe('ping');
      expect(got.data.constructor).toBe(Uint8Array);
      expect(got.from).toEqual(ea);

      const atA = nextMessage(a);
      b.send(text('pong'), got.from);
      expect(decode((await atA).data)).toBe('pong');
      await until(() => a.stats.sent === 1 && b.stats.sent === 1, 'send callbacks');
      expect(b.stats).toMatchObject({ received: 1, bytesReceived: 4, sendErrors: 0 });
    });

    it('hands each datagram over as its own copy: one kept is not changed by the next', async () => {
      const a = transport({ host: fam.host });
      const b = transport({ host: fam.host });
      await a.bind();
      const eb = await b.bind();
      const kept: Uint8Array[] = [];
      const second = new Promise<void>((resolve) => {
        b.onMessage((data) => {
          kept.push(data);
          if (kept.length === 2) resolve();
        });
      });
      // udx-native writes every datagram into one receive buffer, at its start.
      a.send(text('aaaaaaaaaaaa'), eb);
      a.send(text('bb'), eb);
      await second;
      expect(kept.map(decode)).toEqual(['aaaaaaaaaaaa', 'bb']);
    });

    it('refuses a taken port with BIND_FAILED naming it, and leaves no socket open', async () => {
      const a = transport({ host: fam.host });
      const { port } = await a.bind();
      const before = udpHandles();
      const clash = transport({ host: fam.host, port });
      const err = await clash.bind().then(() => undefined, (e: unknown) => e);
      expect(isDhtError(err, 'BIND_FAILED')).toBe(true);
      expect((err as Error).message).toContain(String(port));
      expect((err as Error).message).toContain('EADDRINUSE');
      expect(udpHandles()).toBe(before);
      expect(() => clash.address).toThrow(/not bound/);
    });

    it('close is idempotent, frees the port and releases the handle', async () => {
      const baseline = udpHandles();
      const a = transport({ host: fam.host });
      const { port } = await a.bind();
      expect(udpHandles()).toBe(baseline + 1);
      await Promise.all([a.close(), a.close()]);
      await a.close();
      expect(udpHandles()).toBe(baseline);
      // Sending after close is counted, not thrown.
      a.send(text('x'), { host: fam.host, port });
      expect(a.stats.sendErrors).toBe(1);
      await expect(a.bind()).rejects.toMatchObject({ code: 'STOPPED' });
      // The same port binds again.
      const again = transport({ host: fam.host, port });
      await expect(again.bind()).resolves.toEqual({ host: fam.host, port });
      await again.close();
      expect(udpHandles()).toBe(baseline);
    });

    it('survives a burst of datagrams', async () => {
      const a = transport({ host: fam.host });
      const b = transport({ host: fam.host });
      await a.bind();
      const eb = await b.bind();
      const N = 2_000;
      const last = nextMessage(b, (d) => decode(d) === 'last');
      const payload = new Uint8Array(1_000);
      for (let i = 0; i < N; i++) a.send(payload, eb);
      a.send(text('last'), eb);
      // Counted as dgram takes each one (a full kernel queue makes libuv send later, not fail).
      expect(a.stats).toMatchObject({ sent: N + 1, bytesSent: N * 1_000 + 4, sendErrors: 0 });
      await last;
      // Loopback with a 4 MiB receive buffer (or the kernel's cap) keeps most of a burst; what is
      // asserted is that the transport delivered and counted, not a rate.
      expect(b.stats.received).toBeGreaterThan(1);
      expect(b.stats.received).toBeLessThanOrEqual(N + 1);
    });
  });
}

describe('UdpTransport edge cases', () => {
  it('send to an invalid or unreachable-by-family destination never throws and is counted', async () => {
    const a = transport({ host: '127.0.0.1' });
    a.send(text('before bind'), { host: '127.0.0.1', port: 9 });
    expect(a.stats.sendErrors).toBe(1);
    await a.bind();
    const bad: Endpoint[] = [
      { host: '::1', port: 4000 }, // IPv6 on a udp4 socket
      { host: '127.0.0.1', port: 0 },
      { host: '127.0.0.1', port: 70_000 },
      { host: 'example.invalid', port: 4000 }, // not an IP literal: no DNS per datagram
      { host: '', port: 4000 },
      null as unknown as Endpoint,
    ];
    for (const to of bad) expect(() => a.send(text('x'), to)).not.toThrow();
    expect(a.stats.sendErrors).toBe(1 + bad.length);
    // Too large for UDP: refused by the OS asynchronously, still only counted.
    a.send(new Uint8Array(70_000), { host: '127.0.0.1', port: 9 });
    await until(() => a.stats.sendErrors === 2 + bad.length, 'EMSGSIZE counted');
    expect(a.stats.sent).toBe(0);
  });

  for (const fam of families.filter((f) => f.enabled)) {
    it(`${fam.kind}: a datagram at the layer's size limit goes out; one byte more is counted, not sent`, async () => {
      const a = transport({ host: fam.host });
      const b = transport({ host: fam.host });
      await a.bind();
      const eb = await b.bind();
      const max = on.maxSendBytes[fam.kind];
      expect(max).toBeLessThanOrEqual(UDP_MAX_PAYLOAD_BYTES[fam.kind]);
      // The receiver on node:dgram, which delivers any size whole (udx-native's limit is the next test's).
      const wide = transport({ host: fam.host }, dgramLayer);
      const ew = await wide.bind();
      const arrived = nextMessage(wide);
      a.send(new Uint8Array(max), ew);
      expect((await arrived).data.byteLength).toBe(max);
      a.send(new Uint8Array(max + 1), eb);
      expect(a.stats).toMatchObject({ sent: 1, bytesSent: max, sendErrors: 1 });
    });
  }

  it(`a datagram that reaches the layer's receive limit is dropped and counted as truncated, never delivered cut`, async () => {
    const a = transport({}, dgramLayer);
    const b = transport();
    await a.bind();
    const eb = await b.bind();
    const limit = Math.min(on.maxReceiveBytes, 4_000);
    a.send(new Uint8Array(limit).fill(1), eb); // udx-native: cut to 2,048, so dropped; node:dgram: 4,000 bytes, whole
    a.send(new Uint8Array(limit + 1_000).fill(2), eb);
    const whole = nextMessage(b, (d) => d[0] === 3);
    a.send(new Uint8Array(limit - 1).fill(3), eb);
    expect((await whole).data.byteLength).toBe(limit - 1);
    if (on.maxReceiveBytes === UDX_MAX_RECEIVE_BYTES) {
      expect(b.stats).toMatchObject({ truncated: 2, received: 1 });
    } else {
      expect(on.maxReceiveBytes).toBe(Infinity);
      await until(() => b.stats.received === 3, 'the larger datagrams delivered too');
      expect(b.stats.truncated).toBe(0);
    }
  });

  it.skipIf(!IPV6)('an IPv6 socket that is not dual-stack counts an IPv4 peer as unreachable', async () => {
    const v6 = transport({ host: '::1' });
    const v4 = transport({ host: '127.0.0.1' });
    await v6.bind();
    const e4 = await v4.bind();
    v6.send(text('x'), e4);
    await until(() => v6.stats.sendErrors === 1, 'unreachable counted');
    expect(v6.stats.sent).toBe(0);
  });

  it('copies on send: reusing the buffer right after send() does not change what arrives', async () => {
    const a = transport();
    const b = transport();
    await a.bind();
    const eb = await b.bind();
    const arrived = nextMessage(b);
    const buf = Buffer.from('original');
    a.send(buf, eb);
    buf.fill(0x21);
    expect(decode((await arrived).data)).toBe('original');
  });

  it('a throwing handler does not crash the process and is counted', async () => {
    const a = transport();
    const b = transport();
    await a.bind();
    const eb = await b.bind();
    let calls = 0;
    b.onMessage(() => {
      calls++;
      throw new Error('handler bug');
    });
    const warned = new Promise<string>((resolve) => process.once('warning', (w) => resolve(w.message)));
    a.send(text('1'), eb);
    await until(() => calls === 1, 'handler called');
    expect(b.stats.handlerErrors).toBe(1);
    expect(await warned).toContain('handler bug');
  });

  it('validates options with clear errors', () => {
    expect(() => new UdpTransport({}, { host: 'not a host' })).toThrow(/not an IP address/);
    expect(() => new UdpTransport({}, { port: 65_536 })).toThrow(/port 65536/);
    expect(new UdpTransport({}, { host: 'localhost' }).kind).toBe('udp4');
    expect(new UdpTransport({}, { host: '::' }).kind).toBe('udp6');
    expect(new UdpTransport().kind).toBe('udp4');
    expect(() => new UdpTransport().address).toThrow(/await bind\(\)/);
  });

  it('close while binding rejects the bind and leaves nothing open', async () => {
    const baseline = udpHandles();
    const a = transport();
    const binding = a.bind();
    const closing = a.close();
    await expect(binding).rejects.toMatchObject({ code: 'STOPPED' });
    await closing;
    expect(udpHandles()).toBe(baseline);
  });

  it.skipIf(!IPV6)('a dual-stack socket on :: reaches and reports IPv4 peers as plain IPv4', async () => {
    const v6 = transport({ host: '::' });
    const v4 = transport({ host: '127.0.0.1' });
    const e6 = await v6.bind();
    const e4 = await v4.bind();
    const at6 = nextMessage(v6);
    v4.send(text('hello'), { host: '127.0.0.1', port: e6.port });
    const got = await at6;
    expect(got.from).toEqual(e4);
    const at4 = nextMessage(v4);
    v6.send(text('back'), got.from);
    expect(decode((await at4).data)).toBe('back');
    await until(() => v6.stats.sent === 1, 'send to an IPv4-mapped address confirmed');
    expect(v6.stats).toMatchObject({ sendErrors: 0, bytesSent: 4 });
  });
});
});
}

describe('what only the native binding does', () => {
  const binding = createRequire(import.meta.url)(NATIVE_UDP_PATH) as NativeUdpBinding;

  /** Two bound sockets of the binding itself; `batches` records each entry's datagrams as text. */
  function rawPair(): { a: ReturnType<NativeUdpBinding['create']>; b: ReturnType<NativeUdpBinding['create']>; portB: number; batches: string[][]; close: () => Promise<void> } {
    const batches: string[][] = [];
    const closed: Array<Promise<void>> = [];
    const make = (onBatch: (n: number) => void): ReturnType<NativeUdpBinding['create']> => {
      let done!: () => void;
      closed.push(new Promise<void>((r) => (done = r)));
      return binding.create(false, onBatch, () => {}, () => done());
    };
    const a = make(() => {});
    const b = make((n) => {
      const batch: string[] = [];
      for (let i = 0; i < n; i++) {
        const m = i * binding.metaFields;
        batch.push(decode(binding.inbox.slice(binding.meta[m], binding.meta[m] + binding.meta[m + 1])));
      }
      batches.push(batch);
    });
    binding.bind(a, '127.0.0.1', 0);
    const [, portB] = binding.bind(b, '127.0.0.1', 0);
    return {
      a,
      b,
      portB,
      batches,
      close: async () => {
        binding.close(a);
        binding.close(b);
        await Promise.all(closed);
      },
    };
  }

  it('reads with recvmmsg and enters JavaScript once per read: 30 queued datagrams come as 20 and 10, in order', async () => {
    const p = rawPair();
    try {
      expect(binding.usingRecvmmsg(p.b)).toBe(true);
      // try_send hands each datagram to the kernel before send() returns, so all 30 wait in the
      // receiver's queue before the loop polls it.
      for (let i = 0; i < 30; i++) expect(binding.send(p.a, text(`d${i}`), p.portB, '127.0.0.1')).toBe(1 + String(i).length);
      await until(() => p.batches.flat().length === 30, '30 datagrams');
      expect(p.batches.map((b) => b.length)).toEqual([20, 10]);
      expect(p.batches.flat()).toEqual(Array.from({ length: 30 }, (_, i) => `d${i}`));
    } finally {
      await p.close();
    }
  });

  it('delivers datagrams that overflow the shared inbox in more than one entry, each whole', async () => {
    const a = transport({}, native.layer);
    const b = transport({}, native.layer);
    await a.bind();
    const eb = await b.bind();
    const got: Uint8Array[] = [];
    b.onMessage((d) => got.push(d));
    // Five datagrams of 60,000 bytes: the 256 KiB inbox holds four, so the fifth goes in a second entry.
    for (let i = 0; i < 5; i++) a.send(new Uint8Array(60_000).fill(i + 1), eb);
    a.send(new Uint8Array(65_507).fill(9), eb); // the IPv4 limit, read whole (a 64 KiB slot)
    await until(() => got.length === 6, 'six large datagrams');
    expect(got.map((d) => [d.byteLength, d[0], d[d.byteLength - 1]])).toEqual([
      ...[1, 2, 3, 4, 5].map((v) => [60_000, v, v]),
      [65_507, 9, 9],
    ]);
    expect(b.stats.truncated).toBe(0);
  });

  it('a handler that closes its transport part way through a batch gets none of the rest', async () => {
    const a = transport({}, native.layer);
    const b = transport({}, native.layer);
    await a.bind();
    const eb = await b.bind();
    const seen: string[] = [];
    b.onMessage((d) => {
      seen.push(decode(d));
      if (seen.length === 3) void b.close();
    });
    for (let i = 0; i < 10; i++) a.send(text(`m${i}`), eb);
    await until(() => native.layer.openSockets === 1, 'the receiver closed');
    expect(seen).toEqual(['m0', 'm1', 'm2']);
    expect(b.stats.received).toBe(3);
  });

  it('an OS refusal at send (a broadcast address without SO_BROADCAST) is counted at once, never thrown', async () => {
    const a = transport({}, native.layer);
    await a.bind();
    expect(() => a.send(text('x'), { host: '255.255.255.255', port: 9 })).not.toThrow();
    expect(a.stats).toMatchObject({ sent: 0, sendErrors: 1 });
    expect(binding.errorName(-13)).toBe('EACCES');
  });

  it('the binding itself refuses a port outside 0-65535 instead of sending to it cut to 16 bits', () => {
    const p = rawPair();
    try {
      expect(binding.errorName(binding.send(p.a, text('x'), 65_536 + p.portB, '127.0.0.1'))).toBe('EINVAL');
      expect(binding.errorName(binding.send(p.a, text('x'), -1, '127.0.0.1'))).toBe('EINVAL');
      expect(binding.errorName(binding.send(p.a, text('x'), p.portB, 'not an address'))).toBe('EINVAL');
      const c = binding.create(false, () => {}, () => {}, () => {});
      expect(() => binding.bind(c, '127.0.0.1', 70_000)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      binding.close(c);
    } finally {
      void p.close();
    }
  });

  it('sends without copying and is done with the bytes when send() returns', async () => {
    const a = transport({}, native.layer);
    const b = transport({}, native.layer);
    await a.bind();
    const eb = await b.bind();
    const arrived = nextMessage(b);
    const buf = new Uint8Array(text('original'));
    a.send(buf, eb);
    buf.fill(0x21);
    expect(decode((await arrived).data)).toBe('original');
  });

  it('a worker thread that ends with sockets open and bound closes them as it goes, and the process lives on', async () => {
    // Plain JavaScript in the worker: it loads the binding itself, binds two sockets, reports the
    // ports and then waits forever; terminate() tears its environment down with the sockets open.
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(workerData);
      const s1 = b.create(false, () => {}, () => {}, () => {});
      const s2 = b.create(false, () => {}, () => {}, () => {});
      const ports = [b.bind(s1, '127.0.0.1', 0)[1], b.bind(s2, '127.0.0.1', 0)[1]];
      parentPort.postMessage(ports);
      setInterval(() => {}, 1000);
    `;
    for (let round = 0; round < 3; round++) {
      const worker = new Worker(source, { eval: true, workerData: NATIVE_UDP_PATH });
      const ports = await new Promise<number[]>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(await worker.terminate()).toBe(1);
      // Both ports are free again: the worker's handles were closed, not left on its loop.
      for (const port of ports) {
        const t = transport({ port }, native.layer);
        await expect(t.bind()).resolves.toEqual({ host: '127.0.0.1', port });
      }
    }
  });
});

describe('choosing the socket layer (the loaders injected, never broken for real)', () => {
  const failing = (): never => {
    throw new Error("Cannot find module 'udx-native'\nRequire stack: ...");
  };
  const nativeMissing = (): never => {
    throw new Error("Cannot find module '/x/native/build/Release/kadscope_udp.node'");
  };
  const NOT_BUILT = 'native/build/Release/kadscope_udp.node is not built (npm ci builds it; see native/build.mjs)';
  const udxLoads = (): never => class {} as never;

  it('by default runs the native binding when it loads, and asks for nothing else', () => {
    let calls = 0;
    const warnings: string[] = [];
    const picked = selectSocketLayer(undefined, {
      loadUdx: () => {
        calls++;
        return udxLoads();
      },
      warn: (m) => warnings.push(m),
    });
    expect(picked.name).toBe('kadscope-native');
    expect(calls).toBe(0);
    expect(warnings).toEqual([]);
    expect(new UdpTransport().socketLayer).toBe('kadscope-native');
    // Also for a network whose peers send datagrams longer than udx-native reads (Mainline).
    expect(selectSocketLayer(undefined, { warn: (m) => warnings.push(m) }, 3_000).name).toBe('kadscope-native');
    expect(warnings).toEqual([]);
  });

  it('without the native binding runs udx-native, with one line saying why', () => {
    const warnings: string[] = [];
    const picked = selectSocketLayer(undefined, { loadNative: nativeMissing, loadUdx: udxLoads, warn: (m) => warnings.push(m) });
    expect(picked.name).toBe('udx-native');
    expect(warnings).toEqual([`kadscope: the native UDP binding did not load (${NOT_BUILT}); UDP runs on udx-native`]);
  });

  it('without either runs node:dgram, with one line saying why', () => {
    const warnings: string[] = [];
    const picked = selectSocketLayer(undefined, { loadNative: nativeMissing, loadUdx: failing, warn: (m) => warnings.push(m) });
    expect(picked).toBe(dgramLayer);
    expect(warnings).toEqual([
      `kadscope: neither the native UDP binding (${NOT_BUILT}) nor udx-native (Cannot find module 'udx-native') loaded; UDP runs on node:dgram`,
    ]);
  });

  it('without the native binding, a network of long datagrams gets node:dgram, not udx-native', () => {
    const warnings: string[] = [];
    let udxCalls = 0;
    const picked = selectSocketLayer(undefined, { loadNative: nativeMissing, loadUdx: () => (udxCalls++, udxLoads()), warn: (m) => warnings.push(m) }, 3_000);
    expect(picked).toBe(dgramLayer);
    expect(udxCalls).toBe(0);
    expect(warnings).toEqual([`kadscope: the native UDP binding did not load (${NOT_BUILT}); UDP runs on node:dgram`]);
  });

  it("an explicit 'native' or 'udx' that cannot load is a clear error, not a silent fallback", () => {
    expect(() => selectSocketLayer('native', { loadNative: nativeMissing })).toThrow(
      `the native transport is not available: ${NOT_BUILT}; use --transport udx or dgram`,
    );
    expect(selectSocketLayer('native').name).toBe('kadscope-native');
    expect(() => selectSocketLayer('udx', { loadUdx: failing })).toThrow(
      "the udx transport is not available: udx-native did not load (Cannot find module 'udx-native'); use --transport native or dgram",
    );
    let nativeCalls = 0;
    expect(selectSocketLayer('udx', { loadUdx: udxLoads, loadNative: () => (nativeCalls++, nativeMissing()) }).name).toBe('udx-native');
    expect(nativeCalls).toBe(0);
    expect(() => selectSocketLayer('udx', {}, 3_000)).toThrow(/the udx transport reads at most 2,048 bytes .* use --transport native or dgram/);
  });

  it("'dgram' never asks for the others; an unknown choice is refused", () => {
    let calls = 0;
    expect(selectSocketLayer('dgram', { loadUdx: () => (calls++, failing()), loadNative: () => (calls++, nativeMissing()) })).toBe(dgramLayer);
    expect(calls).toBe(0);
    expect(new UdpTransport({}, { socketLayer: 'dgram' }).socketLayer).toBe('node:dgram');
    expect(() => selectSocketLayer('tcp' as never)).toThrow(/transport "tcp" is not one of native, udx, dgram/);
  });

  it('a native loader that returns something other than the binding counts as not loading', () => {
    const warnings: string[] = [];
    expect(selectSocketLayer(undefined, { loadNative: () => ({}) as never, loadUdx: udxLoads, warn: (m) => warnings.push(m) }).name).toBe('udx-native');
    expect(warnings[0]).toContain('the kadscope UDP binding exports no socket API');
  });

  it('a udx-native without the internals its receive path reads still delivers, through the message event', async () => {
    const { EventEmitter } = await import('node:events');
    const sockets: InstanceType<typeof EventEmitter>[] = [];
    class Socket extends EventEmitter {
      bind(): void {}
      address(): { host: string; port: number } {
        return { host: '127.0.0.1', port: 40_001 };
      }
      trySend(): void {}
      setRecvBufferSize(): number {
        return 0;
      }
      setSendBufferSize(): number {
        return 0;
      }
      async close(): Promise<void> {}
    }
    class UDX {
      createSocket(): Socket {
        const s = new Socket();
        sockets.push(s);
        return s;
      }
    }
    const loaded = loadUdxLayer(() => UDX as never);
    if (!('layer' in loaded)) throw new Error(loaded.reason);
    const t = new UdpTransport({ layer: loaded.layer }, { host: '127.0.0.1' });
    open.push(t);
    await t.bind();
    const got: Array<{ text: string; from: Endpoint }> = [];
    t.onMessage((data, from) => got.push({ text: decode(data), from }));
    const buf = Buffer.from('hello');
    sockets[0].emit('message', buf, { host: '127.0.0.1', port: 5_000 });
    buf.fill(0x21);
    expect(got).toEqual([{ text: 'hello', from: { host: '127.0.0.1', port: 5_000 } }]);
  });

  it('a udx loader that returns something other than a class counts as not loading', () => {
    const warnings: string[] = [];
    expect(selectSocketLayer(undefined, { loadNative: nativeMissing, loadUdx: () => ({}) as never, warn: (m) => warnings.push(m) })).toBe(dgramLayer);
    expect(warnings[0]).toContain('udx-native exports no UDX class');
  });
});
