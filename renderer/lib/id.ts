// Id helpers for the UI. The renderer may not import core/ (lint), so the few bit operations the
// graph needs on 64-hex-character ids live here, on strings.

export const ID_HEX_CHARS = 64;
export const ID_BITS = 256;
/** A random id of `bytes` bytes as hex (the node's id length: 32 for kadscope, 20 for Mainline). */
export function randomIdHex(bytes = 32): string {
  const b = new Uint8Array(bytes);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Characters shown of an id in tables and labels; the full id is on hover and copy. */
export const SHORT_ID_CHARS = 8;

export function shortId(hex: string, n = SHORT_ID_CHARS): string {
  return hex.length <= n ? hex : hex.slice(0, n);
}

/** Number of leading bits two hex ids share (256 when equal). */
export function commonPrefixBits(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = parseInt(a[i], 16) ^ parseInt(b[i], 16);
    if (x !== 0) return i * 4 + (Math.clz32(x) - 28);
  }
  return n * 4;
}

/** The bucket `other` falls in from `self`: shared prefix length, or -1 for self (ids of any one length: 256 or 160 bits). */
export function bucketOf(self: string, other: string): number {
  const cpl = commonPrefixBits(self.toLowerCase(), other.toLowerCase());
  return cpl >= Math.min(ID_BITS, self.length * 4) ? -1 : cpl;
}

/** The id's leading `bits` (at most 48) as a fraction of the whole space, in [0, 1). */
export function leadingFraction(hex: string, bits = 32): number {
  const chars = Math.ceil(Math.min(bits, 48) / 4);
  const v = parseInt(hex.slice(0, chars).padEnd(chars, '0'), 16);
  return v / 16 ** chars;
}

/** Bits of the id starting at bit `from` as a fraction in [0, 1): deterministic jitter. */
export function bitsFraction(hex: string, from: number, bits = 16): number {
  const startChar = Math.floor(from / 4);
  const chars = Math.ceil(bits / 4);
  const slice = hex.slice(startChar, startChar + chars).padEnd(chars, '0');
  return parseInt(slice, 16) / 16 ** chars;
}

/** Whether `a` is strictly closer to `target` than `b` in XOR distance (hex ids of equal length). */
export function closerTo(target: string, a: string, b: string): boolean {
  for (let i = 0; i < target.length; i++) {
    const t = parseInt(target[i], 16);
    const da = parseInt(a[i], 16) ^ t;
    const db = parseInt(b[i], 16) ^ t;
    if (da !== db) return da < db;
  }
  return false;
}

const HEX_PREFIX = /^[0-9a-f]*$/;

/** Normalises user input for an id-prefix search: lowercase hex without spaces, or null if not hex. */
export function normalisePrefix(input: string): string | null {
  const s = input.trim().toLowerCase().replace(/^0x/, '');
  return HEX_PREFIX.test(s) && s.length <= ID_HEX_CHARS ? s : null;
}
