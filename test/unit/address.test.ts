import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatMultiaddr, isIP, parseAddress, parseAddressList } from '../../core/address';
import { endpointKey } from '../../core/transport/types';

const ok = (s: string) => {
  const r = parseAddress(s);
  if (!r.ok) throw new Error(`expected ${s} to parse: ${r.message}`);
  return r.value;
};
const message = (s: string): string => {
  const r = parseAddress(s);
  if (r.ok) throw new Error(`expected ${s} to be refused`);
  return r.message;
};

describe('parseAddress', () => {
  it('accepts IPv4, host names and bracketed IPv6', () => {
    expect(ok('127.0.0.1:4000')).toEqual({ host: '127.0.0.1', port: 4000 });
    expect(ok('  10.0.0.1:1  ')).toEqual({ host: '10.0.0.1', port: 1 });
    expect(ok('localhost:65535')).toEqual({ host: 'localhost', port: 65535 });
    expect(ok('router.bittorrent.com:6881')).toEqual({ host: 'router.bittorrent.com', port: 6881 });
    expect(ok('[::1]:4000')).toEqual({ host: '::1', port: 4000 });
    expect(ok('[2001:db8::8a2e:370:7334]:53')).toEqual({ host: '2001:db8::8a2e:370:7334', port: 53 });
    expect(ok('[::ffff:127.0.0.1]:9')).toEqual({ host: '::ffff:127.0.0.1', port: 9 });
  });

  it('refuses bad input with a message that starts with the input and says what to do', () => {
    expect(message('127.0.0.1:99999')).toBe('127.0.0.1:99999: port must be 1-65535');
    expect(message('127.0.0.1:0')).toBe('127.0.0.1:0: port must be 1-65535');
    expect(message('')).toBe('(empty): empty address; expected host:port, e.g. 127.0.0.1:4000');
    expect(message('127.0.0.1')).toBe('127.0.0.1: missing ":port"; expected host:port, e.g. 127.0.0.1:4000');
    expect(message('127.0.0.1:')).toBe('127.0.0.1:: missing port after ":"');
    expect(message('127.0.0.1:http')).toBe('127.0.0.1:http: port "http" is not a number');
    expect(message(':4000')).toBe(':4000: missing host before ":"');
    expect(message('256.1.1.1:80')).toBe('256.1.1.1:80: "256.1.1.1" is not a valid IPv4 address');
    expect(message('bad_host!:80')).toBe('bad_host!:80: "bad_host!" is not an IP address or host name');
  });

  it('requires brackets around IPv6 and checks what is inside them', () => {
    expect(message('::1:4000')).toBe('::1:4000: an IPv6 address goes in brackets: [::1]:4000');
    expect(message('[::1:4000')).toBe('[::1:4000: missing "]" after the IPv6 address');
    expect(message('[::1]4000')).toBe('[::1]4000: missing ":port" after "]"');
    expect(message('[127.0.0.1]:4000')).toBe('[127.0.0.1]:4000: "127.0.0.1" is not an IPv6 address');
    expect(message('[1::2::3]:4000')).toBe('[1::2::3]:4000: "1::2::3" is not an IPv6 address');
  });

  it('round-trips through endpointKey', () => {
    for (const s of ['127.0.0.1:4000', '[::1]:4000', '[fe80::1%eth0]:5']) expect(endpointKey(ok(s))).toBe(s);
  });

  it('classifies IPs like node:net', () => {
    expect(isIP('1.2.3.4')).toBe(4);
    expect(isIP('01.2.3.4')).toBe(0); // leading zeros are ambiguous (octal), refused
    expect(isIP('::')).toBe(6);
    expect(isIP('1:2:3:4:5:6:7:8')).toBe(6);
    expect(isIP('1:2:3:4:5:6:7:8:9')).toBe(0);
    expect(isIP('fe80::1%')).toBe(0);
  });
});

describe('parseAddressList', () => {
  it('splits on commas and whitespace and reports every bad entry', () => {
    const r = parseAddressList('127.0.0.1:1, [::1]:2\n10.0.0.1:3');
    expect(r).toEqual({ ok: true, value: [{ host: '127.0.0.1', port: 1 }, { host: '::1', port: 2 }, { host: '10.0.0.1', port: 3 }] });
    const bad = parseAddressList(['127.0.0.1:1', 'x', '1.2.3.4:0']);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toBe('x: missing ":port"; expected host:port, e.g. 127.0.0.1:4000; 1.2.3.4:0: port must be 1-65535');
    expect(parseAddressList('')).toEqual({ ok: true, value: [] });
  });
});

