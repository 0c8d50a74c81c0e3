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
import type { PeerInfo } from '../../core/types';

/** Peers whose last shown health is remembered; a routing table holds far fewer. */
export const MAX_TRACKED_PEERS = 10_000;

export class HealthCoalescer {
  /** The last update sent per peer id, oldest first. */
  private readonly shown = new Map<string, PeerInfo>();
  /** Updates held for the next flush, by peer id. */
  private held = new Map<string, PeerInfo>();

  constructor(
    private readonly send: (peer: PeerInfo) => void,
    private readonly maxPeers: number = MAX_TRACKED_PEERS,
  ) {}

  /** Updates held for the next flush. */
  get heldCount(): number {
    return this.held.size;
  }

  update(peer: PeerInfo): void {
    const last = this.shown.get(peer.id);
    if (last !== undefined && last.state === peer.state && last.failures === peer.failures) {
      this.held.set(peer.id, peer);
      return;
    }
    this.held.delete(peer.id);
    this.show(peer);
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
    this.held = new Map();
    for (const peer of held.values()) this.show(peer);
  }

  /** Forgets everything (no subscriber, another node): the next update of each peer goes out at once. */
  reset(): void {
    if (this.shown.size > 0) this.shown.clear();
    if (this.held.size > 0) this.held = new Map();
  }

  private show(peer: PeerInfo): void {
    if (this.shown.has(peer.id)) this.shown.delete(peer.id);
    else if (this.shown.size >= this.maxPeers) {
      const oldest = this.shown.keys().next().value as string;
      this.shown.delete(oldest);
      this.held.delete(oldest);
    }
    this.shown.set(peer.id, peer);
    this.send(peer);
  }
}
