// BEP 51 asked over UDP on 127.0.0.1: `kadscope samples HOST:PORT --protocol mainline` against our
// own Mainline nodes (they answer: samples, num, interval), against bittorrent-dht (it ignores the
// query: "not supported", exit 1, after the timeout) and against a node that answers error 204; a
// Mainline crawl of a mixed network records per node what each said, and per crawl the infohashes.
import { createSocket, type Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../core/id';
import { decodeKrpc, encodeKrpc } from '../../core/protocols/mainline/krpc';
import { createTestnet, type Testnet } from '../../core/testnet';
import { withTempDir } from '../temp-dir';
import { runCli } from './cli-run';
import { createReferenceNetwork, type ReferenceNetwork } from './mainline-reference';

const TOPICS = 5;
let ours: Testnet;
let ref: ReferenceNetwork;
/** Answers every query with KRPC error 204, as a node without BEP 51 (and without bittorrent-dht's silence) does. */
let refuser: Socket;
let refuserAddress = '';
const topics: string[] = [];
let dir = '';
withTempDir('kadscope-mainline-samples-', (d) => (dir = d), 'block');

beforeAll(async () => {
  ref = await createReferenceNetwork(8);
  ours = await createTestnet({ size: 8, seed: 0x51, node: { protocol: 'mainline', bootstrap: [ref.bootstrap] } });
  for (let i = 0; i < TOPICS; i++) topics.push((await ours.nodes[i].records.announce(`samples topic ${i}`, 7000 + i)).key);
  refuser = createSocket('udp4');
  refuser.on('message', (msg, rinfo) => {
    const d = decodeKrpc(new Uint8Array(msg));
    if (!d.ok || d.message.kind !== 'query') return;
    refuser.send(encodeKrpc({ kind: 'error', tid: d.message.tid, code: 204, message: 'Method Unknown' }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => refuser.bind(0, '127.0.0.1', () => resolve()));
  refuserAddress = `127.0.0.1:${refuser.address().port}`;
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (refuser ? refuser.close(() => resolve()) : resolve()));
  await ours?.destroy();
  await ref?.close();
});

describe('BEP 51 sample_infohashes, asked', () => {
  it('kadscope samples: our Mainline node answers with its stored infohashes, num and interval', async () => {
    // Each topic sits on the 8 nodes nearest it, of the 16: some of ours hold some.
    let held = ours.nodes[0];
    let j: { samples: string[]; num: number; nodes: Array<{ id: string }> } | null = null;
    for (const n of ours.nodes) {
      const r = await runCli(['samples', `127.0.0.1:${n.address.port}`, '--protocol', 'mainline', '--json']);
      expect(r.code).toBe(0);
      held = n;
      j = JSON.parse(r.out[0]);
      if (j!.num > 0) break;
    }
    if (j === null) throw new Error('no node asked');
    expect(j).toMatchObject({ address: `127.0.0.1:${held.address.port}`, supported: true, id: held.id, client: 'KS 0.1', interval: 21_600 });
    expect(j.samples.length).toBe(j.num);
    expect(j.num).toBeGreaterThan(0);
    for (const h of j.samples) expect(topics).toContain(h);
    for (const n of j.nodes) expect(n.id).toMatch(/^[0-9a-f]{40}$/);
    const text = await runCli(['samples', `127.0.0.1:${held.address.port}`, '--protocol', 'mainline']);
    expect(text.code).toBe(0);
    expect(text.out).toEqual(expect.arrayContaining(j.samples));
    expect(text.err.join('\n')).toMatch(/sample.* from 127\.0\.0\.1:\d+ \(id [0-9a-f]{40}, KS 0\.1\): num \d+, interval 21600 s/);
  });

  it('kadscope samples: bittorrent-dht stays silent, a 204 is said so; both "not supported", exit 1; bad usage exit 2', async () => {
    const silent = await runCli(['samples', ref.bootstrap, '--protocol', 'mainline', '--timeout-ms', '300', '--json']);
    expect(silent.code).toBe(1);
    expect(JSON.parse(silent.out[0])).toEqual({ address: ref.bootstrap, supported: false, reason: 'timeout' });
    expect(silent.err.join('\n')).toMatch(/does not answer sample_infohashes: no answer within 300 ms; not supported/);
    const refused = await runCli(['samples', refuserAddress, '--protocol', 'mainline', '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out[0])).toEqual({ address: refuserAddress, supported: false, reason: 'method-unknown' });
    const noProtocol = await runCli(['samples', refuserAddress]);
    expect(noProtocol.code).toBe(2);
    expect(noProtocol.err.join('\n')).toMatch(/add --protocol mainline/);
    const badTarget = await runCli(['samples', refuserAddress, '--protocol', 'mainline', '--target', 'xyz']);
    expect(badTarget.code).toBe(2);
    expect(badTarget.err.join('\n')).toMatch(/--target is 40 hex characters/);
  });

  it('a Mainline crawl of the mixed network: ours answered, bittorrent-dht not supported; infohashes in --out, crawl show and the history', async () => {
    const out = join(dir, 'samples.ndjson');
    const r = await runCli(['crawl', '--protocol', 'mainline', '--bootstrap', `${ref.bootstrap},${refuserAddress}`, '--timeout-ms', '500', '--json', '--out', out, '--data-dir', dir]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out[0]);
    expect(s.infohashes).toBeUndefined();
    const rows = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const oursIds = new Set(ours.nodes.map((n) => n.id));
    const refIds = new Set(ref.nodes.map((d) => bytesToHex(new Uint8Array(d.nodeId))));
    for (const n of ours.nodes) expect(rows.find((x) => x.id === n.id)).toMatchObject({ reachable: true, samples_status: 'answered' });
    for (const x of rows) {
      if (oursIds.has(String(x.id))) expect(x.samples).toBe(x.samples_num);
      else if (refIds.has(String(x.id)) && x.reachable) expect(x).toMatchObject({ samples_status: 'not-supported', samples: 0, samples_num: null });
    }
    // The 204 node never answered find_node: unreachable, and not asked.
    expect(rows.find((x) => x.host === '127.0.0.1' && `127.0.0.1:${x.port}` === refuserAddress)).toMatchObject({ reachable: false, samples_status: null });
    expect(s.samples).toMatchObject({ asked: s.reachable, error: 0, infohashes: TOPICS, capped: false });
    expect(s.samples.answered).toBeGreaterThanOrEqual(ours.nodes.length);
    expect(s.samples.notSupported).toBe(s.reachable - s.samples.answered);
    const show = await runCli(['crawl', 'show', String(s.id), '--data-dir', dir]);
    expect(show.out.join('\n')).toContain(`sample_infohashes (BEP 51): asked ${s.reachable}: answered ${s.samples.answered}, not supported ${s.samples.notSupported}, error 0`);
    expect(show.out.join('\n')).toContain(`infohashes seen: ${TOPICS} distinct`);
    const { CrawlStore } = await import('../../electron/host/crawl-store');
    const nodes = await new CrawlStore(dir).nodes(s.id);
    expect(nodes.find((n) => n.id === ours.nodes[0].id)?.samples?.status).toBe('answered');
  }, 120_000);
});
