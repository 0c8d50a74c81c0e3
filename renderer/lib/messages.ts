// What views say about what the user typed or did, as pure functions the unit tests read.

/** Why a typed node count is refused, in words that are true of what was typed; null when it is fine. */
export function countError(text: string, max: number): string | null {
  const t = text.trim();
  if (t === '') return `how many? a whole number from 1 to ${max}`;
  if (!/^[-+]?\d+(\.\d+)?$/.test(t)) return `"${t}" is not a number; type a whole number from 1 to ${max}`;
  const n = Number(t);
  if (!Number.isInteger(n)) return `${t} is not a whole number; type one from 1 to ${max}`;
  if (n < 1) return `at least 1, not ${n}`;
  if (n > max) return `at most ${max} at a time`;
  return null;
}

/**
 * What a join came to, true whatever the table held before: a bootstrap that does not answer leaves
 * the peers the node already had (the embedded testnet's), so "still alone" is only said when it is.
 */
export function joinResultText(reached: number, peers: number): string {
  if (reached > 0) return `Joined: ${peers} peer${peers === 1 ? '' : 's'} in the routing table.`;
  if (peers === 0) return 'No bootstrap address answered; the node is still alone.';
  return `No bootstrap address answered; the node keeps the ${peers} peer${peers === 1 ? '' : 's'} it already had.`;
}
