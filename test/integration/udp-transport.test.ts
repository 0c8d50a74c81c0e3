// Real sockets on the loopback interfaces only. Waits are bounded: a helper resolves on the packet
// and rejects after PACKET_WAIT_MS; nothing sleeps for a fixed time.
import { afterEach, describe, expect, it } from 'vitest';
import { isDhtError } from '../../core/errors';
import { UDP_MAX_PAYLOAD_BYTES, UdpTransport } from '../../core/transport/udp';
import type { Endpoint } from '../../core/transport/types';
import { hasIpv6Loopback } from './ipv6-loopback';

const PACKET_WAIT_MS = 2_000;
const MAX_TURNS = 1_000;

const udpHandles = (): number => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;

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
function transport(options: ConstructorParameters<typeof UdpTransport>[1] = {}): UdpTransport {
  const t = new UdpTransport({}, options);
  open.push(t);
  return t;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

const families = [
  { name: 'IPv4 127.0.0.1', host: '127.0.0.1', kind: 'udp4', enabled: true },
  { name: IPV6 ? 'IPv6 ::1' : 'IPv6 ::1 (skipped: this machine has no IPv6 loopback)', host: '::1', kind: 'udp6', enabled: IPV6 },
] as const;

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
    it(`${fam.kind}: a datagram at the UDP size limit goes out; one byte more is counted, not sent`, async () => {
      const a = transport({ host: fam.host });
      const b = transport({ host: fam.host });
      await a.bind();
      const eb = await b.bind();
      const max = UDP_MAX_PAYLOAD_BYTES[fam.kind];
      const arrived = nextMessage(b);
      a.send(new Uint8Array(max), eb);
      expect((await arrived).data.byteLength).toBe(max);
      a.send(new Uint8Array(max + 1), eb);
      expect(a.stats).toMatchObject({ sent: 1, bytesSent: max, sendErrors: 1 });
    });
  }

  it.skipIf(!IPV6)('an IPv6 socket that is not dual-stack counts the OS refusing an IPv4 peer', async () => {
    const v6 = transport({ host: '::1' });
    const v4 = transport({ host: '127.0.0.1' });
    await v6.bind();
    const e4 = await v4.bind();
    v6.send(text('x'), e4);
    await until(() => v6.stats.sendErrors === 1, 'ENETUNREACH counted');
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
