// DhtNode with the HyperDHT protocol (the protocol seam) on the memory network under fake time:
// DOWN_HINT honoured (the named node is pinged and leaves the table if gone) and sent (the nodes
// that referred a dead node drop it; without hints they keep it), PING_NAT answered at the port it
// names, DELAYED_PING answered after its delay and bounded, a persisted id that no longer fits is
// replaced with a reason, an ephemeral node sends no id, and an adaptive node turns persistent
// only after its PING_NAT probe from a second socket gets through. Fixed seeds throughout.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import { DhtNode, MAX_DELAYED_ANSWERS, type DhtNodeOptions } from '../../core/node';
import { Writer } from '../../core/protocols/hyperdht/compact';
import { hyperNodeId } from '../../core/protocols/hyperdht/crypto';
import { INTERNAL_COMMANDS, decodeHyperMessage, encodeHyperRequest, type HyperResponse } from '../../core/protocols/hyperdht/messages';
import { hyperdhtProtocol, type HyperdhtProtocolOptions } from '../../core/protocols/hyperdht/protocol';
import { MemoryNetwork, type MemoryTransport } from '../../core/transport/memory';
import { endpointKey, type Endpoint, type Transport } from '../../core/transport/types';
import type { NodeEvents } from '../../core/types';

let clock: FakeClock;
let net: MemoryNetwork;
let nodes: DhtNode[] = [];
let dirs: string[] = [];
const rand = seededRandomBytes(77);
const hex = (b: Uint8Array): string => bytesToHex(b);

afterEach(async () => {
  for (const n of nodes) await n.stop();
  nodes = [];
  net?.destroy();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  dirs = [];
});

function setup(): void {
  clock = new FakeClock();
  net = new MemoryNetwork({ clock }, { seed: 5, latencyMs: { min: 1, max: 4 } });
}

/** A seam node on the memory network; maintenance quiet for the test's span. */
function make(mode: HyperdhtProtocolOptions, extra: Partial<DhtNodeOptions> = {}, transport: Transport = net.createTransport()): DhtNode {
  const n = DhtNode.create({ protocol: hyperdhtProtocol(mode), transport, clock, randomBytes: rand, rpcTimeoutMs: 1_000, maintenanceIntervalMs: 3_600_000, ...extra });
  nodes.push(n);
  return n;
}

/** size persistent nodes: the first knows its address (dht-rpc's bootstrapper), the rest join through it. */
async function network(size: number): Promise<DhtNode[]> {
  setup();
  const first = make({ ephemeral: false });
  await clock.run(first.start());
  first.assumeAddress(first.address);
  for (let i = 1; i < size; i++) await clock.run(make({ ephemeral: false }, { bootstrap: [first.address] }).start());
  return [...nodes];
}

/** A bare socket that sends dht-rpc datagrams by hand and keeps what comes back. */
async function raw(host?: string): Promise<{ t: MemoryTransport; got: Array<{ m: HyperResponse; from: Endpoint }> }> {
  const t = net.createTransport(host === undefined ? {} : { host });
  const got: Array<{ m: HyperResponse; from: Endpoint }> = [];
  t.onMessage((d, from) => {
    const r = decodeHyperMessage(d);
    if (r.ok && r.message.type === 'response') got.push({ m: r.message, from });
  });
  await t.bind();
  return { t, got };
}

function value(write: (w: Writer) => void, bytes: number): Uint8Array {
  const w = new Writer(bytes);
  write(w);
  return w.finish();
}

const internal = (tid: number, to: Endpoint, command: number, v: Uint8Array | null, id: Uint8Array | null = null): Uint8Array =>
  encodeHyperRequest({ tid, to, id, token: null, internal: true, command, target: null, value: v });

const holders = (all: DhtNode[], id: string): DhtNode[] => all.filter((n) => n.running && n.table.has(id));

