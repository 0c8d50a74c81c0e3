// Records over real UDP on 127.0.0.1: a 50-node testnet stores and serves values, mutable records
// and topics; every kind of bad write is refused with its own code and leaves the record as it was.
import { Encoder } from 'cbor-x';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../core/clock';
import { DhtError, type DhtErrorCode } from '../../core/errors';
import { bytesToHex, cryptoRandomBytes, hexToBytes, randomId, seededRandom } from '../../core/id';
import type { DhtNode } from '../../core/node';
import { TOKEN_ROTATE_MS } from '../../core/records/tokens';
import { keyPairFromSecretKey, mutableKey, signMutable } from '../../core/records/signing';
import { Rpc } from '../../core/rpc/rpc';
import { createTestnet, type Testnet } from '../../core/testnet';
import { UdpTransport } from '../../core/transport/udp';
import type { Endpoint } from '../../core/transport/types';
import type { RecordRefusal } from '../../core/types';
import { METHOD_CODES } from '../../core/wire/codec';
import type { RequestArgs, WireRecord } from '../../core/wire/types';

const SIZE = 50;
const VALUES = 100;
const PUT_BATCH = 20;

/** The system clock, plus an offset a test can move forward (to make write tokens go stale). */
class SkewClock implements Clock {
  skewMs = 0;
  now(): number {
    return systemClock.now() + this.skewMs;
  }
  setTimeout(fn: () => void, ms: number) {
    return systemClock.setTimeout(fn, ms);
  }
  clearTimeout(h: Parameters<Clock['clearTimeout']>[0]): void {
    systemClock.clearTimeout(h);
  }
}

/** A bare RPC endpoint that speaks wire v1 without being a node: it sends what we tell it to. */
async function rawClient(): Promise<{ rpc: Rpc; transport: UdpTransport; close: () => Promise<void> }> {
  const transport = new UdpTransport({}, { host: '127.0.0.1', port: 0 });
  const rpc = new Rpc({ transport, clock: systemClock, randomBytes: cryptoRandomBytes, selfId: randomId() });
  // It answers PINGs like any wire v1 speaker: a node verifies a stranger's address that way before
  // it sends it a large answer (core/rpc/amplification.ts).
  rpc.setHandler((req) => (req.method === 'PING' ? {} : null));
  await transport.bind();
  return { rpc, transport, close: async () => { rpc.close(); await transport.close(); } };
}

async function refusal(p: Promise<unknown>): Promise<DhtErrorCode> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DhtError) return e.code;
    throw e;
  }
  throw new Error('expected a refusal, but the write succeeded');
}

