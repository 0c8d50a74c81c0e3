// Mainline peers answer with datagrams longer than udx-native reads (2,048 bytes): bittorrent-dht
// answered a find_node with ~3 KB in a 500-node network, and kadscope's Mainline node, on udx-native
// by default then, dropped every such answer as cut short, joined with one peer and could not put.
// A Mainline node's socket is never udx-native unless handed in: the native binding (the default,
// which reads whole datagrams) or node:dgram; an explicit udx is a clear error.
// Here a raw socket on 127.0.0.1 plays a Mainline node whose find_node answer carries 100 contacts.
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import { decodeKrpc, encodeKrpc } from '../../core/protocols/mainline/krpc';
import { UdpTransport } from '../../core/transport/udp';
import type { LookupEvent } from '../../core/types';

const CONTACTS = 100;

interface LongAnswerPeer {
  port: number;
  /** Bytes of each find_node answer it sent. */
  answerBytes: number[];
  close(): Promise<void>;
}

/** A Mainline "node" that answers ping with its id and find_node with CONTACTS contacts (all itself). */
async function longAnswerPeer(): Promise<LongAnswerPeer> {
  const rand = seededRandomBytes(0x10a9);
  const id = rand(20);
  const contacts = Array.from({ length: CONTACTS }, () => rand(20));
  const sock: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const port = sock.address().port;
  const answerBytes: number[] = [];
  sock.on('message', (msg, rinfo) => {
    const r = decodeKrpc(new Uint8Array(msg));
    if (!r.ok || r.message.kind !== 'query') return;
    const q = r.message;
    const nodes = q.method === 'find_node' || q.method === 'get' || q.method === 'get_peers' ? contacts.map((c) => ({ id: c, host: '127.0.0.1', port })) : undefined;
    const answer = encodeKrpc({ kind: 'response', tid: q.tid, id, ...(nodes ? { nodes } : {}) });
    if (nodes) answerBytes.push(answer.length);
    sock.send(answer, rinfo.port, rinfo.address);
  });
  return { port, answerBytes, close: () => new Promise<void>((resolve) => sock.close(() => resolve())) };
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** The node's join, and the contacts each find_node answer of its join lookups carried. */
async function joinThrough(node: DhtNode): Promise<{ nodesPerAnswer: number[] }> {
  const nodesPerAnswer: number[] = [];
  node.on('lookup', (e: LookupEvent) => {
    if (e.type === 'response') nodesPerAnswer.push(e.nodes.length);
  });
  await node.start();
  return { nodesPerAnswer };
}

describe('a Mainline node reads answers longer than 2,048 bytes', () => {
  for (const [layer, name] of [[undefined, 'kadscope-native'], ['dgram', 'node:dgram']] as const) {
    it(`runs on ${name}${layer ? ' when asked' : ' by default'}, and takes in a 100-contact find_node answer`, async () => {
      const peer = await longAnswerPeer();
      cleanup.push(peer.close);
      const node = DhtNode.create({ protocol: 'mainline', host: '127.0.0.1', socketLayer: layer, bootstrap: [`127.0.0.1:${peer.port}`], randomBytes: seededRandomBytes(7) });
      cleanup.push(() => node.stop());
      expect(node.transport.socketLayer).toBe(name);
      const { nodesPerAnswer } = await joinThrough(node);
      expect(Math.min(...peer.answerBytes)).toBeGreaterThan(2048);
      expect(nodesPerAnswer.length).toBeGreaterThan(0);
      expect(Math.max(...nodesPerAnswer)).toBe(CONTACTS);
      expect(node.snapshot().counters.dropped.oversize ?? 0).toBe(0);
    });
  }

  it('on udx-native (a transport handed in) the same answers are dropped as cut short: why it is not the default', async () => {
    const peer = await longAnswerPeer();
    cleanup.push(peer.close);
    const transport = new UdpTransport({}, { host: '127.0.0.1', socketLayer: 'udx' });
    const node = DhtNode.create({ protocol: 'mainline', transport, bootstrap: [`127.0.0.1:${peer.port}`], randomBytes: seededRandomBytes(7) });
    cleanup.push(() => node.stop());
    expect(node.transport.socketLayer).toBe('udx-native');
    const { nodesPerAnswer } = await joinThrough(node);
    expect(peer.answerBytes.length).toBeGreaterThan(0);
    expect(nodesPerAnswer).toEqual([]);
    expect(node.snapshot().counters.dropped.oversize).toBe(peer.answerBytes.length);
  });

  it("an explicit socketLayer 'udx' for a Mainline node is a clear error; the other protocols take it", () => {
    expect(() => DhtNode.create({ protocol: 'mainline', host: '127.0.0.1', socketLayer: 'udx' })).toThrow(
      /the udx transport reads at most 2,048 bytes of a datagram and this network's peers send longer ones \(up to 8,192\); use --transport native or dgram/,
    );
    const ours = DhtNode.create({ host: '127.0.0.1', socketLayer: 'udx' });
    expect(ours.transport.socketLayer).toBe('udx-native');
    const hyper = DhtNode.create({ protocol: 'hyperdht', host: '127.0.0.1', socketLayer: 'udx' });
    expect(hyper.transport.socketLayer).toBe('udx-native');
    expect(DhtNode.create({ protocol: 'hyperdht', host: '127.0.0.1' }).transport.socketLayer).toBe('kadscope-native');
  });
});
