// `kadscope put <text> | --file F`: stores an immutable value and prints its key.
// `kadscope put --mutable --keys F --seq N [--salt S] [--cas N] ...`: signs and stores a mutable
// record with the key pair in F (created, and said so, when F does not exist).
// `kadscope put --at NAME <text> | --file F`: stores the value at SHA-256(NAME) (a named record).
import { readFile } from 'node:fs/promises';
import { DhtError } from '../../../core/errors';
import { generateKeyPair, loadKeyPair, nameProblem, saveKeyPair, type KeyPair } from '../../../core/records/signing';
import { MAX_SALT_BYTES, MAX_VALUE_BYTES } from '../../../core/wire/types';
import { EXIT_OK, intFlag, parse, UsageError, type Command, type Io } from '../shared';
import { SESSION_FLAGS, SESSION_USAGE, withSession } from './session';

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

export const putCommand: Command = {
  name: 'put',
  summary: 'store a value (or a signed mutable record) and print its key',
  usage: `kadscope put (<text> | --file F) --bootstrap host:port,... [--json]
       kadscope put --mutable --keys F --seq N [--salt S] [--cas N] (<text> | --file F) --bootstrap ...
       kadscope put --at NAME (<text> | --file F) --bootstrap ...

  --file F      store the bytes of file F instead of <text> (at most ${MAX_VALUE_BYTES} bytes; on Mainline
                at most ${MAX_VALUE_BYTES} bytes bencoded, BEP 44)
  --mutable     a signed record at SHA-256(public key || salt) (Mainline: SHA-1, BEP 44), updatable
                with a higher --seq
  --keys F      the ed25519 key pair file (created if it does not exist)
  --seq N       the record's sequence number; storers keep the highest
  --salt S      up to ${MAX_SALT_BYTES} bytes of UTF-8: one key pair, many records
  --cas N       store only where the stored seq is N (compare-and-swap)
  --at NAME     store at SHA-256(NAME) instead of SHA-256(value); read it back with get --at NAME.
                Anyone can overwrite a name (the last write wins): see the README, "Named keys"
${SESSION_USAGE}`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      ...SESSION_FLAGS,
      file: { type: 'string' },
      mutable: { type: 'boolean' },
      keys: { type: 'string' },
      seq: { type: 'string' },
      salt: { type: 'string' },
      cas: { type: 'string' },
      at: { type: 'string' },
    });
    const value = await readValue(positionals, values.file);
    if (values.at !== undefined) {
      if (values.mutable) throw new UsageError('--at stores a plain value under a name; a mutable record is found by its key pair (drop --at or --mutable)');
      const name = nameArg(values.at);
      const r = await withSession(values, io, (node) => node.records.putNamed(name, value));
      if (values.json) io.out(JSON.stringify({ key: r.key, name: r.name, storedAt: r.storedAt, failed: r.failed }));
      else {
        io.out(r.key);
        io.err(`kadscope: stored at ${r.storedAt.length} node${r.storedAt.length === 1 ? '' : 's'} under the name ${JSON.stringify(name)}`);
      }
      return EXIT_OK;
    }
    if (!values.mutable) {
      for (const flag of ['keys', 'seq', 'salt', 'cas'] as const) {
        if (values[flag] !== undefined) throw new UsageError(`--${flag} is for mutable records; add --mutable`);
      }
      const r = await withSession(values, io, (node) => node.records.put(value));
      if (values.json) io.out(JSON.stringify({ key: r.key, storedAt: r.storedAt, failed: r.failed }));
      else {
        io.out(r.key);
        io.err(`kadscope: stored at ${r.storedAt.length} node${r.storedAt.length === 1 ? '' : 's'}`);
      }
      return EXIT_OK;
    }

    if (values.keys === undefined) throw new UsageError('--mutable needs --keys F (the key pair file; created if missing)');
    if (values.seq === undefined) throw new UsageError('--mutable needs --seq N (storers keep the highest seq)');
    const seq = intFlag('seq', values.seq, 0, MAX_SEQ, 0);
    const cas = values.cas === undefined ? undefined : intFlag('cas', values.cas, 0, MAX_SEQ, 0);
    const salt = values.salt === undefined ? undefined : new TextEncoder().encode(values.salt);
    if (salt && salt.length > MAX_SALT_BYTES) throw new UsageError(`--salt is ${salt.length} bytes as UTF-8; at most ${MAX_SALT_BYTES}`);
    const keyPair = await keyPairFile(values.keys, io);
    const r = await withSession(values, io, (node) => node.records.putMutable({ keyPair, seq, value, ...(salt ? { salt } : {}), ...(cas !== undefined ? { cas } : {}) }));
    if (values.json) {
      io.out(JSON.stringify({ key: r.key, seq: r.seq, publicKey: r.publicKey, salt: r.salt, storedAt: r.storedAt, failed: r.failed }));
    } else {
      io.out(r.key);
      io.err(`kadscope: seq ${r.seq} stored at ${r.storedAt.length} node${r.storedAt.length === 1 ? '' : 's'}`);
    }
    return EXIT_OK;
  },
};

/** --at NAME, checked as storers check it. */
export function nameArg(name: string): string {
  const problem = nameProblem(name);
  if (problem !== null) throw new UsageError(`--at: ${problem}`);
  return name;
}

/** The value of <text> or --file F, at most maxBytes. */
export async function readValue(positionals: string[], file: string | undefined, maxBytes = MAX_VALUE_BYTES): Promise<Uint8Array> {
  if (file !== undefined && positionals.length > 0) throw new UsageError('give either <text> or --file F, not both');
  let value: Uint8Array;
  if (file !== undefined) {
    try {
      value = new Uint8Array(await readFile(file));
    } catch (e) {
      throw new UsageError(`--file: cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
  } else {
    if (positionals.length !== 1) throw new UsageError('put takes one value: <text> (quote it if it has spaces) or --file F');
    value = new TextEncoder().encode(positionals[0]);
  }
  if (value.length > maxBytes) throw new UsageError(`the value is ${value.length} bytes; a record holds at most ${maxBytes}`);
  return value;
}

/** Loads the key pair in path, or creates the file with a fresh key pair (saying so on stderr). */
export async function keyPairFile(path: string, io: Io): Promise<KeyPair> {
  try {
    return await loadKeyPair(path);
  } catch (e) {
    if (!(e instanceof DhtError && e.code === 'INVALID_ARGUMENT' && /does not exist/.test(e.message))) {
      if (e instanceof DhtError && e.code === 'CORRUPT_FILE') throw new UsageError(`--keys: ${e.message}`);
      throw e;
    }
  }
  const kp = generateKeyPair();
  try {
    await saveKeyPair(path, kp);
  } catch (e) {
    throw new UsageError(`--keys: cannot create ${path}: ${(e as Error).message}`);
  }
  io.err(`kadscope: created a new key pair in ${path} (public key ${Buffer.from(kp.publicKey).toString('hex')}); keep it to update this record`);
  return kp;
}
