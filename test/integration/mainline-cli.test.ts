// The CLI with --protocol mainline, through main(), against 30 real bittorrent-dht nodes on
// 127.0.0.1 (first one `bootstrap: false`), with the shapes: lookup --json has
// closest [{ id, host, port }] with 40-hex ids; announce <40-hex> --port P; peers <40-hex> --json has
// peers ["host:port"]; a topic that is not 40 hex is hashed with SHA-1 and the output says so.
import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import DHT from 'bittorrent-dht';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareDistance, seededRandomBytes } from '../../core/id';
import { createTestnet } from '../../core/testnet';
import { runCli, type CliRun } from './cli-run';
import { createReferenceNetwork, referenceNode, type ReferenceNetwork } from './mainline-reference';

const LOOKUP_WAIT_MS = 30_000;
const rand = seededRandomBytes(12);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const cli = (...argv: string[]): Promise<CliRun> => runCli(argv);

let net: ReferenceNetwork;
beforeAll(async () => {
  net = await createReferenceNetwork(30);
}, 120_000);
afterAll(async () => {
  await net?.close();
});

describe('kadscope CLI --protocol mainline against bittorrent-dht nodes', () => {
  it('lookup --json: closest [{ id, host, port }] with 40-hex ids, the true closest first', async () => {
    const target = rand(20);
    const r = await cli('lookup', hex(target), '--protocol', 'mainline', '--bootstrap', net.bootstrap, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out[0]) as { target: string; closest: Array<{ id: string; host: string; port: number }> };
    expect(j.target).toBe(hex(target));
    expect(j.closest).toHaveLength(8);
    for (const c of j.closest) expect(c).toEqual({ id: expect.stringMatching(/^[0-9a-f]{40}$/), host: '127.0.0.1', port: expect.any(Number) });
    const truth = net.nodes.map((d) => new Uint8Array(d.nodeId)).sort((a, b) => compareDistance(target, a, b));
    expect(j.closest[0].id).toBe(hex(truth[0]));
  }, 60_000);

  it('a 64-hex target or key, or a command without Mainline, are usage errors', async () => {
    const bad = await cli('lookup', 'ab'.repeat(32), '--protocol', 'mainline', '--bootstrap', net.bootstrap);
    expect(bad.code).toBe(2);
    expect(bad.err.join('\n')).toMatch(/40 hex characters \(160 bits\)/);
    const get = await cli('get', 'ab'.repeat(32), '--protocol', 'mainline', '--bootstrap', net.bootstrap);
    expect(get.code).toBe(2);
    expect(get.err.join('\n')).toMatch(/a key is 40 hex characters/);
    const crawls = await cli('trace', '--protocol', 'mainline');
    expect(crawls.code).toBe(2);
    expect(crawls.err.join('\n')).toMatch(/trace does not speak --protocol mainline yet/);
  });

  it('put --json has a 40-hex key (BEP 44, SHA-1 of the bencoded value) that a reference node gets; get prints the value', async () => {
    const put = await cli('put', 'hello mainline', '--protocol', 'mainline', '--bootstrap', net.bootstrap, '--json');
    expect(put.code).toBe(0);
    const { key, storedAt } = JSON.parse(put.out[0]) as { key: string; storedAt: string[] };
    expect(key).toBe(createHash('sha1').update('14:hello mainline').digest('hex'));
    expect(storedAt.length).toBeGreaterThan(0);
    const ref = await new Promise<{ v: Buffer } | null>((resolve, reject) => net.nodes[9].get(Buffer.from(key, 'hex'), { cache: false }, (e, v) => (e ? reject(e) : resolve(v))));
    expect(ref?.v.toString()).toBe('hello mainline');
    const get = await cli('get', key, '--protocol', 'mainline', '--bootstrap', net.bootstrap);
    expect(get.code).toBe(0);
    expect(get.out).toEqual(['hello mainline']);
  }, 90_000);

  it('put --mutable --keys F --seq N --salt S, get --salt S; a reused seq and a cas mismatch fail', async () => {
    const keys = join(await mkdtemp(join(tmpdir(), 'kadscope-ml-')), 'keys.json');
    const flags = ['--protocol', 'mainline', '--bootstrap', net.bootstrap];
    const one = await cli('put', '--mutable', '--keys', keys, '--seq', '1', '--salt', 'notes', 'first', ...flags, '--json');
    expect(one.code).toBe(0);
    const j = JSON.parse(one.out[0]) as { key: string; seq: number; publicKey: string; salt: string };
    expect(j.key).toBe(createHash('sha1').update(Buffer.concat([Buffer.from(j.publicKey, 'hex'), Buffer.from('notes')])).digest('hex'));
    expect(j).toMatchObject({ seq: 1, salt: Buffer.from('notes').toString('hex') });
    expect((await cli('put', '--mutable', '--keys', keys, '--seq', '2', '--salt', 'notes', 'second', ...flags)).code).toBe(0);
    const got = await cli('get', j.key, '--salt', 'notes', ...flags, '--json');
    expect(got.code).toBe(0);
    expect(JSON.parse(got.out[0])).toMatchObject({ key: j.key, text: 'second', seq: 2 });
    const reused = await cli('put', '--mutable', '--keys', keys, '--seq', '2', '--salt', 'notes', 'other', ...flags);
    expect(reused.code).toBe(1);
    expect(reused.err.join('\n')).toMatch(/seq 2 is already stored with a different value/);
    const cas = await cli('put', '--mutable', '--keys', keys, '--seq', '3', '--cas', '1', '--salt', 'notes', 'third', ...flags);
    expect(cas.code).toBe(1);
    expect(cas.err.join('\n')).toMatch(/compare-and-swap expected seq 1/);
  }, 120_000);

  it('announce <40-hex> --port P, then peers <40-hex> --json lists "host:port"; a reference lookup finds it too', async () => {
    const infoHash = hex(rand(20));
    const a = await cli('announce', infoHash, '--port', '6881', '--protocol', 'mainline', '--bootstrap', net.bootstrap, '--json');
    expect(a.code).toBe(0);
    const aj = JSON.parse(a.out[0]) as { key: string; port: number; hashed: string | null; storedAt: string[] };
    expect(aj).toMatchObject({ key: infoHash, port: 6881, hashed: null });
    expect(aj.storedAt.length).toBeGreaterThan(0);

    const p = await cli('peers', infoHash, '--protocol', 'mainline', '--bootstrap', net.bootstrap, '--json');
    expect(p.code).toBe(0);
    const pj = JSON.parse(p.out[0]) as { key: string; peers: string[] };
    expect(pj.key).toBe(infoHash);
    expect(pj.peers).toContain('127.0.0.1:6881');

    const asker: DHT = net.nodes[3];
    const seen: string[] = [];
    const onPeer = (peer: { host: string; port: number }): void => {
      seen.push(`${peer.host}:${peer.port}`);
    };
    asker.on('peer', onPeer);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('reference lookup did not finish')), LOOKUP_WAIT_MS);
      asker.lookup(infoHash, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    asker.off('peer', onPeer);
    expect(seen).toContain('127.0.0.1:6881');
  }, 90_000);

  it('a topic that is not 40 hex characters is hashed with SHA-1, and the output says so', async () => {
    const sha1 = createHash('sha1').update('debian-13.iso').digest('hex');
    const a = await cli('announce', 'debian-13.iso', '--port', '7000', '--protocol', 'mainline', '--bootstrap', net.bootstrap);
    expect(a.code).toBe(0);
    expect(a.err.join('\n')).toContain(`not a 40-hex info hash: announcing under its SHA-1, ${sha1}`);
    const p = await cli('peers', 'debian-13.iso', '--protocol', 'mainline', '--bootstrap', net.bootstrap, '--json');
    const pj = JSON.parse(p.out[0]) as { key: string; hashed: string; peers: string[] };
    expect(pj).toMatchObject({ key: sha1, hashed: 'sha1' });
    expect(pj.peers).toContain('127.0.0.1:7000');
  }, 90_000);

  it("node --testnet N --protocol mainline's network (createTestnet with Mainline nodes) serves a bittorrent-dht client", async () => {
    const testnet = await createTestnet({ size: 20, transport: 'udp', host: '127.0.0.1', k: 8, node: { protocol: 'mainline' } });
    const client = referenceNode(testnet.bootstrap);
    try {
      for (const n of testnet.nodes) expect(n.id).toMatch(/^[0-9a-f]{40}$/);
      await new Promise<void>((resolve) => client.listen(0, '127.0.0.1', () => resolve()));
      const target = testnet.nodes[13];
      const reached = await new Promise<boolean>((resolve, reject) => {
        let hit = false;
        const timer = setTimeout(() => reject(new Error('reference lookup did not finish')), LOOKUP_WAIT_MS);
        const t = Buffer.from(target.id, 'hex');
        client._rpc.closest(t, { q: 'find_node', a: { id: client.nodeId, target: t } }, (_res, peer) => {
          if (peer.port === target.address.port) hit = true;
        }, () => {
          clearTimeout(timer);
          resolve(hit);
        });
      });
      expect(reached).toBe(true);
    } finally {
      await new Promise<void>((resolve) => client.destroy(() => resolve()));
      await testnet.destroy();
    }
  }, 60_000);
});
