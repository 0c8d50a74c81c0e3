// The hex form of a peer id seen on the wire, remembered. Every request and every answer names its
// sender's id as bytes, and the node turns it into hex (its Map key) at least once per datagram; a
// peer that talks to us keeps sending the same id. Converting 32 bytes costs ~0.1 us, and looking a
// fresh string up in a Map hashes it again (~0.1 us); comparing the bytes with the last ones seen in
// the same slot costs ~40 ns, and the remembered string keeps its hash.
//
// A pure function's memo: the answer is bytesToHex(b) whatever the cache holds. Direct-mapped on the
// id's last byte (random in every protocol), one process-wide table of SLOTS entries (~40 KiB full).
import { bytesToHex } from '../id';

const SLOTS = 256;
const slotBytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(SLOTS).fill(undefined);
const slotHex: string[] = new Array<string>(SLOTS).fill('');

/** bytesToHex(b), from the memo when b is the id last seen in its slot. */
export function idHex(b: Uint8Array): string {
  const n = b.length;
  if (n === 0) return '';
  const slot = b[n - 1];
  const held = slotBytes[slot];
  if (held !== undefined && held.length === n) {
    let i = 0;
    while (i < n && held[i] === b[i]) i++;
    if (i === n) return slotHex[slot];
  }
  const hex = bytesToHex(b);
  // A copy: b may be a view into a datagram, which the memo must not keep alive or see change.
  slotBytes[slot] = new Uint8Array(b);
  slotHex[slot] = hex;
  return hex;
}
