// The record commands through the CLI's main(), against a small UDP testnet: what a person types
// and what they see (stdout for results, stderr for the rest, exit 0 / 1 / 2).
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestnet, type Testnet } from '../../core/testnet';
import { runCliOn, type CliRun } from './cli-run';

let tn: Testnet;

const cli = (...argv: string[]): Promise<CliRun> => runCliOn(tn, argv);

describe('kadscope put / get / announce / peers', () => {
  let dir: string;
  let bs: string;
  beforeAll(async () => {
    tn = await createTestnet({ size: 8, transport: 'udp', seed: 0xc11 });
    bs = tn.bootstrap.join(',');
    dir = await mkdtemp(join(tmpdir(), 'kadscope-cli-'));
  });
  afterAll(async () => {
    await tn?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('puts text and prints its key; gets it back on stdout', async () => {
    const put = await cli('put', 'hello from the cli', '--bootstrap', bs);
    expect(put).toMatchObject({ code: 0, err: ['kadscope: stored at 8 nodes'] });
    expect(put.out).toHaveLength(1);
    expect(put.out[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(await cli('get', put.out[0], '--bootstrap', bs)).toEqual({ code: 0, out: ['hello from the cli'], err: [] });
  });

  it('puts a file, and answers --json with machine-readable objects', async () => {
    const file = join(dir, 'value.bin');
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe]);
    await writeFile(file, bytes);
    const put = await cli('put', '--file', file, '--bootstrap', bs, '--json');
    expect(put.code).toBe(0);
    const stored = JSON.parse(put.out[0]) as { key: string; storedAt: string[]; failed: unknown[] };
    expect(stored.storedAt).toHaveLength(8);
    const got = await cli('get', stored.key, '--bootstrap', bs, '--json');
    expect(JSON.parse(got.out[0])).toMatchObject({ key: stored.key, text: null, base64: bytes.toString('base64') });
    // Binary on a terminal: base64, and a note saying so; --out writes the bytes.
    const plain = await cli('get', stored.key, '--bootstrap', bs, '--out', join(dir, 'copy.bin'));
    expect(plain).toEqual({ code: 0, out: [], err: [] });
    expect(await readFile(join(dir, 'copy.bin'))).toEqual(bytes);
    const shown = await cli('get', stored.key, '--bootstrap', bs);
    expect(shown.out).toEqual([bytes.toString('base64')]);
    expect(shown.err[0]).toMatch(/not UTF-8 text; printed it as base64/);
  });

  it('puts a mutable record with a key file it creates, updates it, and refuses a lower seq', async () => {
    const keys = join(dir, 'me.key');
    const one = await cli('put', '--mutable', '--keys', keys, '--seq', '1', '--salt', 'status', 'online', '--bootstrap', bs);
    expect(one.code).toBe(0);
    expect(one.err[0]).toMatch(new RegExp(`^kadscope: created a new key pair in ${keys.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(public key [0-9a-f]{64}\\)`));
    expect(existsSync(keys)).toBe(true);
    const key = one.out[0];
    const two = await cli('put', '--mutable', '--keys', keys, '--seq', '2', '--salt', 'status', 'away', '--bootstrap', bs, '--json');
    expect(JSON.parse(two.out[0])).toMatchObject({ key, seq: 2, salt: Buffer.from('status').toString('hex') });
    expect(two.err).toEqual([]); // the key file existed this time
    expect(await cli('get', key, '--bootstrap', bs)).toMatchObject({ code: 0, out: ['away'] });
    const json = await cli('get', key, '--bootstrap', bs, '--json');
    expect(JSON.parse(json.out[0])).toMatchObject({ seq: 2, text: 'away' });

    const stale = await cli('put', '--mutable', '--keys', keys, '--seq', '1', '--salt', 'status', 'back online', '--bootstrap', bs);
    expect(stale.code).toBe(1);
    expect(stale.err).toEqual([expect.stringMatching(/^kadscope: SEQ_TOO_LOW: seq 1 is lower than the stored seq 2/)]);
  });

  it('announces under a topic and lists the announced addresses', async () => {
    const a = await cli('announce', 'lobby', '--port', '7001', '--bootstrap', bs);
    expect(a.code).toBe(0);
    expect(a.out[0]).toMatch(/^announced port 7001 under "lobby" \([0-9a-f]{64}\) at 8 nodes$/);
    await cli('announce', 'lobby', '--port', '7002', '--bootstrap', bs, '--json');
    const peers = await cli('peers', 'lobby', '--bootstrap', bs);
    expect(peers.code).toBe(0);
    expect(peers.out.sort()).toEqual(['127.0.0.1:7001', '127.0.0.1:7002']);
    const json = await cli('peers', 'lobby', '--bootstrap', bs, '--json');
    expect(JSON.parse(json.out[0])).toMatchObject({ topic: 'lobby', peers: expect.arrayContaining(['127.0.0.1:7001', '127.0.0.1:7002']), sameNetwork: [] });
  });

  it('says NOT_FOUND with exit 1 for a key nobody stored', async () => {
    const r = await cli('get', 'ab'.repeat(32), '--bootstrap', bs);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([expect.stringMatching(/^kadscope: NOT_FOUND: no node returned a valid record for key abababababababab…/)]);
  });

  it('rejects bad usage with exit 2 and one line on stderr, before touching the network', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['put', 'x'], /--bootstrap is required/],
      [['put', '--bootstrap', bs], /put takes one value/],
      [['put', 'x'.repeat(1001), '--bootstrap', bs], /the value is 1001 bytes; a record holds at most 1000/],
      [['put', 'x', '--seq', '1', '--bootstrap', bs], /--seq is for mutable records; add --mutable/],
      [['put', '--mutable', 'x', '--seq', '1', '--bootstrap', bs], /--mutable needs --keys F/],
      [['put', '--mutable', '--keys', join(dir, 'k2'), 'x', '--bootstrap', bs], /--mutable needs --seq N/],
      [['put', '--mutable', '--keys', join(dir, 'k3'), '--seq', '1.5', 'x', '--bootstrap', bs], /--seq must be a whole number; got "1.5"/],
      [['put', '--file', join(dir, 'missing'), '--bootstrap', bs], /--file: cannot read .*missing: no such file/],
      [['get', 'nothex', '--bootstrap', bs], /a key is 64 hex characters; got "nothex"/],
      [['get', 'ab'.repeat(32), '--bootstrap', 'nowhere'], /--bootstrap: /],
      [['announce', '--bootstrap', bs], /announce takes one topic/],
      [['announce', 't', '--port', '70000', '--bootstrap', bs], /--port must be 1-65535/],
      [['peers', 'a', 'b', '--bootstrap', bs], /peers takes one topic/],
      [['get', 'ab'.repeat(32), '--frobnicate'], /Unknown option '--frobnicate'/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(...argv);
      expect([argv.join(' ').slice(0, 60), r.code, r.out]).toEqual([argv.join(' ').slice(0, 60), 2, []]);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(message);
    }
    // A key file that is not one: the user's file is left alone and the problem named.
    const bad = join(dir, 'bad.key');
    await writeFile(bad, 'not json');
    const r = await cli('put', '--mutable', '--keys', bad, '--seq', '1', 'x', '--bootstrap', bs);
    expect(r).toMatchObject({ code: 2, err: [expect.stringMatching(/--keys: key file .*bad\.key is not valid JSON/)] });
    expect(await readFile(bad, 'utf8')).toBe('not json');
  });

  it('lists the record commands in its help', async () => {
    const r = await cli('--help');
    for (const name of ['put', 'get', 'announce', 'peers']) expect(r.out.join('\n')).toMatch(new RegExp(`\\n  ${name} +\\S`));
    expect((await cli('put', '--help')).out[0]).toMatch(/^usage: kadscope put \(<text> \| --file F\)/);
  });
});
