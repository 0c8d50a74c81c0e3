// The record API of DhtNode on a small simulated network under fake time: store limits, the
// highest seq among mixed answers, events for the UI, lookup kinds, and errors a caller can act on.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { DhtError, type DhtErrorCode } from '../../core/errors';
import { bytesToHex, compareDistance, hexToBytes, randomId, seededRandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import { keyPairFromSecretKey, signMutable } from '../../core/records/signing';
import { Rpc } from '../../core/rpc/rpc';
import { createTestnet, type Testnet } from '../../core/testnet';
import type { LookupEvent, RecordInfo, RecordRefusal } from '../../core/types';

let open: Testnet[] = [];
afterEach(async () => {
  await Promise.all(open.map((t) => t.destroy()));
  open = [];
});

async function testnet(size: number, seed: number, node: Parameters<typeof createTestnet>[0]['node'] = {}): Promise<Testnet> {
  const tn = await createTestnet({ size, transport: 'memory', seed, node });
  open.push(tn);
  return tn;
}

/** A bare wire v1 speaker on the simulated network (one address): sends exactly what the test says. */
async function rawClient(tn: Testnet): Promise<Rpc> {
  const transport = tn.network!.createTransport({});
  const rpc = new Rpc({ transport, clock: tn.clock, randomBytes: seededRandomBytes(99), selfId: randomId(seededRandomBytes(98)) });
  await transport.bind();
  return rpc;
}

async function code(tn: Testnet, p: Promise<unknown>): Promise<DhtErrorCode | 'ok'> {
  try {
    await tn.run(p);
    return 'ok';
  } catch (e) {
    if (e instanceof DhtError) return e.code;
    throw e;
  }
}

const enc = (s: string) => new TextEncoder().encode(s);

describe('DhtNode records', () => {
  it('refuses new keys beyond an address share or the store cap with STORE_FULL, and changes nothing', async () => {
    // maxRecords 20: one address may hold 16 (the floor of the per-address share).
    const tn = await testnet(6, 21, { maxRecords: 20 });
    const target = tn.nodes[3];
    const refused: RecordRefusal[] = [];
    target.on('record-refused', (e) => refused.push(e));
    const [a, b] = [await rawClient(tn), await rawClient(tn)];
    const store = async (rpc: Rpc, value: string): Promise<DhtErrorCode | 'ok'> => {
      const key = hexToBytes(bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', enc(value)))));
      return code(tn, (async () => {
        const t = await rpc.request(target.address, { method: 'FIND_VALUE', key });
        await rpc.request(target.address, { method: 'STORE', key, record: { type: 'immutable', value: enc(value) }, token: t.response.token! });
      })());
    };
    for (let i = 0; i < 16; i++) expect(await store(a, `a${i}`)).toBe('ok');
    expect(await store(a, 'a16')).toBe('STORE_FULL'); // a's share
    for (let i = 0; i < 4; i++) expect(await store(b, `b${i}`)).toBe('ok');
    expect(await store(b, 'b4')).toBe('STORE_FULL'); // the whole store
    expect(await store(a, 'a0')).toBe('ok'); // a refresh of a held key is always fine
    expect(target.records.held()).toHaveLength(20);
    expect(refused.map((r) => r.code)).toEqual(['STORE_FULL', 'STORE_FULL']);
    expect(refused[0].reason).toMatch(/already holds 16 records here, its share of the store \(20 records\)/);
    expect(refused[1].reason).toMatch(/the store is full \(20 records\)/);
    a.close();
    b.close();
  });

  it('a put that every storer refuses as full rejects with STORE_FULL', async () => {
    const tn = await testnet(4, 22, { maxRecords: 16 });
    const by = tn.nodes[0];
    for (let i = 0; i < 16; i++) await tn.run(by.records.put(`fill ${i}`));
    await expect(tn.run(by.records.put('one too many'))).rejects.toMatchObject({ code: 'STORE_FULL', message: /all 3 nodes asked refused the value: .*holds 16 records here/ });
  });

  it('get returns the highest valid seq even when most holders answer an older one', async () => {
    const tn = await testnet(20, 23);
    const keyPair = keyPairFromSecretKey(new Uint8Array(32).fill(5));
    const one = await tn.run(tn.nodes[1].records.putMutable({ keyPair, seq: 1, value: 'one' }));
    // Only the holder farthest from the key gets seq 2 (straight over the wire).
    const key = hexToBytes(one.key);
    const farthest = tn.nodes
      .filter((n) => one.storedAt.includes(n.id))
      .sort((x, y) => compareDistance(key, y.idBytes, x.idBytes))[0];
    const rpc = await rawClient(tn);
    await tn.run((async () => {
      const t = await rpc.request(farthest.address, { method: 'FIND_VALUE', key });
      await rpc.request(farthest.address, { method: 'STORE', key, record: signMutable({ keyPair, seq: 2, value: enc('two') }), token: t.response.token! });
    })());
    rpc.close();
    // The publisher itself holds seq 1: a local copy does not end the search for a newer one.
    const asker = tn.nodes[1];
    expect(asker.records.held().find((r) => r.key === one.key)).toMatchObject({ seq: 1, local: true });
    const got = await tn.run(asker.records.get(one.key));
    expect([got.seq, new TextDecoder().decode(got.value), got.from]).toEqual([2, 'two', farthest.id]);
  });

  it('emits record-stored at the storers and runs its lookups as find-node, find-value and get-peers', async () => {
    const tn = await testnet(12, 24);
    const stored: RecordInfo[] = [];
    for (const n of tn.nodes) n.on('record-stored', (r) => stored.push(r));
    const by = tn.nodes[2];
    const kinds: string[] = [];
    by.on('lookup', (e: LookupEvent) => {
      if (e.type === 'started') kinds.push(e.kind);
    });
    const r = await tn.run(by.records.put('observed'));
    expect(stored.filter((s) => s.key === r.key && !s.local)).toHaveLength(r.storedAt.length);
    expect(stored.find((s) => s.key === r.key && s.local)).toMatchObject({ type: 'immutable', size: 8, expiresInMs: 2 * 3_600_000 });
    await tn.run(tn.nodes[3].records.get(r.key)); // not from `by`: its own get would answer locally
    await tn.run(by.records.get(r.key));
    await tn.run(by.records.putMutable({ keyPair: by.keyPairs.get(), seq: 1, value: 'm' }));
    await tn.run(by.records.announce('t', 80));
    await tn.run(by.records.lookupPeers('t'));
    expect(kinds).toEqual(['find-node', 'find-value', 'get-peers', 'get-peers']);
    expect(by.snapshot().records).toEqual(by.records.held());
    expect(by.records.held().map((x) => x.key)).toContain(r.key);
  });

  it('keeps named key pairs: the same pair for a name, a new one for another, bad names refused', async () => {
    const tn = await testnet(2, 25);
    const n = tn.nodes[0];
    const kp = n.keyPairs.get();
    expect(n.keyPairs.get('default')).toBe(kp);
    expect(n.keyPairs.get('work')).not.toEqual(kp);
    expect(n.keyPairs.names()).toEqual(['default', 'work']);
    expect(() => n.keyPairs.get('../etc')).toThrow(/a key pair name is 1-100 letters/);
  });

  it('answers bad calls with errors a caller can act on', async () => {
    const tn = await testnet(6, 26);
    const n = tn.nodes[1];
    await expect(tn.run(n.records.get('xyz'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: /key must be 64 hex characters/ });
    await expect(n.records.announce('t', 0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: /port must be 1-65535/ });
    await expect(n.records.announce('', 80)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: /a topic cannot be empty/ });
    await expect(n.records.putMutable({ keyPair: n.keyPairs.get(), seq: -1, value: 'x' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const abort = new AbortController();
    abort.abort();
    await expect(tn.run(n.records.get(bytesToHex(randomId()), { signal: abort.signal }))).rejects.toMatchObject({ code: 'ABORTED' });
    expect(() => DhtNode.create({ republishIntervalMs: 3 * 3_600_000 })).toThrow(/republishIntervalMs \(10800000\) must be shorter than recordTtlMs/);

    const alone = DhtNode.create({ transport: tn.network!.createTransport({}), clock: tn.clock });
    await expect(alone.records.put('x')).rejects.toMatchObject({ code: 'NOT_STARTED' });
    await tn.run(alone.start());
    await expect(tn.run(alone.records.put('x'))).rejects.toMatchObject({ code: 'NO_PEERS', message: /join a network/ });
    await expect(tn.run(alone.records.get(bytesToHex(randomId())))).rejects.toMatchObject({ code: 'NOT_FOUND', message: /knows no peers yet/ });
    await alone.stop();
    await expect(alone.records.get(bytesToHex(randomId()))).rejects.toMatchObject({ code: 'STOPPED' });
    expect(tn.clock).toBeInstanceOf(FakeClock);
  });
});