describe(`records on a ${SIZE}-node UDP testnet`, () => {
  let tn: Testnet;
  const clock = new SkewClock();
  const pick = seededRandom(0x5ec0);
  const randomNode = (except?: DhtNode): DhtNode => {
    for (;;) {
      const n = tn.nodes[Math.floor(pick() * tn.nodes.length)];
      if (n !== except) return n;
    }
  };

  beforeAll(async () => {
    tn = await createTestnet({ size: SIZE, transport: 'udp', seed: 0x7ec0, clock });
  });
  afterAll(async () => {
    await tn?.destroy();
  });

  it(`stores ${VALUES} values from random nodes and fetches every one from another random node`, async () => {
    const values = Array.from({ length: VALUES }, (_, i) => `value ${i} ${bytesToHex(cryptoRandomBytes(8))}`);
    const puts: Array<{ key: string; by: DhtNode; value: string; storedAt: number }> = [];
    for (let i = 0; i < VALUES; i += PUT_BATCH) {
      await Promise.all(
        values.slice(i, i + PUT_BATCH).map(async (value) => {
          const by = randomNode();
          const r = await by.records.put(value);
          puts.push({ key: r.key, by, value, storedAt: r.storedAt.length });
        }),
      );
    }
    // Every put reached the k closest (k = 20 < 50 nodes; a datagram lost twice on a busy host may
    // cost one), and the publisher keeps its own copy.
    expect(Math.min(...puts.map((p) => p.storedAt))).toBeGreaterThanOrEqual(18);
    expect(puts.every((p) => p.by.records.held().some((r) => r.key === p.key && r.local))).toBe(true);

    let fetched = 0;
    for (let i = 0; i < VALUES; i += PUT_BATCH) {
      await Promise.all(
        puts.slice(i, i + PUT_BATCH).map(async (p) => {
          const r = await randomNode(p.by).records.get(p.key);
          expect(new TextDecoder().decode(r.value)).toBe(p.value);
          expect(r.seq).toBeUndefined();
          fetched++;
        }),
      );
    }
    expect(fetched).toBe(VALUES);
  });

  it('says NOT_FOUND for a key nobody stored', async () => {
    await expect(randomNode().records.get(bytesToHex(randomId()))).rejects.toMatchObject({ code: 'NOT_FOUND', message: /no node returned a valid record/ });
  });

  describe('a mutable record', () => {
    const keyPair = keyPairFromSecretKey(new Uint8Array(32).fill(0x42));
    const salt = new TextEncoder().encode('profile');
    const key = bytesToHex(mutableKey(keyPair.publicKey, salt));
    const enc = (s: string) => new TextEncoder().encode(s);
    let publisher: DhtNode;

    /** What the network holds under the key: seq and value of every stored copy. */
    const copies = (): Array<{ seq?: number; size: number }> =>
      tn.nodes.flatMap((n) => n.records.held().filter((r) => r.key === key).map((r) => ({ seq: r.seq, size: r.size })));

    it('updated from seq 1 to 2 is seen at seq 2 from every node asked', async () => {
      publisher = randomNode();
      const one = await publisher.records.putMutable({ keyPair, salt, seq: 1, value: enc('version one') });
      expect(one).toMatchObject({ key, seq: 1, publicKey: bytesToHex(keyPair.publicKey), salt: bytesToHex(salt) });
      expect(one.storedAt.length).toBeGreaterThanOrEqual(18);
      const two = await publisher.records.putMutable({ keyPair, salt, seq: 2, value: enc('version 2') });
      expect(two.storedAt.length).toBeGreaterThanOrEqual(18);
      expect(two.failed.filter((f) => f.code !== 'TIMEOUT')).toEqual([]);

      const answers = await Promise.all(tn.nodes.map((n) => n.records.get(key)));
      expect(answers.map((a) => [a.seq, new TextDecoder().decode(a.value)])).toEqual(tn.nodes.map(() => [2, 'version 2']));
      expect(copies().every((c) => c.seq === 2)).toBe(true);
    });

    it('refuses a lower seq, a reused seq, a failed compare-and-swap and a 1,001-byte value, each with its own code', async () => {
      const before = JSON.stringify(copies());
      const other = randomNode(publisher);
      expect(await refusal(other.records.putMutable({ keyPair, salt, seq: 1, value: enc('rollback') }))).toBe('SEQ_TOO_LOW');
      expect(await refusal(other.records.putMutable({ keyPair, salt, seq: 2, value: enc('same seq, other value') }))).toBe('SEQ_REUSED');
      expect(await refusal(other.records.putMutable({ keyPair, salt, seq: 3, value: enc('cas'), cas: 1 }))).toBe('CAS_MISMATCH');
      expect(await refusal(other.records.putMutable({ keyPair, salt, seq: 3, value: new Uint8Array(1001) }))).toBe('VALUE_TOO_LARGE');
      expect(await refusal(other.records.put(new Uint8Array(1001)))).toBe('VALUE_TOO_LARGE');
      expect(await refusal(other.records.putMutable({ keyPair, salt: new Uint8Array(65), seq: 3, value: enc('x') }))).toBe('SALT_TOO_LARGE');
      expect(JSON.stringify(copies())).toBe(before);
      const r = await other.records.get(key);
      expect([r.seq, new TextDecoder().decode(r.value)]).toEqual([2, 'version 2']);
      // The caller learns why, and which node holds the newer version.
      await expect(other.records.putMutable({ keyPair, salt, seq: 1, value: enc('rollback') })).rejects.toThrow(/seq 1 is lower than the stored seq 2 \(node [0-9a-f]{16}… holds seq 2\)/);
    });

    it('is refused by a storer itself: forged signature, wrong key, lower or reused seq, failed cas, missing, foreign or stale token', async () => {
      const before = JSON.stringify(copies());
      const holder = tn.nodes.find((n) => n.records.held().some((r) => r.key === key))!;
      const to: Endpoint = holder.address;
      const refused: RecordRefusal[] = [];
      const off = holder.on('record-refused', (e) => refused.push(e));
      const client = await rawClient();
      const other = await rawClient();
      try {
        const keyBytes = hexToBytes(key);
        const answer = await client.rpc.request(to, { method: 'FIND_VALUE', key: keyBytes });
        const token = answer.response.token!;
        expect(answer.response.record).toMatchObject({ type: 'mutable', seq: 2 });
        const good = signMutable({ keyPair, salt, seq: 3, value: enc('version 3') });
        const store = (record: WireRecord, t: Uint8Array, via = client): Promise<unknown> =>
          via.rpc.request(to, { method: 'STORE', key: keyBytes, record, token: t } as RequestArgs);

        const forged: WireRecord = { ...good, sig: good.sig.map((b, i) => (i === 0 ? b ^ 1 : b)) };
        expect(await refusal(store(forged, token))).toBe('BAD_SIGNATURE');
        expect(await refusal(store(signMutable({ keyPair, salt, seq: 1, value: enc('rollback') }), token))).toBe('SEQ_TOO_LOW');
        expect(await refusal(store(signMutable({ keyPair, salt, seq: 2, value: enc('other') }), token))).toBe('SEQ_REUSED');
        expect(await refusal(client.rpc.request(to, { method: 'STORE', key: keyBytes, record: good, token, cas: 1 }))).toBe('CAS_MISMATCH');
        const otherKeys = keyPairFromSecretKey(new Uint8Array(32).fill(0x43));
        expect(await refusal(store(signMutable({ keyPair: otherKeys, salt, seq: 9, value: enc('hijack') }), token))).toBe('HASH_MISMATCH');
        expect(await refusal(store(good, new Uint8Array(16)))).toBe('INVALID_TOKEN'); // a made-up token
        expect(await refusal(store(good, token, other))).toBe('INVALID_TOKEN'); // issued to another address

        // A STORE without any token, or with a 1,001-byte value, is not even wire v1: dropped unanswered.
        const dropsBefore = holder.snapshot().counters.dropped['bad-args'] ?? 0;
        const raw = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, variableMapSize: true });
        const datagram = (args: Record<string, unknown>) =>
          raw.encode({ v: 1, t: 7, y: 'q', i: randomId(), m: METHOD_CODES.STORE, a: args });
        client.transport.send(datagram({ k: keyBytes, r: { v: good.value, k: good.publicKey, s: good.salt, q: 3, g: good.sig } }), to);
        client.transport.send(datagram({ k: keyBytes, r: { v: new Uint8Array(1001), k: good.publicKey, s: good.salt, q: 3, g: good.sig }, w: token }), to);
        for (let i = 0; i < 100 && (holder.snapshot().counters.dropped['bad-args'] ?? 0) < dropsBefore + 2; i++) await new Promise((r) => setTimeout(r, 10));
        expect(holder.snapshot().counters.dropped['bad-args']).toBe(dropsBefore + 2);

        // A token from two rotations ago is stale.
        clock.skewMs += 2 * TOKEN_ROTATE_MS;
        expect(await refusal(store(good, token))).toBe('INVALID_TOKEN');
        expect(JSON.stringify(copies())).toBe(before);
        expect(refused.map((e) => e.code)).toEqual(['BAD_SIGNATURE', 'SEQ_TOO_LOW', 'SEQ_REUSED', 'CAS_MISMATCH', 'HASH_MISMATCH', 'INVALID_TOKEN', 'INVALID_TOKEN', 'INVALID_TOKEN']);
        expect(refused.at(-1)).toMatchObject({ key, method: 'STORE', from: `127.0.0.1:${client.transport.address.port}`, reason: /expired, or issued to another address/ });

        // A fresh token works: the refusals were about the token, not the record.
        const fresh = await client.rpc.request(to, { method: 'FIND_VALUE', key: keyBytes, seq: 2 });
        expect(fresh.response.record).toBeUndefined(); // it holds seq 2, which we said we have
        await store(good, fresh.response.token!);
        expect(holder.records.held().find((r) => r.key === key)?.seq).toBe(3);
      } finally {
        off();
        await client.close();
        await other.close();
      }
    });

    it('with the largest value and salt is still served in one datagram, from every node', async () => {
      const bigSalt = new Uint8Array(64).fill(7);
      const value = cryptoRandomBytes(1000);
      const r = await publisher.records.putMutable({ keyPair, salt: bigSalt, seq: 1, value });
      expect(r.storedAt.length).toBeGreaterThanOrEqual(18);
      const answers = await Promise.all(tn.nodes.filter((n) => n !== publisher).map((n) => n.records.get(r.key)));
      expect(answers.every((a) => a.seq === 1 && Buffer.from(a.value).equals(Buffer.from(value)))).toBe(true);
    });
  });

  it('announces addresses under a topic and finds them from other nodes', async () => {
    const a = tn.nodes[3];
    const b = tn.nodes[4];
    const r1 = await a.records.announce('chat room', 4242);
    const r2 = await b.records.announce('chat room');
    expect(r1.storedAt.length).toBeGreaterThanOrEqual(18);
    expect(r2.port).toBe(b.address.port);
    const found = await tn.nodes[40].records.lookupPeers('chat room');
    expect(found.peers.map((p) => `${p.host}:${p.port}`).sort()).toEqual([`127.0.0.1:4242`, `127.0.0.1:${b.address.port}`].sort());
    expect((await tn.nodes[41].records.lookupPeers('another topic')).peers).toEqual([]);
  });
});
