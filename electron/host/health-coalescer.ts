// Peer-health updates on their way to the event stream. The node reports a peer's health each time
// it changes, and every answer changes it (last seen, round trip, answer counts): at 20 lookups a
// second in a 50-node network that is ~370 updates a second, half the stream's bytes, for peers
// whose state stays "good". What a user must see at once goes out at once: a peer seen for the
// first time, a change of state (good, questionable, bad) or of its failure count. A peer that only
// answered again is held, the latest update per peer, until flush() (the service's once-a-second
// tick), so each such peer costs the stream at most one update per tick.
//
// Bounded: at most `maxPeers` peers are remembered (the oldest is forgotten first; its next update
// then goes out at once), and only remembered peers are ever held.
// The node reports (id, state, failures) without building anything (DhtNode.subscribePeerHealth);
// the PeerInfo of an update that goes out is built then, from the table as it is at that moment
// (`peerInfo`), so a held refresh shows the peer as it is at the flush.
import type { HealthState, PeerInfo } from '../../core/types';

/** Peers whose last shown health is remembered; a routing table holds far fewer. */
export const MAX_TRACKED_PEERS = 10_000;

const STATE_CODES: Record<HealthState, number> = { good: 0, questionable: 1, bad: 2, unknown: 3 };

/** What decides whether an update goes out at once, as one number (no object per peer). */
function shownKey(state: HealthState, failures: number): number {
  return failures * 4 + STATE_CODES[state];
}

export class HealthCoalescer {
  /** The state and failures last sent per peer id (shownKey), oldest first. */
  private readonly shown = new Map<string, number>();
  /** Peers with an update held for the next flush, in the order they were first held. */
  private held = new Set<string>();

  constructor(
    private readonly send: (peer: PeerInfo) => void,
    /** The peer as the node's table holds it now, or undefined once it left. */
    private readonly peerInfo: (id: string) => PeerInfo | undefined,
    private readonly maxPeers: number = MAX_TRACKED_PEERS,
  ) {}

  /** Updates held for the next flush. */
  get heldCount(): number {
    return this.held.size;
  }

  /** A report from the node: the peer answered or failed, and is now in this state with these failures. */
  update(id: string, state: HealthState, failures: number): void {
    if (this.shown.get(id) === shownKey(state, failures)) {
      this.held.add(id);
      return;
    }
    this.held.delete(id);
    this.show(id);
  }

  /** The peer left the table: nothing held for it may follow its removal. */
  removed(id: string): void {
    this.shown.delete(id);
    this.held.delete(id);
  }

  /** Sends every held update, in the order the peers were first held. */
  flush(): void {
    if (this.held.size === 0) return;
    const held = this.held;
    this.held = new Set();
    for (const id of held) this.show(id);
  }

  /** Forgets everything (no subscriber, another node): the next update of each peer goes out at once. */
  reset(): void {
    if (this.shown.size > 0) this.shown.clear();
    if (this.held.size > 0) this.held = new Set();
  }

  private show(id: string): void {
    const peer = this.peerInfo(id);
    // Gone from the table since it was reported: its removal is (or was) on its way instead.
    if (peer === undefined) {
      this.shown.delete(id);
      return;
    }
    if (this.shown.has(id)) this.shown.delete(id);
    else if (this.shown.size >= this.maxPeers) {
      const oldest = this.shown.keys().next().value as string;
      this.shown.delete(oldest);
      this.held.delete(oldest);
    }
    this.shown.set(id, shownKey(peer.state, peer.failures));
    this.send(peer);
  }
}
