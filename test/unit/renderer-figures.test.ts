// What the Overview, Join and Testnet views say in words: figures with their window, join results
// true of the table, and node counts refused for the reason that is so.
import { describe, expect, it } from 'vitest';
import { windowRate } from '../../renderer/components/Sparkline';
import { countError, joinResultText } from '../../renderer/lib/messages';

describe('windowRate', () => {
  it('is the growth over the window, with the window named by its length', () => {
    // 479 datagrams over 9 m 38 s is 0.83/s, whatever the per-second rates were on the way.
    expect(windowRate([{ at: 0, v: 0 }, { at: 1000, v: 400 }, { at: 578_000, v: 479 }])).toEqual({ perSecond: 479 / 578, spanMs: 578_000 });
    expect(windowRate([{ at: 5, v: 3 }])).toEqual({ perSecond: 0, spanMs: 0 });
  });
});

describe('joinResultText', () => {
  it('says "still alone" only when the node has no peers', () => {
    expect(joinResultText(0, 40)).toBe('No bootstrap address answered; the node keeps the 40 peers it already had.');
    expect(joinResultText(0, 0)).toBe('No bootstrap address answered; the node is still alone.');
    expect(joinResultText(2, 1)).toBe('Joined: 1 peer in the routing table.');
  });
});

describe('countError', () => {
  it('refuses each bad count for the reason that is true of it', () => {
    expect(countError('-3', 50)).toBe('at least 1, not -3');
    expect(countError('0', 50)).toBe('at least 1, not 0');
    expect(countError('1.5', 50)).toBe('1.5 is not a whole number; type one from 1 to 50');
    expect(countError('abc', 50)).toBe('"abc" is not a number; type a whole number from 1 to 50');
    expect(countError(' ', 50)).toBe('how many? a whole number from 1 to 50');
    expect(countError('51', 50)).toBe('at most 50 at a time');
    expect(countError('5', 50)).toBeNull();
  });
});