describe('parseAddress: multiaddrs', () => {
  it('accepts /ip4, /ip6 and /dns forms over UDP', () => {
    expect(ok('/ip4/127.0.0.1/udp/4000')).toEqual({ host: '127.0.0.1', port: 4000 });
    expect(ok('/ip6/::1/udp/4000')).toEqual({ host: '::1', port: 4000 });
    expect(ok(' /ip6/2001:db8::1/udp/53/ ')).toEqual({ host: '2001:db8::1', port: 53 });
    expect(ok('/dns4/router.example.org/udp/6881')).toEqual({ host: 'router.example.org', port: 6881 });
    expect(ok('/dns/localhost/udp/1')).toEqual({ host: 'localhost', port: 1 });
  });

  it('a bootstrap list mixes both forms', () => {
    expect(parseAddressList('/ip4/127.0.0.1/udp/4000,/ip6/::1/udp/4000 [::1]:4001')).toEqual({
      ok: true,
      value: [
        { host: '127.0.0.1', port: 4000 },
        { host: '::1', port: 4000 },
        { host: '::1', port: 4001 },
      ],
    });
  });

  it('refuses what kadscope cannot use, saying why', () => {
    expect(message('/ip4/127.0.0.1/tcp/4000')).toBe('/ip4/127.0.0.1/tcp/4000: kadscope speaks UDP: expected /udp/port, not /tcp');
    expect(message('/ip4/::1/udp/4000')).toBe('/ip4/::1/udp/4000: "::1" is not an IPv4 address');
    expect(message('/ip6/127.0.0.1/udp/4000')).toBe('/ip6/127.0.0.1/udp/4000: "127.0.0.1" is not an IPv6 address');
    expect(message('/ip4/127.0.0.1')).toBe('/ip4/127.0.0.1: missing /udp/port after /ip4/127.0.0.1');
    expect(message('/ip4/127.0.0.1/udp')).toBe('/ip4/127.0.0.1/udp: missing port after /udp');
    expect(message('/ip4/127.0.0.1/udp/0')).toBe('/ip4/127.0.0.1/udp/0: port must be 1-65535');
    expect(message('/ip4/127.0.0.1/udp/4000/p2p/Qm')).toMatch(/unexpected "\/p2p\/Qm" after the port/);
    expect(message('/unix/tmp/sock')).toMatch(/multiaddr protocol "unix" is not supported/);
    expect(message('/')).toBe('/: empty multiaddr; expected e.g. /ip4/127.0.0.1/udp/4000');
    expect(message('/dns/1.2.3.4/udp/5')).toBe('/dns/1.2.3.4/udp/5: "1.2.3.4" is not a host name');
  });

  it('formatMultiaddr is parsed back to the same endpoint', () => {
    for (const e of [{ host: '127.0.0.1', port: 4000 }, { host: '::1', port: 1 }, { host: 'example.org', port: 65535 }]) {
      expect(ok(formatMultiaddr(e))).toEqual(e);
    }
    expect(formatMultiaddr({ host: '::1', port: 4000 })).toBe('/ip6/::1/udp/4000');
  });
});

describe('parseAddress: hostile strings (property)', () => {
  // Pieces that sit near the grammar's edges, so random joins hit the interesting branches.
  const piece = fc.constantFrom(
    '/', 'ip4', 'ip6', 'dns', 'dns4', 'udp', 'tcp', 'p2p', '127.0.0.1', '::1', '::', '1.2.3', '256.0.0.1', '%', '%eth0',
    '[', ']', ':', '::ffff:1.2.3.4', '0', '1', '4000', '65535', '65536', '99999999999999999999', '-1', '1e3', '0x10',
    ' ', '\t', ',', '.', '..', '-', 'a', 'localhost', '\u0000', '\u202e', 'é', '🙂', 'x'.repeat(300),
  );
  const hostile = fc.oneof(
    fc.array(piece, { maxLength: 12 }).map((a) => a.join('')),
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
  );

  it('never throws; refuses with a short message that starts with the input, or returns a usable endpoint', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const r = parseAddress(s);
        if (!r.ok) {
          const t = s.trim();
          expect(r.message.startsWith(t === '' ? '(empty)' : t.slice(0, 80))).toBe(true);
          expect(r.message.length).toBeLessThan(400);
          return;
        }
        expect(Number.isInteger(r.value.port) && r.value.port >= 1 && r.value.port <= 65535).toBe(true);
        expect(r.value.host).not.toBe('');
        expect(r.value.host).not.toMatch(/[\s/[\]]/);
        // Whatever parsed is the same endpoint written either way.
        expect(ok(endpointKey(r.value))).toEqual(r.value);
        expect(ok(formatMultiaddr(r.value))).toEqual(r.value);
      }),
      { numRuns: 3000, seed: 0xadd2 },
    );
  });

  it('every valid endpoint round-trips through both written forms', () => {
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
    const v6 = fc.ipV6();
    const port = fc.integer({ min: 1, max: 65535 });
    fc.assert(
      fc.property(fc.oneof(v4, v6), port, (host, p) => {
        const e = { host, port: p };
        expect(ok(formatMultiaddr(e))).toEqual(e);
        expect(ok(endpointKey(e))).toEqual(e);
        expect(parseAddressList([formatMultiaddr(e), endpointKey(e)])).toEqual({ ok: true, value: [e, e] });
      }),
      { numRuns: 1000, seed: 0xadd3 },
    );
  });
});
