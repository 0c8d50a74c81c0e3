// Host startup options (`kadscope serve`, `npm start`, Electron main): --host6 binds the user's node
// to IPv6 as well (a dual-stack node, as `kadscope node --host6`), and anything else is refused.
import { describe, expect, it } from 'vitest';
import { OptionsError, parseHostOptions } from '../../electron/host/options';

describe('parseHostOptions --host6', () => {
  it('is off by default and takes an IPv6 address', () => {
    expect(parseHostOptions([]).host6).toBeNull();
    expect(parseHostOptions(['--host6', '::1']).host6).toBe('::1');
    expect(parseHostOptions(['--host6', '::']).host6).toBe('::');
  });

  it('refuses what is not an IPv6 address, with a word', () => {
    for (const bad of ['127.0.0.1', '[::1]', 'localhost', '::1:4000:', '']) {
      expect(() => parseHostOptions(['--host6', bad])).toThrow(OptionsError);
      expect(() => parseHostOptions(['--host6', bad])).toThrow(/--host6 must be an IPv6 address such as ::1 or ::/);
    }
  });
});
