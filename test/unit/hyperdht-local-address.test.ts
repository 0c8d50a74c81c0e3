// The local address when peers share a subnet (hyperdht's LAN shortcut, core/local-address.ts): a
// peer behind the same public address gets the local address on its own
// subnet, anyone else the public one; checked against hyperdht's own holepuncher.js and bogon.
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressToUse, addressesToShare, isPrivateIPv4, localAddresses, matchAddress, type LocalInterface } from '../../core/local-address';
import type { Endpoint } from '../../core/transport/types';

const require = createRequire(import.meta.url);
const Holepuncher = require('hyperdht/lib/holepuncher') as {
  localAddresses(socket: unknown): Endpoint[];
  matchAddress(mine: Endpoint[], theirs: Endpoint[]): Endpoint | null;
};
const bogon = require('bogon') as { isPrivate(ip: string): boolean };

const at = (host: string, port = 4000): Endpoint => ({ host, port });
const IFACES: LocalInterface[] = [
  { host: '127.0.0.1', family: 4, internal: true },
  { host: '192.168.1.5', family: 4, internal: false },
  { host: 'fe80::1', family: 6, internal: false },
  { host: '10.8.0.2', family: 4, internal: false },
];
/** The reference reads the bound address and udx's interface list from its socket. */
const socketOf = (bound: Endpoint, ifaces: LocalInterface[]): unknown => ({ address: () => bound, udx: { networkInterfaces: () => ifaces } });

describe('hyperdht local addresses', () => {
  it('lists the external IPv4 interfaces at the bound port, as holepuncher.js does', () => {
    expect(localAddresses(at('0.0.0.0', 5000), IFACES)).toEqual([at('192.168.1.5', 5000), at('10.8.0.2', 5000)]);
    expect(localAddresses(at('127.0.0.1', 5000), IFACES)).toEqual([at('127.0.0.1', 5000)]);
    expect(localAddresses(at('0.0.0.0', 5000), IFACES.slice(0, 1))).toEqual([at('127.0.0.1', 5000)]);
    for (const [bound, ifaces] of [[at('0.0.0.0', 5000), IFACES], [at('127.0.0.1', 1), IFACES], [at('0.0.0.0', 7), IFACES.slice(0, 1)]] as const) {
      expect(localAddresses(bound, ifaces)).toEqual(Holepuncher.localAddresses(socketOf(bound, [...ifaces])));
    }
  });

  it('shares the public address first, then the local ones, each once', () => {
    expect(addressesToShare(at('203.0.113.7', 40000), [at('192.168.1.5'), at('192.168.1.5'), at('10.8.0.2')])).toEqual([at('203.0.113.7', 40000), at('192.168.1.5'), at('10.8.0.2')]);
    expect(addressesToShare(null, [at('192.168.1.5')])).toEqual([at('192.168.1.5')]);
  });

  it('matchAddress picks as the reference does, for any lists', () => {
    const octet = fc.constantFrom('10', '192', '168', '1', '2', '172');
    const host = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
    const list = fc.array(host.map((h) => at(h)), { maxLength: 5 });
    fc.assert(
      fc.property(list, list, (mine, theirs) => {
        expect(matchAddress(mine, theirs)).toEqual(Holepuncher.matchAddress(mine, theirs));
      }),
      { seed: 0x1a2, numRuns: 500 },
    );
    expect(matchAddress([at('192.168.1.5')], [at('10.0.0.9'), at('192.168.7.1'), at('192.168.1.9')])).toEqual(at('192.168.1.9'));
  });

  it('isPrivateIPv4 agrees with bogon', () => {
    const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(10, 100, 127, 169, 172, 192, 168, 254, 64, 16, 31, 32));
    fc.assert(
      fc.property(fc.tuple(byte, byte, byte, byte), (o) => {
        const ip = o.join('.');
        expect(isPrivateIPv4(ip)).toBe(bogon.isPrivate(ip));
      }),
      { seed: 0xb09, numRuns: 2000 },
    );
    expect(isPrivateIPv4('::1')).toBe(false);
  });

  it('a peer behind the same public address gets the local one on its subnet; anyone else the public one', () => {
    // Alice and Bob share a NAT at 203.0.113.7; Carol is elsewhere.
    const alice = { public: at('203.0.113.7', 40001), locals: [at('10.8.0.2', 4001), at('192.168.1.5', 4001)] };
    const bobShared = addressesToShare(at('203.0.113.7', 40002), [at('192.168.1.9', 4002)]);
    expect(addressToUse({ theirPublic: at('203.0.113.7', 40002), ourPublic: alice.public, theirAddresses: bobShared, ourLocals: alice.locals })).toEqual({ address: at('192.168.1.9', 4002), via: 'local' });
    const carol = at('198.51.100.20', 40003);
    expect(addressToUse({ theirPublic: at('203.0.113.7', 40002), ourPublic: carol, theirAddresses: bobShared, ourLocals: [at('192.168.1.77', 4003)] })).toEqual({ address: at('203.0.113.7', 40002), via: 'public' });
    // Same NAT, but the peer shared no private address: its public one.
    expect(addressToUse({ theirPublic: at('203.0.113.7', 40002), ourPublic: alice.public, theirAddresses: [at('203.0.113.7', 40002)], ourLocals: alice.locals }).via).toBe('public');
    // Same NAT, no octet in common: the first private address (connect.js's fallback).
    expect(addressToUse({ theirPublic: at('203.0.113.7', 40002), ourPublic: alice.public, theirAddresses: [at('172.16.0.3', 4002)], ourLocals: [at('192.168.1.5')] }).address).toEqual(at('172.16.0.3', 4002));
  });
});
