// Byte conversions for values: the contract carries raw bytes as base64.

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin);
}

/** Hex dump in rows of 16 bytes: "0000  48 65 6c 6c 6f  Hello". */
export function hexDump(bytes: Uint8Array, perRow = 16): string {
  const rows: string[] = [];
  for (let off = 0; off < bytes.length; off += perRow) {
    const chunk = bytes.subarray(off, off + perRow);
    const hex = Array.from(chunk, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(chunk, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    rows.push(`${off.toString(16).padStart(4, '0')}  ${hex.padEnd(perRow * 3 - 1)}  ${ascii}`);
  }
  return rows.join('\n');
}

export function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}
