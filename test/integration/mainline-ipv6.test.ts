// BEP 32 over real UDP on 127.0.0.1 and ::1 (skipped where the machine cannot bind ::1): a
// dual-stack Mainline node (host + host6) with an IPv4-only and an IPv6-only neighbour. Its answers
// to a query without `want` carry the family the query came over (nodes over IPv4, nodes6 over
// IPv6); with want n4 n6 both. Its own find_node, get_peers and get queries want n4 and n6, a
// single-stack node's want nothing; a second dual-stack node that joins over IPv4 only learns the
// IPv6 node through nodes6 and reaches it over ::1.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import { decodeKrpc, encodeKrpc } from '../../core/protocols/mainline/krpc';
import type { Want } from '../../core/protocols/mainline/types';
import { DualStackTransport } from '../../core/transport/dual';
import { hasIpv6Loopback } from './ipv6-loopback';

const IPV6 = await hasIpv6Loopback();
const rand = seededRandomBytes(32);
const nodes: DhtNode[] = [];
const sockets: Socket[] = [];
let dual: DhtNode;
let v4: DhtNode;
let v6: DhtNode;

function mainline(options: { host: string; host6?: string; bootstrap?: string[] }): DhtNode {
  const n = DhtNode.create({ protocol: 'mainline', randomBytes: seededRandomBytes(nodes.length + 90), ...options });
  nodes.push(n);
  return n;
}

interface Raw {
  socket: Socket;
  got: Buffer[];
  port: number;
  /** Resolves once a datagram arrived for which check() holds (at once if one has); rejects after 5 s. */
  until(check: () => boolean, what: string): Promise<void>;
}

/** A raw KRPC socket: sends queries, keeps every datagram it gets. */
async function raw(family: 4 | 6): Promise<Raw> {
  const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
  sockets.push(socket);
  const got: Buffer[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (m) => {
    got.push(m);
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve) => socket.bind(0, family === 6 ? '::1' : '127.0.0.1', () => resolve()));
  const until = (check: () => boolean, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      if (check()) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`${what}: none within 5 s`));
      }, 5_000);
      const w = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        waiters.delete(w);
        resolve();
      };
      waiters.add(w);
    });
  return { socket, got, port: socket.address().port, until };
}

beforeAll(async () => {
  if (!IPV6) return;
  dual = mainline({ host: '127.0.0.1', host6: '::1' });
  await dual.start();
  const [a4, a6] = (dual.transport as DualStackTransport).addresses;
  v4 = mainline({ host: '127.0.0.1', bootstrap: [`127.0.0.1:${a4.port}`] });
  v6 = mainline({ host: '::1', bootstrap: [`[::1]:${a6.port}`] });
  await Promise.all([v4.start(), v6.start()]);
  // Both answered the dual node's verification pings: both in its table.
  await dual.findNode(dual.id);
  expect(new Set(dual.table.entries().map((e) => e.id))).toEqual(new Set([v4.id, v6.id]));
}, 60_000);

afterAll(async () => {
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  await Promise.all(nodes.map((n) => n.stop()));
});

describe.skipIf(!IPV6)('BEP 32 over 127.0.0.1 and ::1 (skipped: this machine cannot bind ::1)', () => {
  it("answers a query without want in its own family (nodes over IPv4, nodes6 over IPv6), with want n4 n6 both", async () => {
    const [a4, a6] = (dual.transport as DualStackTransport).addresses;
    let tid = 0;
    const ask = async (family: 4 | 6, want?: Want[]): Promise<{ ids: string[]; nodes6: boolean }> => {
      const r = await raw(family);
      const t = new Uint8Array([0x32, ++tid]);
      const q = encodeKrpc({ kind: 'query', tid: t, id: rand(20), readOnly: true, method: 'find_node', target: rand(20), ...(want ? { want } : {}) });
      r.socket.send(q, family === 6 ? a6.port : a4.port, family === 6 ? '::1' : '127.0.0.1');
      const mine = (): Buffer | undefined => r.got.find((d) => d.includes(Buffer.from([0x32, tid])));
      await r.until(() => mine() !== undefined, 'the answer');
      const d = decodeKrpc(new Uint8Array(mine()!));
      if (!d.ok || d.message.kind !== 'response') throw new Error('expected a response');
      return { ids: (d.message.nodes ?? []).map((c) => bytesToHex(c.id)).sort(), nodes6: mine()!.toString('latin1').includes('6:nodes6') };
    };
    expect(await ask(4)).toEqual({ ids: [v4.id], nodes6: false });
    expect(await ask(6)).toEqual({ ids: [v6.id], nodes6: true });
    expect(await ask(4, ['n4', 'n6'])).toEqual({ ids: [v4.id, v6.id].sort(), nodes6: true });
    expect(await ask(6, ['n4'])).toEqual({ ids: [v4.id], nodes6: false });
  });

  it("a dual-stack node's find_node and sample_infohashes want n4 and n6 (get_peers and get: the unit test); a single-stack node's want nothing", async () => {
    const r = await raw(4);
    const queries = (): Array<{ method: string; want: unknown }> =>
      r.got.flatMap((d) => {
        const m = decodeKrpc(new Uint8Array(d));
        return m.ok && m.message.kind === 'query' ? [{ method: m.message.method, want: m.message.want }] : [];
      });
    const to = { host: '127.0.0.1', port: r.port };
    const silent = { timeoutMs: 100, retries: 0 };
    await dual.findNodeAt(to, rand(20), silent).catch(() => undefined);
    await v4.findNodeAt(to, rand(20), silent).catch(() => undefined);
    await dual.sampleInfohashesAt(to, rand(20), silent).catch(() => undefined);
    await r.until(() => queries().length >= 3, 'three queries');
    expect(queries()).toEqual([
      { method: 'find_node', want: ['n4', 'n6'] },
      { method: 'find_node', want: undefined },
      { method: 'sample_infohashes', want: ['n4', 'n6'] },
    ]);
  });

  it('a second dual-stack node that joins over IPv4 only learns the IPv6 node through nodes6 and reaches it over ::1', async () => {
    const [a4] = (dual.transport as DualStackTransport).addresses;
    const other = mainline({ host: '127.0.0.1', host6: '::1', bootstrap: [`127.0.0.1:${a4.port}`] });
    await other.start();
    const r = await other.findNode(v6.id);
    const found = r.closest.find((c) => c.id === v6.id);
    expect(found).toMatchObject({ host: '::1', port: v6.address.port });
    expect((await other.ping({ host: '::1', port: v6.address.port })).id).toBe(v6.id);
  });
});
