// The call log (NodeEvents 'call', the Messages view's "Calls"): each custom method call a node
// makes or answers ends in one event on each side, with the peer, the outcome and the time; a
// refusal carries its code and message, a call nobody answers its timeout. Two nodes on 127.0.0.1.
// (Custom calls are single RPCs, not lookups: they have no place in a lookup trace, .kadtrace.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DhtNode } from '../../core/node';
import type { CallInfo } from '../../core/types';

let a: DhtNode;
let b: DhtNode;
const sent: CallInfo[] = [];
const received: CallInfo[] = [];

beforeAll(async () => {
  b = DhtNode.create({ host: '127.0.0.1' });
  await b.start();
  b.register({ name: 'echo', args: { parse: (x: unknown) => x }, handler: (x) => x });
  a = DhtNode.create({ host: '127.0.0.1', bootstrap: [`127.0.0.1:${b.address.port}`] });
  await a.start();
  a.on('call', (c) => sent.push(c));
  b.on('call', (c) => received.push(c));
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('the call log', () => {
  it('an answered call: one event on each side, with the peer and "ok"', async () => {
    await a.call(b.address, 'echo', { hi: 1 });
    expect(sent).toEqual([{ direction: 'sent', name: 'echo', peer: { id: b.id, host: '127.0.0.1', port: b.address.port }, at: expect.any(Number), durationMs: expect.any(Number), outcome: 'ok' }]);
    expect(received).toEqual([{ direction: 'received', name: 'echo', peer: { id: a.id, host: '127.0.0.1', port: a.address.port }, at: expect.any(Number), durationMs: expect.any(Number), outcome: 'ok' }]);
  });

  it('a refused call: the refusal code and message on both sides, and who refused', async () => {
    sent.length = 0;
    received.length = 0;
    await expect(a.call(b.address, 'no.such', null)).rejects.toMatchObject({ code: 'UNKNOWN_METHOD', remoteId: b.id });
    // The refusal's header names the refuser: the log shows its id beside the address.
    expect(sent).toMatchObject([{ direction: 'sent', name: 'no.such', peer: { id: b.id, port: b.address.port }, outcome: 'UNKNOWN_METHOD', message: expect.stringContaining('no method "no.such"') }]);
    expect(received).toMatchObject([{ direction: 'received', name: 'no.such', peer: { id: a.id }, outcome: 'UNKNOWN_METHOD', message: expect.stringContaining('no method "no.such"') }]);
  });

  it('a call nobody answers: TIMEOUT, and no peer id', async () => {
    sent.length = 0;
    const gone = DhtNode.create({ host: '127.0.0.1' });
    await gone.start();
    const port = gone.address.port;
    await gone.stop();
    await expect(a.call(`127.0.0.1:${port}`, 'echo', 1, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(sent).toMatchObject([{ direction: 'sent', peer: { id: null, port }, outcome: 'TIMEOUT' }]);
  });
});
