// kadscope's HyperDHT node on the memory network under fake time: ids are the address's, no
// forged id enters a table, DOWN_HINTs are honoured and sent, a persisted id that no longer fits
// is replaced with a line saying why, ephemeral nodes stay out of tables, the adaptive node
// turns persistent after its PING_NAT probe.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import { MemoryNetwork, type MemoryTransport } from '../../core/transport/memory';
import type { Endpoint } from '../../core/transport/types';
import { Writer } from '../../core/protocols/hyperdht/compact';
import { hyperNodeId } from '../../core/protocols/hyperdht/crypto';
import { INTERNAL_COMMANDS, encodeHyperRequest } from '../../core/protocols/hyperdht/messages';
import { HyperDhtNode, type HyperDhtNodeOptions } from '../../core/protocols/hyperdht/node';

let clock: FakeClock;
let net: MemoryNetwork;
let nodes: HyperDhtNode[] = [];
const rand = seededRandomBytes(77);

afterEach(async () => {
  for (const n of nodes) await n.stop();
  nodes = [];
  net?.destroy();
});

const QUIET = { pingIntervalMs: 3_600_000, refreshIntervalMs: 3_600_000 };

async function makeNode(opts: Partial<HyperDhtNodeOptions> & { bootstrap: Endpoint[] }, probe = false): Promise<HyperDhtNode> {
  const transport = net.createTransport();
  const n = new HyperDhtNode(
    { transport, clock, randomBytes: rand, ...(probe ? { createProbeTransport: () => net.createTransport({ host: transport.address.host }) } : {}) },
    { ...QUIET, ...opts },
  );
  nodes.push(n);
  await transport.bind();
  await clock.run(n.start());
  return n;
}

/** A network of size nodes: the first knows its address, the rest turn persistent on joining. */
async function network(size: number): Promise<HyperDhtNode[]> {
  clock = new FakeClock();
  net = new MemoryNetwork({ clock }, { seed: 5, latencyMs: { min: 1, max: 4 } });
  const t = net.createTransport();
  const addr = await t.bind();
  const first = new HyperDhtNode({ transport: t, clock, randomBytes: rand }, { ...QUIET, bootstrap: [], knownAddress: addr, ephemeral: false });
  nodes.push(first);
  await clock.run(first.start());
  for (let i = 1; i < size; i++) await makeNode({ bootstrap: [addr], ephemeral: false });
  return [...nodes];
}

function raw(): MemoryTransport {
  const t = net.createTransport();
  t.onMessage(() => {});
  return t;
}

function ipv4(e: Endpoint): Uint8Array {
  const w = new Writer(6);
  w.ipv4(e);
  return w.finish();
}

describe('HyperDhtNode on the memory network', () => {
  it('persistent nodes take the id of their address and find each other', async () => {
    const all = await network(12);
    for (const n of all) {
      expect(n.persistent).toBe(true);
      expect(n.id).toBe(bytesToHex(hyperNodeId(n.address)!));
    }
    const last = all[11];
    expect(all.filter((n) => n.table.has(last.id)).length).toBeGreaterThan(3);
  });

  it('keeps a forged id out of the table and takes a true one', async () => {
    const [a] = await network(3);
    const liar = raw();
    const liarAddr = await liar.bind();
    const other = { host: '10.9.9.9', port: 4242 };
    const forged = hyperNodeId(other)!;
    const ping = (id: Uint8Array) => encodeHyperRequest({ tid: 1, to: a.address, id, token: null, internal: true, command: INTERNAL_COMMANDS.PING, target: null, value: null });
    const before = a.rpc.stats.idMismatches;
    liar.send(ping(forged), a.address);
    await clock.advance(50);
    expect(a.rpc.stats.idMismatches).toBe(before + 1);
    expect(a.table.has(bytesToHex(forged))).toBe(false);
    expect(a.table.has(bytesToHex(hyperNodeId(liarAddr)!))).toBe(false);
    // The same datagram with the sender's true id: it enters (so the check above can fail).
    liar.send(ping(hyperNodeId(liarAddr)!), a.address);
    await clock.advance(50);
    expect(a.table.has(bytesToHex(hyperNodeId(liarAddr)!))).toBe(true);
  });

  it('honours a DOWN_HINT: pings the named node and drops it when it is gone', async () => {
    const all = await network(8);
    const a = all.find((n) => n.table.entries().length > 2)!;
    const victim = all.find((n) => n !== a && a.table.has(n.id))!;
    await victim.stop();
    const hinter = raw();
    await hinter.bind();
    hinter.send(encodeHyperRequest({ tid: 9, to: a.address, id: null, token: null, internal: true, command: INTERNAL_COMMANDS.DOWN_HINT, target: null, value: ipv4(victim.address) }), a.address);
    await clock.advance(10_000);
    expect(a.table.has(victim.id)).toBe(false);
  });

  it('sends DOWN_HINTs to the nodes that referred a dead one, which then drop it', async () => {
    const all = await network(10);
    const asker = await makeNode({ bootstrap: [all[0].address], ephemeral: true });
    const victim = all[5];
    const referrers = all.filter((n) => n !== victim && n.table.has(victim.id));
    expect(referrers.length).toBeGreaterThan(0);
    await victim.stop();
    await clock.run(asker.findNode(hyperNodeId(victim.address)!));
    await clock.advance(10_000);
    const still = referrers.filter((n) => n.table.has(victim.id));
    expect(still.length).toBeLessThan(referrers.length);
    // Without hints (downHints: false) nobody but the asker would have learnt it: control below.
  });

  it('without DOWN_HINTs the referrers keep the dead node (control)', async () => {
    const all = await network(10);
    const asker = await makeNode({ bootstrap: [all[0].address], ephemeral: true, downHints: false });
    const victim = all[5];
    const referrers = all.filter((n) => n !== victim && n.table.has(victim.id));
    await victim.stop();
    await clock.run(asker.findNode(hyperNodeId(victim.address)!));
    await clock.advance(10_000);
    expect(referrers.filter((n) => n.table.has(victim.id)).length).toBe(referrers.length);
  });

  it('replaces a persisted id that no longer fits its address, with a line saying why', async () => {
    const all = await network(4);
    const lines: string[] = [];
    const saved = 'ab'.repeat(32);
    const n = await makeNode({ bootstrap: [all[0].address], ephemeral: false, persistedId: saved, onLog: (l) => lines.push(l) });
    expect(n.id).toBe(bytesToHex(hyperNodeId(n.address)!));
    expect(lines.some((l) => l.includes('replacing persisted id abababab') && l.includes(n.id.slice(0, 16)) && l.includes('BLAKE2b-256'))).toBe(true);
  });

  it('an ephemeral node sends no id and enters no table', async () => {
    const all = await network(6);
    const c = await makeNode({ bootstrap: [all[0].address], ephemeral: true });
    await clock.run(c.findNode(rand(32)));
    expect(c.persistent).toBe(false);
    const itsId = bytesToHex(hyperNodeId(c.address)!);
    expect(all.some((n) => n.table.has(itsId))).toBe(false);
  });

  it('an adaptive node turns persistent after the PING_NAT probe from its second socket', async () => {
    const all = await network(6);
    const d = await makeNode({ bootstrap: [all[0].address] }, true);
    expect(d.persistent).toBe(true);
    const e = await makeNode({ bootstrap: [all[0].address] }, false);
    expect(e.persistent).toBe(false);
  });
});
