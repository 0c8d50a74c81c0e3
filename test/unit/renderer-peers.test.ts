// The Topics card's rows: a peer behind our own public address shows as reached at its local
// address on our network (wire v3), with the public one beside it; the rest as found.
import { describe, expect, it } from 'vitest';
import { peerRows, peerRowText } from '../../renderer/lib/peers';

describe('peerRows', () => {
  it('marks local addresses and keeps the answer order', () => {
    const rows = peerRows({ peers: ['192.168.1.9:4000', '203.0.113.7:4000', '198.51.100.20:4001'], sameNetwork: [{ local: '192.168.1.9:4000', public: '203.0.113.7:4000' }] });
    expect(rows.map(peerRowText)).toEqual(['local 192.168.1.9:4000 (same network as 203.0.113.7:4000)', '203.0.113.7:4000', '198.51.100.20:4001']);
    expect(peerRows({ peers: [], sameNetwork: [] })).toEqual([]);
  });
});