describe('DhtNode with the HyperDHT protocol on the memory network', () => {
  it('persistent nodes take the id of their address and find each other', async () => {
    const all = await network(12);
    for (const n of all) {
      expect(n.persistent).toBe(true);
      expect(n.id).toBe(hex(hyperNodeId(n.address)!));
      for (const e of n.table.entries()) expect(e.id).toBe(hex(hyperNodeId(e)!));
    }
    expect(holders(all, all[11].id).length).toBeGreaterThan(3);
  });

  it('honours a DOWN_HINT: answers it, pings the named node and drops it when it is gone (not when it answers)', async () => {
    const all = await network(8);
    const a = all.find((n) => n.table.size > 3)!;
    const [victim, alive] = all.filter((n) => n !== a && a.table.has(n.id));
    await victim.stop();
    const hinter = await raw();
    hinter.t.send(internal(9, a.address, INTERNAL_COMMANDS.DOWN_HINT, value((w) => w.ipv4(victim.address), 6)), a.address);
    hinter.t.send(internal(10, a.address, INTERNAL_COMMANDS.DOWN_HINT, value((w) => w.ipv4(alive.address), 6)), a.address);
    await clock.tickAsync(10_000);
    expect(hinter.got.map((g) => g.m.tid).sort((x, y) => x - y)).toEqual([9, 10]);
    expect(a.table.has(victim.id)).toBe(false);
    expect(a.table.has(alive.id)).toBe(true);
    // Too short to name anyone: dropped in silence, as dht-rpc does.
    hinter.t.send(internal(11, a.address, INTERNAL_COMMANDS.DOWN_HINT, new Uint8Array(5)), a.address);
    await clock.tickAsync(5_000);
    expect(hinter.got.map((g) => g.m.tid)).not.toContain(11);
  });

  it('sends DOWN_HINTs to the nodes that referred a dead one, which then drop it', async () => {
    const all = await network(10);
    const victim = all[5];
    const referrers = all.filter((n) => n !== victim && n.table.has(victim.id));
    expect(referrers.length).toBeGreaterThan(1);
    await victim.stop();
    const asker = make({ ephemeral: true }, { bootstrap: [all[0].address] });
    await clock.run(asker.start());
    await clock.run(asker.findNode(victim.id));
    await clock.tickAsync(10_000);
    expect(holders(referrers, victim.id).length).toBeLessThan(referrers.length);
    // The referrers that were told check for themselves: none kept it.
    const told = referrers.filter((n) => n.metrics().counters.rpc.PING.received > 0);
    expect(told.length).toBeGreaterThan(0);
  });

  it('without DOWN_HINTs the referrers keep the dead node (control)', async () => {
    const all = await network(10);
    const victim = all[5];
    const referrers = all.filter((n) => n !== victim && n.table.has(victim.id));
    await victim.stop();
    const asker = make({ ephemeral: true }, { bootstrap: [all[0].address], downHints: false });
    await clock.run(asker.start());
    await clock.run(asker.findNode(victim.id));
    await clock.tickAsync(10_000);
    expect(holders(referrers, victim.id).length).toBe(referrers.length);
  });

  it('answers PING_NAT at the port it names on the asker\'s host, saying so; port 0 gets nothing', async () => {
    const [a] = await network(2);
    const asker = await raw();
    const other = await raw(asker.t.address.host);
    asker.t.send(internal(21, a.address, INTERNAL_COMMANDS.PING_NAT, value((w) => w.uint16(other.t.address.port), 2)), a.address);
    asker.t.send(internal(22, a.address, INTERNAL_COMMANDS.PING_NAT, value((w) => w.uint16(0), 2)), a.address);
    await clock.tickAsync(1_000);
    expect(asker.got).toEqual([]);
    expect(other.got.map((g) => g.m.tid)).toEqual([21]);
    expect(other.got[0].m.to).toEqual(other.t.address);
    expect(hex(other.got[0].m.id!)).toBe(a.id);
  });

  it('answers DELAYED_PING after its delay by the node\'s clock, not past 10 s, at most MAX_DELAYED_ANSWERS at once', async () => {
    const [a] = await network(2);
    const asker = await raw();
    const delay = (ms: number): Uint8Array => value((w) => w.uint32(ms), 4);
    const sentAt = clock.now();
    asker.t.send(internal(31, a.address, INTERNAL_COMMANDS.DELAYED_PING, delay(3_000)), a.address);
    asker.t.send(internal(32, a.address, INTERNAL_COMMANDS.DELAYED_PING, delay(10_001)), a.address);
    await clock.tickAsync(2_990);
    expect(asker.got).toEqual([]);
    await clock.tickAsync(20);
    expect(asker.got.map((g) => g.m.tid)).toEqual([31]);
    expect(clock.now() - sentAt).toBeGreaterThanOrEqual(3_000);
    await clock.tickAsync(20_000);
    expect(asker.got.map((g) => g.m.tid)).toEqual([31]);
    // A burst beyond the bound: the first MAX_DELAYED_ANSWERS are answered, the rest get silence.
    asker.got.length = 0;
    for (let i = 0; i < MAX_DELAYED_ANSWERS + 6; i++) asker.t.send(internal(100 + i, a.address, INTERNAL_COMMANDS.DELAYED_PING, delay(5_000)), a.address);
    await clock.tickAsync(6_000);
    expect(asker.got).toHaveLength(MAX_DELAYED_ANSWERS);
    // Held answers die with the node: none goes out after stop(), no timer is left.
    asker.got.length = 0;
    asker.t.send(internal(300, a.address, INTERNAL_COMMANDS.DELAYED_PING, delay(5_000)), a.address);
    await clock.tickAsync(100);
    const timers = clock.pendingTimers;
    await a.stop();
    expect(clock.pendingTimers).toBeLessThan(timers);
    await clock.tickAsync(10_000);
    expect(asker.got).toEqual([]);
  });

  it('replaces a persisted id that no longer fits its address, with a reason saying why', async () => {
    const all = await network(4);
    const dir = await mkdtemp(join(tmpdir(), 'kadscope-hyperdht-seam-node-'));
    dirs.push(dir);
    const once = make({ ephemeral: true }, { dataDir: dir });
    await once.start();
    const saved = once.id;
    await once.stop();
    const n = make({ ephemeral: false }, { dataDir: dir });
    const changes: Array<NodeEvents['id-changed']> = [];
    n.on('id-changed', (e) => changes.push(e));
    await n.start();
    expect(n.id).toBe(saved);
    await clock.run(n.bootstrap([all[0].address]));
    expect(n.id).toBe(hex(hyperNodeId(n.address)!));
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ from: saved, to: n.id });
    expect(changes[0].reason).toMatch(new RegExp(`saved id no longer fits.*derived from the address others see \\(${endpointKey(n.address).replace(/\./g, '\\.')}\\)`));
  });

  it('an ephemeral node sends no id and enters no table', async () => {
    const all = await network(6);
    const transport = net.createTransport();
    const sentIds: Array<Uint8Array | null> = [];
    const send = transport.send.bind(transport);
    transport.send = (d, to) => {
      const m = decodeHyperMessage(d);
      if (m.ok) sentIds.push(m.message.id);
      send(d, to);
    };
    const c = make({ ephemeral: true }, { bootstrap: [all[0].address] }, transport);
    await clock.run(c.start());
    await clock.run(c.findNode(hex(rand(32))));
    expect(c.persistent).toBe(false);
    expect(sentIds.length).toBeGreaterThan(5);
    expect(sentIds.every((id) => id === null)).toBe(true);
    expect(all.some((n) => n.table.has(hex(hyperNodeId(c.address)!)))).toBe(false);
  });

  it('an adaptive node turns persistent after its PING_NAT probe from a second socket; without one it stays ephemeral', async () => {
    const all = await network(6);
    const verdicts: Array<NodeEvents['reachability']> = [];
    const d = make({}, { bootstrap: [all[0].address] });
    d.on('reachability', (e) => verdicts.push(e));
    await clock.run(d.start());
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]).toMatchObject({ address: d.address, reachable: true, asked: 5 });
    expect(verdicts[0].answered).toBeGreaterThanOrEqual(3);
    expect(d.persistent).toBe(true);
    expect(d.id).toBe(hex(hyperNodeId(d.address)!));
    await clock.run(d.findNode(d.id));
    expect(holders(all, d.id).length).toBeGreaterThan(0);

    // The same node but a transport that cannot open a second socket: no probe, so no id.
    const inner = net.createTransport();
    const bare: Transport = {
      bind: () => inner.bind(),
      send: (data, to) => inner.send(data, to),
      onMessage: (h) => inner.onMessage(h),
      close: () => inner.close(),
      get address() {
        return inner.address;
      },
      kind: inner.kind,
    };
    const e = make({}, { bootstrap: [all[0].address] }, bare);
    const why: Array<NodeEvents['reachability']> = [];
    e.on('reachability', (v) => why.push(v));
    await clock.run(e.start());
    expect(e.persistent).toBe(false);
    expect(why).toMatchObject([{ reachable: false, reason: expect.stringMatching(/cannot open a second socket/) as unknown }]);
    expect(all.some((n) => n.table.has(hex(hyperNodeId(e.address)!)))).toBe(false);
  });

  it('hostile internal commands (random values, claimed ids, addresses) never throw, and only ids that fit their address enter the table', async () => {
    const [a, b] = await network(2);
    const attacker = await raw();
    const claimed = fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: null });
    const v = fc.option(fc.uint8Array({ minLength: 0, maxLength: 12 }), { nil: null });
    const cmd = fc.constantFrom(INTERNAL_COMMANDS.PING_NAT, INTERNAL_COMMANDS.DOWN_HINT, INTERNAL_COMMANDS.DELAYED_PING, 0, 2, 5, 99);
    const samples = fc.sample(fc.tuple(fc.integer({ min: 0, max: 0xffff }), cmd, v, claimed), { seed: 4242, numRuns: 300 });
    for (const [tid, command, val, id] of samples) attacker.t.send(internal(tid, a.address, command, val, id), a.address);
    // And hints naming b, from an id that is not the sender's (b answers: it stays).
    attacker.t.send(internal(7, a.address, INTERNAL_COMMANDS.DOWN_HINT, value((w) => w.ipv4(b.address), 6), hyperNodeId(b.address)), a.address);
    await clock.tickAsync(30_000);
    expect(a.running).toBe(true);
    expect(a.table.has(b.id)).toBe(true);
    for (const e of a.table.entries()) expect(e.id).toBe(hex(hyperNodeId(e)!));
    expect(a.table.has(hex(hyperNodeId(attacker.t.address)!))).toBe(false);
  });
});
