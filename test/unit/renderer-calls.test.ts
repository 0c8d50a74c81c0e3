// The Messages view's call log in the live store: 'call' events go on top, newest first, bounded.
import { describe, expect, it } from 'vitest';
import type { CallInfo, ExplorerEvent } from '../../electron/host/contract';
import { MAX_CALLS, reduceBatch, useLive } from '../../renderer/state/live';

const call = (i: number): CallInfo => ({ direction: i % 2 ? 'sent' : 'received', name: 'echo', peer: { id: null, host: '127.0.0.1', port: 4000 + i }, at: i, durationMs: 1, outcome: 'ok' });

describe('the call log in the live store', () => {
  it('keeps the newest MAX_CALLS calls, newest first', () => {
    const events: ExplorerEvent[] = Array.from({ length: MAX_CALLS + 50 }, (_, i) => ({ type: 'call', call: call(i) }));
    const out = reduceBatch(useLive.getState(), events, 0);
    expect(out.calls).toHaveLength(MAX_CALLS);
    expect(out.calls![0].at).toBe(MAX_CALLS + 49);
    expect(out.calls![MAX_CALLS - 1].at).toBe(50);
    // A batch without calls leaves the log alone.
    expect(reduceBatch(useLive.getState(), [], 0).calls).toBeUndefined();
  });
});
