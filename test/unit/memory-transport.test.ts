import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { isDhtError } from '../../core/errors';
import { MemoryNetwork, type MemoryNetworkOptions, type MemoryTransport } from '../../core/transport/memory';
import { endpointKey, type Endpoint } from '../../core/transport/types';

interface Arrival {
  at: number;
  to: string;
  from: string;
  payload: string;
}

function setup(options: MemoryNetworkOptions = {}): { clock: FakeClock; net: MemoryNetwork } {
  const clock = new FakeClock(0);
  return { clock, net: new MemoryNetwork({ clock }, options) };
}

/** Binds n transports and records every arrival (bounded by what the test sends). */
async function bindAll(clock: FakeClock, net: MemoryNetwork, n: number, log?: Arrival[]): Promise<MemoryTransport[]> {
  const out: MemoryTransport[] = [];
  for (let i = 0; i < n; i++) {
    const t = net.createTransport({});
    await t.bind();
    if (log) {
      const to = endpointKey(t.address);
      t.onMessage((data, from) => log.push({ at: clock.now(), to, from: endpointKey(from), payload: new TextDecoder().decode(data) }));
    }
    out.push(t);
  }
  return out;
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('MemoryNetwork', () => {
  it('delivers in the same order at the same times for the same seed', async () => {
    const run = async (seed: number): Promise<Arrival[]> => {
      const { clock, net } = setup({ seed, latencyMs: { min: 1, max: 50 }, loss: 0.1 });
      const log: Arrival[] = [];
      const ts = await bindAll(clock, net, 8, log);
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < ts.length; i++) ts[i].send(bytes(`r${round}-${i}`), ts[(i * 3 + round) % ts.length].address);
        clock.advance(7);
      }
      clock.advance(100);
      net.destroy();
      return log;
    };
    const a = await run(42);
    const b = await run(42);
    expect(a.length).toBeGreaterThan(100);
    expect(b).toEqual(a);
    // Arrival times never go backwards.
    for (let i = 1; i < a.length; i++) expect(a[i].at).toBeGreaterThanOrEqual(a[i - 1].at);
    // A different seed is a different run (latencies and losses differ).
    expect(await run(43)).not.toEqual(a);
  });

  it('delivers only when the clock advances, within the latency bounds', async () => {
    const { clock, net } = setup({ seed: 7, latencyMs: { min: 10, max: 30 } });
    const log: Arrival[] = [];
    const [a, b] = await bindAll(clock, net, 2, log);
    const sentAt = clock.now();
    for (let i = 0; i < 200; i++) a.send(bytes(String(i)), b.address);
    await Promise.resolve();
    expect(log).toHaveLength(0);
    clock.advance(9);
    expect(log).toHaveLength(0);
    expect(net.stats.inFlight).toBe(200);
    clock.advance(21);
    expect(log).toHaveLength(200);
    for (const x of log) {
      expect(x.at - sentAt).toBeGreaterThanOrEqual(10);
      expect(x.at - sentAt).toBeLessThanOrEqual(30);
    }
    // The draws cover the range rather than sticking to one value.
    expect(new Set(log.map((x) => x.at)).size).toBeGreaterThan(10);
    expect(net.stats).toMatchObject({ sent: 200, delivered: 200, inFlight: 0 });
    expect(b.stats).toMatchObject({ received: 200 });
    expect(a.stats).toMatchObject({ sent: 200, sendErrors: 0 });
  });

  it('setLatency applies to later sends', async () => {
    const { clock, net } = setup({ latencyMs: { min: 5, max: 5 } });
    const log: Arrival[] = [];
    const [a, b] = await bindAll(clock, net, 2, log);
    a.send(bytes('x'), b.address);
    net.setLatency({ min: 100, max: 100 });
    a.send(bytes('y'), b.address);
    clock.advance(200);
    expect(log.map((x) => [x.payload, x.at])).toEqual([['x', 5], ['y', 100]]);
    expect(() => net.setLatency({ min: 5, max: 1 })).toThrow(/min <= max/);
  });

  it('loses about p of the datagrams for a fixed seed, and setLoss changes it', async () => {
    const { clock, net } = setup({ seed: 1234, loss: 0.3, latencyMs: { min: 1, max: 1 } });
    const [a, b] = await bindAll(clock, net, 2);
    let received = 0;
    b.onMessage(() => received++);
    const N = 10_000;
    for (let i = 0; i < N; i++) a.send(bytes('x'), b.address);
    clock.advance(1);
    // Binomial(10000, 0.3): sd ~ 46, so +-300 is > 6 sd.
    expect(net.stats.lost).toBeGreaterThan(N * 0.3 - 300);
    expect(net.stats.lost).toBeLessThan(N * 0.3 + 300);
    expect(net.stats.lost + net.stats.delivered).toBe(N);
    expect(received).toBe(net.stats.delivered);

    net.setLoss(0);
    for (let i = 0; i < 100; i++) a.send(bytes('x'), b.address);
    clock.advance(1);
    expect(received).toBe(net.stats.delivered);
    expect(net.stats.delivered + net.stats.lost).toBe(N + 100);
    expect(() => net.setLoss(1.5)).toThrow(/between 0 and 1/);
  });

  it('a partition blocks both directions; heal restores', async () => {
    const { clock, net } = setup({ latencyMs: { min: 1, max: 1 } });
    const log: Arrival[] = [];
    const [a, b, c] = await bindAll(clock, net, 3, log);
    net.partition([a.address], [b.address]);
    expect(net.isPartitioned(b.address, a.address)).toBe(true);
    a.send(bytes('a->b'), b.address);
    b.send(bytes('b->a'), a.address);
    a.send(bytes('a->c'), c.address);
    c.send(bytes('c->b'), b.address);
    clock.advance(5);
    expect(log.map((x) => x.payload).sort()).toEqual(['a->c', 'c->b']);
    expect(net.stats.partitioned).toBe(2);

    net.heal();
    a.send(bytes('a->b'), b.address);
    b.send(bytes('b->a'), a.address);
    clock.advance(5);
    expect(log.map((x) => x.payload).slice(2).sort()).toEqual(['a->b', 'b->a']);
  });

  it('a closed transport receives nothing, even what was already in flight', async () => {
    const { clock, net } = setup({ latencyMs: { min: 10, max: 10 } });
    const log: Arrival[] = [];
    const [a, b] = await bindAll(clock, net, 2, log);
    const bAddr = b.address;
    a.send(bytes('in flight'), bAddr);
    await b.close();
    await b.close(); // idempotent
    a.send(bytes('after close'), bAddr);
    clock.advance(20);
    expect(log).toHaveLength(0);
    expect(net.stats.undeliverable).toBe(2);
    expect(net.stats.inFlight).toBe(0);
    // A closed transport cannot send either; the failure is counted, not thrown.
    b.send(bytes('x'), a.address);
    expect(b.stats.sendErrors).toBe(1);
    await expect(b.bind()).rejects.toMatchObject({ code: 'STOPPED' });
    // The address is free again.
    const again = net.createTransport(bAddr);
    await expect(again.bind()).resolves.toEqual(bAddr);
  });

  it('assigns unique ports for port 0 and refuses an address in use', async () => {
    const { net } = setup();
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const t = net.createTransport({ host: '127.0.0.1', port: 0 });
      const e = await t.bind();
      expect(e.port).toBeGreaterThan(0);
      seen.add(endpointKey(e));
    }
    expect(seen.size).toBe(500);
    const fixed = net.createTransport({ host: '127.0.0.1', port: 4000 });
    await fixed.bind();
    const clash = net.createTransport({ host: '127.0.0.1', port: 4000 });
    const err = await clash.bind().then(() => undefined, (e: unknown) => e);
    expect(isDhtError(err, 'BIND_FAILED')).toBe(true);
    expect((err as Error).message).toContain('127.0.0.1:4000');
    // Synthetic hosts differ per transport by default.
    const h1 = await net.createTransport().bind();
    const h2 = await net.createTransport().bind();
    expect(h1.host).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(h1.host).not.toBe(h2.host);
  });

  it('drops and counts datagrams larger than the MTU', async () => {
    const { clock, net } = setup({ mtuBytes: 1400 });
    let got = 0;
    const [a, b] = await bindAll(clock, net, 2);
    b.onMessage(() => got++);
    a.send(new Uint8Array(1400), b.address);
    a.send(new Uint8Array(1401), b.address);
    clock.advance(1000);
    expect(got).toBe(1);
    expect(net.stats.oversize).toBe(1);
    expect(net.stats.bytes).toBe(1400);
  });

  it('copies bytes on send: later changes by the sender do not reach the receiver', async () => {
    const { clock, net } = setup();
    const [a, b] = await bindAll(clock, net, 2);
    const received: Uint8Array[] = [];
    b.onMessage((d) => received.push(d));
    const buf = Buffer.from('hello');
    a.send(buf, b.address);
    buf.fill(0);
    clock.advance(1000);
    expect(new TextDecoder().decode(received[0])).toBe('hello');
  });

  it('never throws on a bad destination or a throwing handler', async () => {
    const { clock, net } = setup();
    const [a, b, c] = await bindAll(clock, net, 3);
    a.send(bytes('x'), { host: '10.9.9.9', port: 0 });
    a.send(bytes('x'), { host: '', port: 1 });
    a.send(bytes('x'), null as unknown as Endpoint);
    expect(a.stats.sendErrors).toBe(3);
    a.send(bytes('x'), { host: '10.200.0.1', port: 1 }); // nobody there
    let cGot = 0;
    b.onMessage(() => {
      throw new Error('boom');
    });
    c.onMessage(() => cGot++);
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      a.send(bytes('1'), b.address);
      a.send(bytes('2'), c.address);
      a.send(bytes('3'), b.address);
      expect(() => clock.advance(1000)).not.toThrow();
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(cGot).toBe(1);
    expect(b.stats.handlerErrors).toBe(2);
    expect(net.stats.undeliverable).toBe(1);
    expect(warnings.filter((w) => w.includes('boom'))).toHaveLength(1);
  });

  it('destroy closes every transport and cancels pending deliveries', async () => {
    const { clock, net } = setup();
    const log: Arrival[] = [];
    const [a, b] = await bindAll(clock, net, 2, log);
    a.send(bytes('x'), b.address);
    net.destroy();
    net.destroy();
    expect(clock.pendingTimers).toBe(0);
    expect(net.boundCount).toBe(0);
    clock.advance(1000);
    expect(log).toHaveLength(0);
    a.send(bytes('y'), b.address);
    expect(a.stats.sendErrors).toBe(1);
    expect(() => net.createTransport()).toThrow(/destroyed/);
  });

  it('holds 10,000 transports exchanging datagrams', async () => {
    const { clock, net } = setup({ seed: 99, latencyMs: { min: 1, max: 20 } });
    const N = 10_000;
    const ts = await bindAll(clock, net, N);
    let received = 0;
    for (const t of ts) t.onMessage(() => received++);
    const payload = new Uint8Array(64);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < N; i++) ts[i].send(payload, ts[(i * 7919 + round + 1) % N].address);
      clock.advance(5);
    }
    clock.advance(50);
    expect(received).toBe(5 * N);
    expect(net.stats.delivered).toBe(5 * N);
    expect(net.stats.inFlight).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    net.destroy();
  });
});

