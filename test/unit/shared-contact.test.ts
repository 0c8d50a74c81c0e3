import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { bytesToHex, seededRandom, seededRandomBytes } from '../../core/id';
import { sharedContact } from '../../core/lookup/shared-contact';
import { createTestnet } from '../../core/testnet';
import type { Contact, LookupEvent } from '../../core/types';

describe('sharedContact (the lookups\' contacts, shared between lookups)', () => {
  it('always answers a contact equal to its arguments, whatever the table holds', () => {
    const rand = seededRandomBytes(11);
    const r = seededRandom(12);
    // Few slots' worth of ids with several addresses each, both id lengths, mixed case: hits, misses and slots taken over.
    const ids = Array.from({ length: 3000 }, (_, i) => {
      const hex = bytesToHex(rand(i % 3 === 0 ? 20 : 32));
      return i % 7 === 0 ? hex.toUpperCase() : hex;
    });
    for (let pass = 0; pass < 3; pass++) {
      for (const id of ids) {
        const host = `10.0.${Math.floor(r() * 3)}.1`;
        const port = 1000 + Math.floor(r() * 3);
        expect(sharedContact(id, host, port)).toEqual({ id, host, port });
      }
    }
    expect(sharedContact('', '::1', 1)).toEqual({ id: '', host: '::1', port: 1 });
    expect(sharedContact('a', '::1', 2)).toEqual({ id: 'a', host: '::1', port: 2 });
  });

  it('gives the same object for the same id and address, and another for another address', () => {
    const id = 'ab'.repeat(32);
    const a = sharedContact(id, '127.0.0.1', 4000);
    expect(sharedContact(id, '127.0.0.1', 4000)).toBe(a);
    const otherPort = sharedContact(id, '127.0.0.1', 4001);
    expect(otherPort).not.toBe(a);
    expect(otherPort).toEqual({ id, host: '127.0.0.1', port: 4001 });
    const otherHost = sharedContact(id, '127.0.0.2', 4001);
    expect(otherHost).toEqual({ id, host: '127.0.0.2', port: 4001 });
    // Same slot (same last three digits), other id.
    const sameSlot = sharedContact('cd'.repeat(30) + 'abab', '127.0.0.2', 4001);
    expect(sameSlot).not.toBe(otherHost);
    expect(sameSlot.id).toBe('cd'.repeat(30) + 'abab');
    expect(sharedContact(id, '127.0.0.2', 4001)).not.toBe(otherHost); // its slot was taken meanwhile
  });

  it('is frozen: a holder cannot change what the others see', () => {
    const c = sharedContact('ef'.repeat(32), '127.0.0.1', 5000);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(sharedContact('ef'.repeat(32), '127.0.0.1', 5000).port).toBe(5000);
  });

  it('makes the lookups of a node name each peer with one object: across lookups, and in the done event', async () => {
    const clock = new FakeClock();
    const net = await createTestnet({ size: 30, transport: 'memory', seed: 0x5c1, clock });
    try {
      const node = net.nodes[0];
      const rand = seededRandomBytes(0x5c2);
      const byLookup: LookupEvent[][] = [];
      let current: LookupEvent[] = [];
      const off = node.on('lookup', (e) => current.push(e));
      for (let i = 0; i < 4; i++) {
        current = [];
        const result = await clock.run(node.findNode(bytesToHex(rand(node.idBytes.length))));
        byLookup.push(current);
        const done = current.find((e) => e.type === 'done');
        expect(done?.type === 'done' && done.closest).toBe(result.closest);
      }
      off();
      const contactsOf = (events: LookupEvent[]): Contact[] =>
        events.flatMap((e) => (e.type === 'started' ? e.seeds : e.type === 'response' ? [e.peer, ...e.nodes] : e.type === 'done' ? e.closest : 'peer' in e ? [e.peer] : []));
      // Within a lookup, and from one lookup to the next: one object per peer and address, for
      // every peer whose slot (the id's last three hex digits) no other node of the network shares.
      const slotOf = (id: string): number => Number.parseInt(id.slice(-3), 16) & 1023;
      const slotCount = new Map<number, number>();
      for (const n of net.nodes) slotCount.set(slotOf(n.id), (slotCount.get(slotOf(n.id)) ?? 0) + 1);
      const byKey = new Map<string, Contact>();
      let checked = 0;
      let named = 0;
      for (const events of byLookup) {
        for (const c of contactsOf(events)) {
          named++;
          if (slotCount.get(slotOf(c.id)) !== 1) continue;
          checked++;
          const key = `${c.id}@${c.host}:${c.port}`;
          const seen = byKey.get(key);
          if (seen === undefined) byKey.set(key, c);
          else expect(c, key).toBe(seen);
        }
      }
      expect(byKey.size).toBeLessThanOrEqual(net.nodes.length);
      expect(checked).toBeGreaterThan(0.8 * named);
      expect(named).toBeGreaterThan(10 * byKey.size);
    } finally {
      await net.destroy();
    }
  });
});
