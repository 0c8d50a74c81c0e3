import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { seededRandomBytes } from '../../core/id';
import { TOKEN_BYTES, TokenManager } from '../../core/records/tokens';

const ROTATE_MS = 5 * 60_000;
const alice = { host: '127.0.0.1', port: 4000 };
const setup = () => {
  const clock = new FakeClock();
  const tokens = new TokenManager({ clock, randomBytes: seededRandomBytes(21) }, { rotateMs: ROTATE_MS });
  return { clock, tokens };
};

describe('TokenManager', () => {
  it('issues a token that verifies for the same address only', () => {
    const { tokens } = setup();
    const t = tokens.issue(alice);
    expect(t.length).toBe(TOKEN_BYTES);
    expect(tokens.verify(alice, t)).toBe(true);
    expect(tokens.verify({ host: '127.0.0.1', port: 4001 }, t)).toBe(false);
    expect(tokens.verify({ host: '127.0.0.2', port: 4000 }, t)).toBe(false);
    expect(tokens.verify({ host: '::1', port: 4000 }, t)).toBe(false);
    const bad = new Uint8Array(t);
    bad[0] ^= 1;
    expect(tokens.verify(alice, bad)).toBe(false);
    expect(tokens.verify(alice, t.subarray(0, 8))).toBe(false);
  });

  it('accepts the current and the previous secret, refuses older ones', () => {
    const { clock, tokens } = setup();
    const t0 = tokens.issue(alice);
    clock.advance(ROTATE_MS - 1);
    expect(tokens.verify(alice, t0)).toBe(true);
    expect(tokens.issue(alice)).toEqual(t0); // same period, same secret
    clock.advance(1); // rotation 1: t0 is now "previous"
    expect(tokens.verify(alice, t0)).toBe(true);
    const t1 = tokens.issue(alice);
    expect(t1).not.toEqual(t0);
    clock.advance(ROTATE_MS); // rotation 2: t0 is two secrets old
    expect(tokens.verify(alice, t0)).toBe(false);
    expect(tokens.verify(alice, t1)).toBe(true);
  });

  it('rotates lazily over several periods at once', () => {
    const { clock, tokens } = setup();
    const t0 = tokens.issue(alice);
    clock.advance(2 * ROTATE_MS + 10); // nothing was asked in between
    expect(tokens.verify(alice, t0)).toBe(false);
    const t2 = tokens.issue(alice);
    clock.advance(ROTATE_MS - 11); // still inside the period that started at 2 * ROTATE_MS
    expect(tokens.verify(alice, t2)).toBe(true);
    expect(tokens.issue(alice)).toEqual(t2);
    expect(clock.pendingTimers).toBe(0); // no timers: nothing to stop
  });

  it('check() returns INVALID_TOKEN refusals naming the problem', () => {
    const { tokens } = setup();
    expect(tokens.check(alice, tokens.issue(alice))).toBeNull();
    expect(tokens.check(alice, undefined)?.code).toBe('INVALID_TOKEN');
    expect(tokens.check(alice, undefined)?.message).toMatch(/missing write token/);
    const e = tokens.check({ host: '10.0.0.1', port: 1 }, tokens.issue(alice));
    expect(e?.code).toBe('INVALID_TOKEN');
    expect(e?.message).toContain('10.0.0.1:1');
  });

  it('different managers (nodes) issue different tokens', () => {
    const clock = new FakeClock();
    const a = new TokenManager({ clock, randomBytes: seededRandomBytes(1) });
    const b = new TokenManager({ clock, randomBytes: seededRandomBytes(2) });
    expect(b.verify(alice, a.issue(alice))).toBe(false);
  });
});