describe('createTestnet on the memory transport: the MTU follows the protocol', () => {
  it("a Mainline network delivers answers of 1,401-1,452 bytes (a 1,000-byte BEP 44 value beside 8 contacts); kadscope's keeps 1,400", async () => {
    const { createTestnet } = await import('../../core/testnet');
    const { mainlineCodec } = await import('../../core/protocols/mainline/protocol');
    const net = await createTestnet({ size: 24, transport: 'memory', seed: 44, node: { protocol: 'mainline' } });
    try {
      // A mutable item whose 996 bytes bencode to "996:..." = 1,000 bytes, BEP 44's limit: its
      // answer (value, key, signature, seq, 8 contacts) is over wire v1's 1,400 bytes.
      const { generateKeyPair } = await import('../../core/records/signing');
      const keyPair = generateKeyPair();
      const value = new Uint8Array(996).fill(0x61);
      const put = await net.run(net.nodes[3].records.putMutable({ keyPair, seq: 1, value }));
      const got = await net.run(net.nodes[17].records.get(put.key, { source: 'network' }));
      expect(Buffer.from(got.value!).equals(Buffer.from(value))).toBe(true);
      const answer = mainlineCodec().encode({
        kind: 'response', tid: 1, id: new Uint8Array(20), observed: { host: '10.0.0.1', port: 1 }, token: new Uint8Array(8),
        nodes: Array.from({ length: 8 }, (_, i) => ({ id: new Uint8Array(20).fill(i), host: '10.0.0.2', port: 1000 + i })),
        record: { type: 'mutable', value: new Uint8Array([...Buffer.from('996:'), ...value]), publicKey: keyPair.publicKey, salt: new Uint8Array(0), seq: 1, sig: new Uint8Array(64) },
      });
      expect(answer.length).toBeGreaterThan(1400);
      expect(answer.length).toBeLessThanOrEqual(1452);
      expect(net.network!.stats.oversize).toBe(0);
    } finally {
      await net.destroy();
    }
    const k = await createTestnet({ size: 2, transport: 'memory', seed: 45 });
    try {
      const [a, b] = k.nodes;
      // kadscope's wire sends at most 1,400: a larger datagram is still dropped as oversize.
      const t = k.network!.createTransport({});
      await t.bind();
      t.send(new Uint8Array(1401), a.address);
      await k.run(b.ping(a.address));
      expect(k.network!.stats.oversize).toBe(1);
      await t.close();
    } finally {
      await k.destroy();
    }
  });
});
