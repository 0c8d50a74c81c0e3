// The protocol seam for Mainline: the engine's messages through the KRPC codec and back,
// transaction ids echoed as bytes, bad and unknown queries answered with 203 / 204, BEP 43, and
// ids of the wrong length refused with a clear error.
import { describe, expect, it } from 'vitest';
import { WIRE_ERROR } from '../../core/errors';
import { DhtNode } from '../../core/node';
import { decodeKrpc, encodeKrpc } from '../../core/protocols/mainline/krpc';
import { KADSCOPE_CLIENT_VERSION, mainlineCodec, mainlineProtocol, tidFromBytes, tidToBytes } from '../../core/protocols/mainline/protocol';
import { KRPC_ERROR } from '../../core/protocols/mainline/types';
import { bep42Status } from '../../core/protocols/mainline/bep42';
import { FakeClock } from '../../core/clock';
import { KADSCOPE_PROTOCOL } from '../../core/protocols/protocol';
import { MemoryNetwork } from '../../core/transport/memory';
import type { Message } from '../../core/wire/types';

const id = new Uint8Array(20).fill(1);
const key = new Uint8Array(20).fill(2);
const from = { host: '127.0.0.1', port: 4000 };

describe('Mainline codec on the seam', () => {
  it('BEP 32: a dual-stack node wants n4 and n6 in find_node, get_peers, get and sample_infohashes; a single-stack one sends no want', () => {
    const view = (dual: boolean) => ({ id: () => id, closest: () => [], storedTopics: () => [], randomBytes: (n: number) => new Uint8Array(n), dualStack: () => dual });
    const wants = (dual: boolean, msg: Message): unknown => {
      const p = mainlineProtocol();
      p.attach!(view(dual));
      const d = decodeKrpc(p.codec.encode(msg));
      if (!d.ok || d.message.kind !== 'query') throw new Error('expected a query');
      return d.message.want;
    };
    const asking: Message[] = [
      { kind: 'request', tid: 1, id, method: 'FIND_NODE', target: key },
      { kind: 'request', tid: 1, id, method: 'FIND_NODE', target: key, sample: true },
      { kind: 'request', tid: 2, id, method: 'GET_PEERS', topic: key },
      { kind: 'request', tid: 4, id, method: 'FIND_VALUE', key },
    ];
    for (const m of asking) {
      expect(wants(true, m)).toEqual(['n4', 'n6']);
      expect(wants(false, m)).toBeUndefined();
    }
    expect(wants(true, { kind: 'request', tid: 0, id, method: 'PING' })).toBeUndefined();
    expect(wants(true, { kind: 'request', tid: 3, id, method: 'ANNOUNCE', topic: key, port: 6881, token: new Uint8Array([9]) })).toBeUndefined();
  });

  it('maps 1..4-byte transaction ids to numbers and back, byte for byte', () => {
    for (const b of [[7], [0, 0], [1, 2, 3], [0xff, 0xff, 0xff, 0xff], [0, 0, 0, 0]]) {
      const n = tidFromBytes(new Uint8Array(b)) as number;
      expect(Array.from(tidToBytes(n))).toEqual(b);
    }
    expect(tidFromBytes(new Uint8Array(5))).toBeUndefined();
    expect(tidFromBytes(new Uint8Array([0, 1]))).not.toBe(tidFromBytes(new Uint8Array([0, 0, 0, 1])));
  });

  it("round-trips the engine's requests, responses and errors", () => {
    const codec = mainlineCodec();
    const messages: Message[] = [
      { kind: 'request', tid: 0xdeadbeef, id, method: 'PING' },
      { kind: 'request', tid: 1, id, method: 'FIND_NODE', target: key },
      { kind: 'request', tid: 2, id, method: 'GET_PEERS', topic: key },
      { kind: 'request', tid: 3, id, method: 'ANNOUNCE', topic: key, port: 6881, token: new Uint8Array([9]) },
      { kind: 'request', tid: 4, id, method: 'FIND_VALUE', key, seq: 3 },
      { kind: 'response', tid: 5, id, observed: from, nodes: [{ id: key, host: '10.0.0.1', port: 1 }], token: new Uint8Array([1, 2]), peers: [from] },
      { kind: 'error', tid: 6, id: new Uint8Array(20), code: WIRE_ERROR.CAS_MISMATCH, message: 'no' },
    ];
    for (const m of messages) {
      const r = codec.decode(codec.encode(m), from);
      // An answer also carries the sender's client version (our `v`), which the peer list shows; a
      // query without `want` wants the family it came over (BEP 32: IPv4 from 127.0.0.1).
      expect(r.ok && r.message, m.kind).toEqual(m.kind === 'response' ? { ...m, client: KADSCOPE_CLIENT_VERSION } : m.kind === 'request' ? { ...m, families: [4] } : m);
    }
    // KRPC has no code for a reused seq: BEP 44 answers it with 302 like a lower one.
    const e = codec.decode(codec.encode({ kind: 'error', tid: 6, id, code: WIRE_ERROR.SEQ_REUSED, message: 'x' }), from);
    expect(e.ok && e.message.kind === 'error' && e.message.code).toBe(WIRE_ERROR.SEQ_TOO_LOW);
  });

  it('announce_peer with implied_port takes the source port', () => {
    const data = encodeKrpc({ kind: 'query', tid: new Uint8Array([1, 2]), id, readOnly: false, method: 'announce_peer', infoHash: key, port: 0, token: new Uint8Array([5]), impliedPort: true });
    const r = mainlineCodec().decode(data, from);
    expect(r.ok && r.message).toMatchObject({ kind: 'request', method: 'ANNOUNCE', port: 4000 });
  });

  it('answers an unknown method with 204 and a bad query with 203, echoing the tid bytes', () => {
    const unknown = encodeKrpc({ kind: 'query', tid: new Uint8Array([0xaa, 0xbb]), id, readOnly: false, method: 'unknown', name: 'vote' });
    const r = mainlineCodec().decode(unknown, from);
    expect(r).toMatchObject({ ok: false, reason: 'unknown-method' });
    const reply = decodeKrpc((r as { reply: Uint8Array }).reply);
    expect(reply.ok && reply.message).toMatchObject({ kind: 'error', code: KRPC_ERROR.METHOD_UNKNOWN, tid: new Uint8Array([0xaa, 0xbb]) });

    const bad = mainlineCodec().decode(new Uint8Array(Buffer.from('d1:ad2:id3:abce1:q4:ping1:t2:xy1:y1:qe')), from);
    expect(bad).toMatchObject({ ok: false, reason: 'bad-args' });
    const reply2 = decodeKrpc((bad as { reply: Uint8Array }).reply);
    expect(reply2.ok && reply2.message).toMatchObject({ kind: 'error', code: KRPC_ERROR.PROTOCOL });
  });

  it('BEP 43: a read-only codec marks queries ro, and ro reaches the engine as readOnly', () => {
    const ro = mainlineCodec({ readOnly: true });
    const data = ro.encode({ kind: 'request', tid: 1, id, method: 'PING' });
    const q = decodeKrpc(data);
    expect(q.ok && q.message.kind === 'query' && q.message.readOnly).toBe(true);
    const r = mainlineCodec().decode(data, from);
    expect(r.ok && r.message.kind === 'request' && r.message.readOnly).toBe(true);
  });
});

