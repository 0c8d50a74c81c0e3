import { describe, expect, it } from 'vitest';
import { isIP, parseAddress, parseAddressList } from '../../core/address';
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
