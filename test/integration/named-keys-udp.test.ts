// Named keys (go-dht's StoreAt, `-S` / `-F`) on a UDP testnet on 127.0.0.1: a value put at
// SHA-256(name) comes back by the name, from the library and from `kadscope put/get --at`; the
// last write wins; a store policy can refuse named records and the writer sees why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDhtError, type DhtError } from '../../core/errors';
import { bytesToHex } from '../../core/id';
import { DhtNode } from '../../core/node';
import { namedKey } from '../../core/records/signing';
import { createTestnet, type Testnet } from '../../core/testnet';
import { runCliOn, type CliRun } from './cli-run';

let tn: Testnet;
let bs: string;
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

const cli = (...argv: string[]): Promise<CliRun> => runCliOn(tn, argv);

beforeAll(async () => {
  tn = await createTestnet({ size: 8, transport: 'udp', seed: 0x5eed5 });
  bs = tn.bootstrap.join(',');
});
afterAll(async () => {
  await tn?.destroy();
});

describe('named keys over UDP', () => {
  it('a value put under a name is fetched by the name from another node', async () => {
    const [writer, reader] = [tn.nodes[1], tn.nodes[6]];
    const put = await writer.records.putNamed('config/greeting', 'hello, named world');
    expect(put.key).toBe(bytesToHex(namedKey('config/greeting')));
    expect(put.name).toBe('config/greeting');
    expect(put.storedAt.length).toBe(7);
    const got = await reader.records.getNamed('config/greeting', { source: 'network' });
    expect(text(got.value)).toBe('hello, named world');
    expect(got).toMatchObject({ key: put.key, name: 'config/greeting' });
    expect(reader.records.held().find((r) => r.key === put.key)).toMatchObject({ type: 'named', name: 'config/greeting', local: false });
  });

  it('the last write wins: another node overwrites the name everywhere it stores', async () => {
    await tn.nodes[2].records.putNamed('squat', 'first');
    const second = await tn.nodes[5].records.putNamed('squat', 'second');
    expect(second.storedAt.length).toBeGreaterThan(0);
    for (const n of tn.nodes) {
      const held = n.records.held().find((r) => r.key === second.key);
      if (held) expect(held).toMatchObject({ type: 'named', size: 'second'.length });
    }
    expect(text((await tn.nodes[0].records.getNamed('squat', { source: 'network' })).value)).toBe('second');
    // The first writer's own copy was overwritten, so it no longer republishes 'first'.
    expect(tn.nodes[2].records.held().find((r) => r.key === second.key)?.local).toBe(false);
  });

  it('kadscope put --at / get --at, plain and --json', async () => {
    const put = await cli('put', '--at', 'cli name', 'value from the cli', '--bootstrap', bs);
    expect(put.code).toBe(0);
    expect(put.out).toEqual([bytesToHex(namedKey('cli name'))]);
    expect(put.err[0]).toMatch(/^kadscope: stored at \d+ nodes under the name "cli name"$/);
    expect(await cli('get', '--at', 'cli name', '--bootstrap', bs)).toEqual({ code: 0, out: ['value from the cli'], err: [] });
    // The key alone works too: a named record is a record at a key.
    expect((await cli('get', put.out[0], '--bootstrap', bs)).out).toEqual(['value from the cli']);

    const jput = await cli('put', '--at', 'json name', 'v', '--bootstrap', bs, '--json');
    const stored = JSON.parse(jput.out[0]) as Record<string, unknown>;
    expect(Object.keys(stored)).toEqual(['key', 'name', 'storedAt', 'failed']);
    expect(stored).toMatchObject({ key: bytesToHex(namedKey('json name')), name: 'json name', failed: [] });
    const jget = JSON.parse((await cli('get', '--at', 'json name', '--bootstrap', bs, '--json')).out[0]) as Record<string, unknown>;
    expect(jget).toMatchObject({ key: stored.key, name: 'json name', text: 'v', base64: 'dg==' });
  }, 30_000);

  it('bad usage is refused with a word, before any network', async () => {
    expect(await cli('put', '--at', '', 'v', '--bootstrap', bs)).toMatchObject({ code: 2, err: [expect.stringContaining('--at: a name cannot be empty')] });
    expect(await cli('put', '--at', 'x'.repeat(129), 'v', '--bootstrap', bs)).toMatchObject({ code: 2, err: [expect.stringContaining('at most 128 bytes')] });
    expect(await cli('put', '--at', 'n', '--mutable', '--keys', 'k.json', '--seq', '1', 'v', '--bootstrap', bs)).toMatchObject({ code: 2 });
    expect(await cli('get', '--at', 'n', 'abcd', '--bootstrap', bs)).toMatchObject({ code: 2, err: [expect.stringContaining('not both')] });
  });

  it('a node speaking another protocol refuses named keys: they are kadscope wire v2', async () => {
    for (const protocol of ['mainline', 'hyperdht'] as const) {
      const other = DhtNode.create({ protocol, host: '127.0.0.1' });
      await other.start();
      try {
        expect(other.capabilities.namedKeys).toBe(false);
        await expect(other.records.putNamed('x', 'y')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      } finally {
        await other.stop();
      }
    }
  });

  it('a store policy that refuses named records: the writer sees which nodes refused and why', async () => {
    for (const n of tn.nodes) n.setStorePolicy((r) => (r.type === 'named' ? `named keys are not kept here (${r.name})` : true));
    try {
      let caught: unknown;
      try {
        await tn.nodes[3].records.putNamed('refused', 'x');
      } catch (e) {
        caught = e;
      }
      expect(isDhtError(caught, 'POLICY_REFUSED')).toBe(true);
      expect((caught as DhtError).message).toMatch(/store policy: named keys are not kept here \(refused\)$/);
      // Half the nodes allow it: the put succeeds and lists the refusals.
      for (const n of tn.nodes.slice(0, 4)) n.setStorePolicy(null);
      const r = await tn.nodes[3].records.putNamed('refused', 'x');
      expect(r.storedAt.length).toBeGreaterThan(0);
      expect(r.failed.length).toBeGreaterThan(0);
      for (const f of r.failed) expect(f).toMatchObject({ code: 'POLICY_REFUSED', message: 'store policy: named keys are not kept here (refused)' });
    } finally {
      for (const n of tn.nodes) n.setStorePolicy(null);
    }
  });
});
