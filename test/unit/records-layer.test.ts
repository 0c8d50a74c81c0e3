// The small pieces of the records layer that decide what a caller is told: how a set of storer
// failures becomes one error, how topics become keys, and how background work is bounded.
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../core/id';
import { topicKey } from '../../core/records/client';
import { acceptanceLine, noneStored, type StoreFailure } from '../../core/records/publish';
import { TaskPool } from '../../core/records/pool';

const f = (code: StoreFailure['code'], message = `${code.toLowerCase()} here`): StoreFailure => ({ id: 'ab'.repeat(32), code, message });

describe('noneStored', () => {
  it('when every node refused the same way, that refusal is the error', () => {
    const e = noneStored('seq 1', [f('SEQ_TOO_LOW', 'seq 1 is lower than the stored seq 2'), f('SEQ_TOO_LOW')]);
    expect(e.code).toBe('SEQ_TOO_LOW');
    expect(e.message).toBe('all 2 nodes asked refused seq 1: seq 1 is lower than the stored seq 2');
    expect(noneStored('the value', [f('STORE_FULL', 'full')]).message).toBe('the only node asked refused the value: full');
  });

  it('when reasons differ, a refusal beats a network failure, then the most common wins; the message counts them all', () => {
    const e = noneStored('the value', [f('TIMEOUT'), f('TIMEOUT'), f('TIMEOUT'), f('STORE_FULL'), f('HASH_MISMATCH'), f('HASH_MISMATCH')]);
    expect(e.code).toBe('HASH_MISMATCH');
    expect(e.message).toBe('no node stored the value (3 TIMEOUT, 1 STORE_FULL, 2 HASH_MISMATCH); HASH_MISMATCH: hash_mismatch here');
    expect(noneStored('x', [f('TIMEOUT'), f('TIMEOUT')]).code).toBe('TIMEOUT');
    expect(noneStored('x', []).code).toBe('NO_PEERS');
  });

  it('a write nobody answered (hyperdht refuses in silence) was not accepted by any of the nodes asked', () => {
    const e = noneStored('the value', [f('TIMEOUT', 'no answer'), f('TIMEOUT', 'no answer'), f('TIMEOUT', 'no answer')]);
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toBe('the value was not accepted by 3 of 3 nodes (no answer: no answer)');
  });
});

describe('acceptanceLine', () => {
  it('"not accepted by N of M nodes", or null when every node asked stored it', () => {
    expect(acceptanceLine({ storedAt: ['a', 'b'], failed: [f('TIMEOUT')] })).toBe('not accepted by 1 of 3 nodes');
    expect(acceptanceLine({ storedAt: ['a'], failed: [] })).toBeNull();
  });
});

describe('topicKey', () => {
  it('is SHA-256 of the UTF-8 text, or a 32-byte key as given', () => {
    expect(topicKey('chat')).toEqual(sha256('chat'));
    const k = sha256('x');
    expect(topicKey(k)).toBe(k);
    expect(() => topicKey('')).toThrow(/cannot be empty/);
    expect(() => topicKey(new Uint8Array(31))).toThrow(/32-byte key/);
  });
});

describe('TaskPool', () => {
  it('runs a few at a time, never queues a key twice, refuses beyond its queue, and drops the queue on close', async () => {
    const pool = new TaskPool({ concurrency: 2, maxQueued: 2 });
    const release: Array<() => void> = [];
    let running = 0;
    let peak = 0;
    const task = () => async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => release.push(r));
      running--;
    };
    expect(pool.add('a', task())).toBe(true);
    expect(pool.add('b', task())).toBe(true);
    expect(pool.add('a', task())).toBe(false); // already running
    expect(pool.add('c', task())).toBe(true);
    expect(pool.add('d', task())).toBe(true);
    expect(pool.add('e', task())).toBe(false); // queue full (c, d waiting)
    expect([running, pool.size]).toEqual([2, 4]);
    release.shift()!();
    await new Promise((r) => setImmediate(r));
    expect([running, peak]).toEqual([2, 2]); // c took a's place
    pool.close();
    expect(pool.add('f', task())).toBe(false);
    while (release.length > 0) {
      release.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    expect(running).toBe(0);
    expect(pool.has('d')).toBe(false); // dropped, never run
    expect(peak).toBe(2);
  });
});