describe('DhtNode with a protocol', () => {
  it('takes the id length from the protocol and refuses ids of another length', () => {
    expect(() => DhtNode.create({ protocol: 'mainline', id: 'ab'.repeat(32) })).toThrow(/40 hex characters \(160 bits\)/);
    expect(() => DhtNode.create({ protocol: 'kadscope', id: 'ab'.repeat(20) })).toThrow(/64 hex characters/);
    expect(() => DhtNode.create({ protocol: 'nope' as 'kadscope' })).toThrow(/protocol must be "kadscope", "mainline" or "hyperdht"/);
    const clock = new FakeClock();
    const n = DhtNode.create({ protocol: 'mainline', id: 'cd'.repeat(20), clock, transport: new MemoryNetwork({ clock }).createTransport() });
    expect(n.id).toBe('cd'.repeat(20));
    expect(n.protocol.name).toBe('mainline');
    expect(n.table.k).toBe(8);
    expect(DhtNode.create({ clock, transport: new MemoryNetwork({ clock }).createTransport() }).protocol).toBe(KADSCOPE_PROTOCOL);
  });

  it('two Mainline nodes on the memory network (fake time): join, lookup, and a 64-hex target refused', async () => {
    const clock = new FakeClock();
    const net = new MemoryNetwork({ clock });
    const a = DhtNode.create({ protocol: 'mainline', clock, transport: net.createTransport() });
    await clock.run(a.start());
    const b = DhtNode.create({ protocol: 'mainline', clock, transport: net.createTransport(), bootstrap: [a.address] });
    try {
      await clock.run(b.start());
      expect(b.table.size).toBe(1);
      const found = await clock.run(b.findNode(a.id));
      expect(found.closest.map((c) => c.id)).toEqual([a.id]);
      expect(() => b.lookup('ab'.repeat(32))).toThrow(/40 hex characters/);
      // Our answers carry BEP 42's `ip`: b learnt its address from a.
      expect(b.observedAddress).toEqual(b.address);
    } finally {
      await b.stop();
      await a.stop();
    }
  });

  it('BEP 43: a read-only node that queries us stays out of our routing table and is not pinged; a normal one gets in', async () => {
    const clock = new FakeClock();
    const net = new MemoryNetwork({ clock });
    const a = DhtNode.create({ protocol: 'mainline', clock, transport: net.createTransport() });
    const ro = DhtNode.create({ protocol: mainlineProtocol({ readOnly: true }), clock, transport: net.createTransport() });
    const rw = DhtNode.create({ protocol: 'mainline', clock, transport: net.createTransport() });
    try {
      for (const n of [a, ro, rw]) await clock.run(n.start());
      await clock.run(ro.ping(a.address));
      await clock.run(rw.ping(a.address));
      await clock.tickAsync(10_000);
      expect(a.table.get(ro.id)).toBeUndefined();
      expect(a.table.get(rw.id)).toBeDefined();
      // Nor is it pinged to see whether it is there (BEP 43); the normal one was, to verify it.
      expect(ro.snapshot().counters.rpc.PING.received).toBe(0);
      expect(rw.snapshot().counters.rpc.PING.received).toBeGreaterThan(0);
    } finally {
      for (const n of [rw, ro, a]) await n.stop();
    }
  });

  it('BEP 42: on a public observed address the id is replaced by a compliant one (id-changed, table rebuilt); on an exempt one it stays', async () => {
    const clock = new FakeClock();
    const net = new MemoryNetwork({ clock });
    // The memory network lets a transport take any host: b sits at a public address, so a's answers
    // carry it in `ip`; c sits at a private one (exempt).
    const a = DhtNode.create({ protocol: 'mainline', clock, transport: net.createTransport({ host: '127.0.0.1' }) });
    const b = DhtNode.create({ protocol: 'mainline', id: 'ee'.repeat(20), clock, transport: net.createTransport({ host: '203.0.113.7', port: 6881 }) });
    const c = DhtNode.create({ protocol: 'mainline', id: 'dd'.repeat(20), clock, transport: net.createTransport({ host: '192.168.1.9' }) });
    const changes: { from: string; to: string; reason: string }[] = [];
    b.on('id-changed', (e) => changes.push(e));
    c.on('id-changed', (e) => changes.push(e));
    try {
      for (const n of [a, b, c]) await clock.run(n.start());
      expect(bep42Status(Buffer.from(b.id, 'hex'), '203.0.113.7')).toBe('non-compliant');
      await clock.run(b.ping(a.address));
      await clock.run(c.ping(a.address));
      await clock.tickAsync(1_000);
      expect(b.observedAddress).toEqual({ host: '203.0.113.7', port: 6881 });
      expect(changes).toHaveLength(1);
      expect(changes[0]).toMatchObject({ from: 'ee'.repeat(20), to: b.id });
      expect(changes[0].reason).toMatch(/BEP 42.*203\.0\.113\.7:6881/);
      expect(bep42Status(Buffer.from(b.id, 'hex'), '203.0.113.7')).toBe('compliant');
      // The table was rebuilt around the new id and still holds a; a learns the new id on b's next query.
      expect(b.table.get(a.id)).toBeDefined();
      await clock.run(b.ping(a.address));
      await clock.tickAsync(10_000);
      expect(a.table.get(b.id)).toBeDefined();
      // Exempt: c keeps its id.
      expect(c.observedAddress?.host).toBe('192.168.1.9');
      expect(c.id).toBe('dd'.repeat(20));
      // A compliant id is kept: another settled answer changes nothing.
      await clock.run(b.ping(a.address));
      expect(changes).toHaveLength(1);
    } finally {
      for (const n of [c, b, a]) await n.stop();
    }
  });

  it("an answer without BEP 42's ip: ping reports the observed address as unknown and the node does not use it", async () => {
    const clock = new FakeClock();
    const net = new MemoryNetwork({ clock });
    // A bare peer that answers every query with an id and no `ip` (as some clients do).
    const peer = net.createTransport({ host: '127.0.0.2', port: 7000 });
    peer.onMessage((data, src) => {
      const q = decodeKrpc(data);
      if (q.ok && q.message.kind === 'query') peer.send(encodeKrpc({ kind: 'response', tid: q.message.tid, id: key }), src);
    });
    await peer.bind();
    const n = DhtNode.create({ protocol: 'mainline', clock, transport: net.createTransport() });
    try {
      await clock.run(n.start());
      const r = await clock.run(n.ping(peer.address));
      expect(r.id).toBe(Buffer.from(key).toString('hex'));
      expect(r.observed).toBeUndefined();
      expect(n.observedAddress).toBeNull();
      const d = mainlineCodec().decode(encodeKrpc({ kind: 'response', tid: new Uint8Array(4), id: key }), from);
      expect(d.ok && 'observed' in d.message).toBe(false);
    } finally {
      await n.stop();
      await peer.close();
    }
  });

  it('BEP 51: sample_infohashes over KRPC is answered with interval, num, samples of the stored infohashes and nodes', async () => {
    const clock = new FakeClock();
    const net = new MemoryNetwork({ clock });
    const a = DhtNode.create({ protocol: 'mainline', clock, transport: net.createTransport() });
    const asker = net.createTransport({ host: '127.0.0.3', port: 7001 });
    const answers: Uint8Array[] = [];
    asker.onMessage((data) => answers.push(data));
    await asker.bind();
    let b: DhtNode | undefined;
    try {
      await clock.run(a.start());
      b = DhtNode.create({ protocol: 'mainline', clock, transport: net.createTransport(), bootstrap: [a.address] });
      await clock.run(b.start());
      const topics = [new Uint8Array(20).fill(0x31), new Uint8Array(20).fill(0x32)];
      for (const t of topics) await clock.run(b.records.announce(t, 6881));
      const bId = b.id;
      asker.send(encodeKrpc({ kind: 'query', tid: new Uint8Array([0x51, 0x51]), id, readOnly: false, method: 'sample_infohashes', target: key }), a.address);
      await clock.tickAsync(100);
      expect(answers).toHaveLength(1);
      const r = decodeKrpc(answers[0]);
      expect(r.ok).toBe(true);
      const m = r.ok ? r.message : undefined;
      if (m?.kind !== 'response') throw new Error(`expected a response, got ${JSON.stringify(m)}`);
      expect(m.tid).toEqual(new Uint8Array([0x51, 0x51]));
      expect(Buffer.from(m.id).toString('hex')).toBe(a.id);
      expect(m.interval).toBe(21_600);
      expect(m.num).toBe(2);
      expect(m.samples?.map((x) => Buffer.from(x).toString('hex')).sort()).toEqual(topics.map((t) => Buffer.from(t).toString('hex')));
      expect(m.nodes?.map((n) => Buffer.from(n.id).toString('hex'))).toContain(bId);
      expect(m.observed).toEqual({ host: '127.0.0.3', port: 7001 });
      // Not counted as a dropped datagram.
      expect(a.snapshot().counters.dropped['unknown-method'] ?? 0).toBe(0);
    } finally {
      await b?.stop();
      await a.stop();
      await asker.close();
    }
  });

  it('BEP 32: find_node answers carry nodes6 for IPv6 contacts, want (n4, n6) picks the families, none means the asker\'s', async () => {
    const clock = new FakeClock();
    const net = new MemoryNetwork({ clock });
    const a = DhtNode.create({ protocol: 'mainline', clock, transport: net.createTransport({ host: '::1' }) });
    const asker = net.createTransport({ host: '::1', port: 7002 });
    const answers: Uint8Array[] = [];
    asker.onMessage((data) => answers.push(data));
    await asker.bind();
    const others: DhtNode[] = [];
    try {
      await clock.run(a.start());
      for (const host of ['::1', '127.0.0.1']) {
        const n = DhtNode.create({ protocol: 'mainline', clock, transport: net.createTransport({ host }), bootstrap: [a.address] });
        others.push(n);
        await clock.run(n.start());
      }
      await clock.tickAsync(10_000);
      const [v6, v4] = others.map((n) => n.id);
      expect(a.table.size).toBe(2);
      const ask = async (want?: Array<'n4' | 'n6'>): Promise<{ nodes6: boolean; ids: string[] }> => {
        answers.length = 0;
        const q = encodeKrpc({ kind: 'query', tid: new Uint8Array([6, 6]), id, readOnly: false, method: 'find_node', target: key, ...(want ? { want } : {}) });
        asker.send(q, a.address);
        await clock.tickAsync(100);
        // a may also ping the asker to verify it: only the answer to our query counts.
        const mine = answers.filter((d) => {
          const r = decodeKrpc(d);
          return r.ok && r.message.kind === 'response' && r.message.tid.length === 2 && r.message.tid[0] === 6;
        });
        expect(mine).toHaveLength(1);
        const r = decodeKrpc(mine[0]);
        if (!r.ok || r.message.kind !== 'response') throw new Error('expected a response');
        // The raw dictionary too, to see whether nodes6 went out.
        const nodes6 = Buffer.from(mine[0]).toString('latin1').includes('6:nodes6');
        return { nodes6, ids: (r.message.nodes ?? []).map((c) => Buffer.from(c.id).toString('hex')).sort() };
      };
      // No want: the family the query came over (the asker is on ::1), as BEP 32 says.
      const own = await ask();
      expect(own.ids).toEqual([v6]);
      expect(own.nodes6).toBe(true);
      const only6 = await ask(['n6']);
      expect(only6.ids).toEqual([v6]);
      expect(only6.nodes6).toBe(true);
      const only4 = await ask(['n4']);
      expect(only4.ids).toEqual([v4]);
      expect(only4.nodes6).toBe(false);
      expect((await ask(['n4', 'n6'])).ids).toEqual([v4, v6].sort());
    } finally {
      for (const n of others) await n.stop();
      await a.stop();
      await asker.close();
    }
  });
});
