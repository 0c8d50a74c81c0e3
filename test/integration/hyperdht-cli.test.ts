// The CLI with --protocol hyperdht, through main(), against 20 real hyperdht nodes on 127.0.0.1,
// with the JSON shapes: lookup { closest: [{ id, host, port }] }, put { key }, get <key>
// prints the value, announce <topic> --keys F { publicKey } (F created when missing), peers <topic>
// { peers: [public key hex] }. The one-shots run DhtNode on the protocol seam (node.records with
// HyperDHT's record model). And kadscope's own HyperDHT testnet (createTestnet with the hyperdht
// protocol, as node --testnet N runs) serving a reference hyperdht client.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandomBytes } from '../../core/id';
import { hyperNodeId } from '../../core/protocols/hyperdht/crypto';
import { createTestnet } from '../../core/testnet';
import { endpointKey } from '../../core/transport/types';
import { runCli, type CliRun } from './cli-run';
import { createHyperTestnet, refKeyPair, type RefNode, type RefTestnet } from './hyperdht-testnet';

const require = createRequire(import.meta.url);
const rand = seededRandomBytes(31);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const cli = (...argv: string[]): Promise<CliRun> => runCli(argv);

describe('kadscope CLI --protocol hyperdht against hyperdht nodes', () => {
  let net: RefTestnet;
  let bs: string;
  let dir: string;
  beforeAll(async () => {
    net = await createHyperTestnet(20);
    bs = net.bootstrap.map(endpointKey).join(',');
    dir = await mkdtemp(join(tmpdir(), 'kadscope-hyperdht-cli-'));
  });
  afterAll(async () => {
    await net?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('lookup --json: closest [{ id, host, port }], each id the BLAKE2b-256 of its address', async () => {
    const target = hex(rand(32));
    const r = await cli('lookup', target, '--protocol', 'hyperdht', '--bootstrap', bs, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out[0]) as { closest: Array<{ id: string; host: string; port: number }> };
    expect(j.closest).toHaveLength(19); // 20 nodes, the first of which stays ephemeral
    for (const c of j.closest) {
      expect(Object.keys(c).sort()).toEqual(['host', 'id', 'port']);
      expect(c.id).toBe(hex(hyperNodeId(c)!));
    }
  });

  it('put --json gives the key; a reference node reads it; get <key> prints the value', async () => {
    const put = await cli('put', 'hello hyperdht', '--protocol=hyperdht', '--bootstrap', bs, '--json');
    expect(put.code).toBe(0);
    const { key } = JSON.parse(put.out[0]) as { key: string };
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect((await net.nodes[4].immutableGet(Buffer.from(key, 'hex')))!.value.toString()).toBe('hello hyperdht');
    expect(await cli('get', key, '--protocol', 'hyperdht', '--bootstrap', bs)).toEqual({ code: 0, out: ['hello hyperdht'], err: [] });
    const missing = await cli('get', hex(rand(32)), '--protocol', 'hyperdht', '--bootstrap', bs);
    expect(missing.code).toBe(1);
    expect(missing.err[0]).toMatch(/NOT_FOUND/);
  });

  it('announce <topic> --keys F --json creates F and gives publicKey; a reference lookup finds it; peers --json lists it', async () => {
    const topic = hex(rand(32));
    const keys = join(dir, 'announce.key');
    expect(existsSync(keys)).toBe(false);
    const ann = await cli('announce', topic, '--keys', keys, '--protocol', 'hyperdht', '--bootstrap', bs, '--json');
    expect(ann.code).toBe(0);
    expect(existsSync(keys)).toBe(true);
    const { publicKey } = JSON.parse(ann.out[0]) as { publicKey: string };
    expect(publicKey).toMatch(/^[0-9a-f]{64}$/);
    const seen = new Set<string>();
    for await (const reply of net.nodes[9].lookup(Buffer.from(topic, 'hex'))) for (const p of reply.peers ?? []) seen.add(hex(p.publicKey));
    expect(seen.has(publicKey)).toBe(true);

    // A reference node announces too; peers shows both.
    const refKp = refKeyPair(Buffer.from(rand(32)));
    await net.nodes[12].announce(Buffer.from(topic, 'hex'), refKp, []).finished();
    const peers = await cli('peers', topic, '--protocol', 'hyperdht', '--bootstrap', bs, '--json');
    expect(peers.code).toBe(0);
    const j = JSON.parse(peers.out[0]) as { peers: string[] };
    expect(j.peers).toEqual(expect.arrayContaining([publicKey, hex(refKp.publicKey)]));
    // The same key file again: the same public key.
    const again = await cli('announce', topic, '--keys', keys, '--protocol', 'hyperdht', '--bootstrap', bs, '--json');
    expect((JSON.parse(again.out[0]) as { publicKey: string }).publicKey).toBe(publicKey);
  });

  it('mutable put and get (get <public key> --mutable), and a lower seq refused with the seq the network holds', async () => {
    const keys = join(dir, 'mutable.key');
    const put = await cli('put', '--mutable', '--keys', keys, '--seq', '5', 'five', '--protocol', 'hyperdht', '--bootstrap', bs, '--json');
    expect(put.code).toBe(0);
    const j = JSON.parse(put.out[0]) as { key: string; publicKey: string; seq: number; accepted: number; asked: number };
    expect(j.seq).toBe(5);
    expect(j.accepted).toBe(j.asked);
    const got = await cli('get', j.publicKey, '--mutable', '--protocol', 'hyperdht', '--bootstrap', bs, '--json');
    expect(JSON.parse(got.out[0])).toMatchObject({ text: 'five', seq: 5 });
    // A lower seq than the network holds is refused before anything is written, naming a holder.
    const low = await cli('put', '--mutable', '--keys', keys, '--seq', '4', 'four', '--protocol', 'hyperdht', '--bootstrap', bs);
    expect(low.code).toBe(1);
    expect(low.err[0]).toMatch(/^kadscope: SEQ_TOO_LOW: seq 4 is lower than the stored seq 5 \(node [0-9a-f]{16}… holds seq 5\)/);
  });

  it('crawl --protocol hyperdht maps every node from one bootstrap address, staying out of their tables', async () => {
    const addresses = (): Set<string> => new Set(net.nodes.flatMap((n) => n.table.toArray().map(endpointKey)));
    const before = addresses();
    const r = await cli('crawl', '--protocol', 'hyperdht', '--bootstrap', bs, '--json', '--data-dir', dir);
    expect(r.code).toBe(0);
    expect([...addresses()].filter((a) => !before.has(a))).toEqual([]);
    const j = JSON.parse(r.out[0]) as { protocol: string; found: number; reachable: number };
    expect(j.protocol).toBe('hyperdht');
    expect(j.found).toBe(20);
    expect(j.reachable).toBe(20);
  });

  it('bad usage is one clear line and exit 2', async () => {
    expect(await cli('lookup', 'xyz', '--protocol', 'hyperdht', '--bootstrap', bs)).toMatchObject({ code: 2, err: [expect.stringMatching(/64 hex/)] });
    expect(await cli('lookup', hex(rand(32)), '--protocol', 'hyperdht')).toMatchObject({ code: 2, err: [expect.stringMatching(/--bootstrap is required/)] });
    expect(await cli('trace', 'show', 'x', '--protocol', 'hyperdht')).toMatchObject({ code: 2 });
    expect(await cli('lookup', hex(rand(32)), '--protocol', 'nope', '--bootstrap', bs)).toMatchObject({ code: 2 });
  });
});

describe("kadscope's own HyperDHT testnet", () => {
  it('runs persistent nodes that serve a reference hyperdht client', async () => {
    const tn = await createTestnet({ size: 10, node: { protocol: 'hyperdht' } });
    const HyperDHT = require('hyperdht') as new (opts: { bootstrap: string[]; host: string; ephemeral: boolean }) => RefNode & { fullyBootstrapped(): Promise<void> };
    const ref = new HyperDHT({ bootstrap: tn.bootstrap, host: '127.0.0.1', ephemeral: true });
    try {
      // Persistent: each node has taken the id of its address.
      for (const n of tn.nodes) expect(n.id).toBe(hex(hyperNodeId(n.address)!));
      await ref.fullyBootstrapped();
      const { hash } = await ref.immutablePut(Buffer.from('served by kadscope'));
      const r = await cli('get', hex(hash), '--protocol', 'hyperdht', '--bootstrap', tn.bootstrap.join(','));
      expect(r).toEqual({ code: 0, out: ['served by kadscope'], err: [] });
      expect(tn.nodes.filter((n) => n.records.held().some((r) => r.key === hex(hash))).length).toBeGreaterThan(0);
    } finally {
      await ref.destroy();
      await tn.destroy();
    }
  });
});

describe('kadscope node --protocol hyperdht (DhtNode on the seam)', () => {
  it('--testnet 6 --json: an adaptive node turns persistent after its PING_NAT probe, with the id of its address; SIGTERM stops it', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const child = spawn(process.execPath, [join(root, 'electron/bin/kadscope.mjs'), 'node', '--protocol', 'hyperdht', '--testnet', '6', '--json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: string[] = [];
    const err: string[] = [];
    let buf = '';
    const started = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no 'started' line within 30 s; stderr: ${err.join('|')}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) {
          out.push(l);
          const j = JSON.parse(l) as Record<string, unknown>;
          if (j.event === 'started') {
            clearTimeout(timer);
            resolve(j);
          }
        }
      });
      child.stderr.on('data', (d: Buffer) => err.push(d.toString()));
    });
    try {
      const j = await started;
      expect(JSON.parse(out[0])).toMatchObject({ protocol: 'hyperdht', event: 'testnet', size: 6 });
      expect(j.persistent).toBe(true);
      const [host, port] = String(j.address).split(':');
      expect(j.id).toBe(hex(hyperNodeId({ host, port: Number(port) })!));
      expect(j.peers as number).toBeGreaterThan(0);
      expect(err.join('')).toMatch(/hyperdht: reachable at 127\.0\.0\.1:\d+: \d of \d peers asked reached/);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 60_000);
});
