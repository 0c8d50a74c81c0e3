// How a lookup's outcome reads: a find-value says found / not found, never a green "converged" for a miss.
import { describe, expect, it } from 'vitest';
import { outcomeView } from '../../renderer/state/lookups';

describe('outcomeView', () => {
  it('says found or not found for a find-value, whatever way its search ended', () => {
    expect(outcomeView('find-value', 'value-found')).toEqual({ text: 'found', tone: 'good', verdict: 'found' });
    expect(outcomeView('find-value', 'converged')).toEqual({ text: 'not found', tone: 'warn', verdict: 'not-found' });
    expect(outcomeView('find-value', 'exhausted')).toEqual({ text: 'not found', tone: 'warn', verdict: 'not-found' });
    expect(outcomeView('find-value', 'timeout')).toEqual({ text: 'not found (timed out)', tone: 'bad', verdict: 'not-found' });
  });

  it('keeps the reason for a find-node, and nothing while running', () => {
    expect(outcomeView('find-node', 'converged')).toEqual({ text: 'converged', tone: 'good', verdict: 'converged' });
    expect(outcomeView('find-node', 'aborted')?.text).toBe('cancelled');
    expect(outcomeView('find-node', null)).toBeNull();
  });
});
