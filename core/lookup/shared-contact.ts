// The Contact objects a lookup's events name, shared between lookups. Each lookup meets its peers
// again (a 50-node network: ~50 a lookup, the same ones every time), and an explorer keeps each
// event for its trace (electron/host/trace-recorder.ts, the last 500 lookups): a fresh Contact per
// peer per lookup is promoted to the old generation and marked there, for as long as the trace
// is kept. A Contact that an earlier lookup made is already there.
//
// A memo, not a registry: sharedContact(id, host, port) equals { id, host, port } whatever the
// table holds. Direct-mapped on the id's last three hex digits (random in every protocol), one
// process-wide table of SLOTS entries (~100 KiB full, ids and hosts included); a peer whose slot
// another took meanwhile gets a fresh object. The contacts are frozen, so sharing them cannot let
// one holder change what another sees.
import type { Contact } from '../types';

const SLOTS = 1024;
const slots: Array<Contact | undefined> = new Array<Contact | undefined>(SLOTS).fill(undefined);

/** A hex digit's value, either case; anything else gives some value below 32, which only picks a slot. */
function nibble(id: string, i: number): number {
  const c = id.charCodeAt(i);
  return (c & 15) + (c > 57 ? 9 : 0);
}

/** A Contact equal to { id, host, port }: the one made last time for these three when it is still in its slot. */
export function sharedContact(id: string, host: string, port: number): Contact {
  const n = id.length;
  if (n < 3) return { id, host, port };
  const slot = (nibble(id, n - 1) | (nibble(id, n - 2) << 4) | (nibble(id, n - 3) << 8)) & (SLOTS - 1);
  const held = slots[slot];
  if (held !== undefined && held.port === port && held.id === id && held.host === host) return held;
  // Frozen: a caller that writes to a contact (findNode hands them out) gets a TypeError, not other lookups changed.
  const made: Contact = Object.freeze({ id, host, port });
  slots[slot] = made;
  return made;
}
