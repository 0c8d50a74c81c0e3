// `kadscope get <key>`: fetches a record and writes its value to stdout (or to --out F).
// `kadscope get --at NAME`: the value put with put --at NAME (the record at SHA-256(NAME)).
import { writeFile } from 'node:fs/promises';
import { ID_BYTES, isIdHex } from '../../../core/id';
import type { DhtNode } from '../../../core/node';
import type { GetResult } from '../../../core/records/client';
import { MAX_SALT_BYTES } from '../../../core/wire/types';
import { EXIT_OK, parse, UsageError, type Command } from '../shared';
import { nameArg } from './put';
import { cliProtocol, SESSION_FLAGS, SESSION_USAGE, withSession } from './session';

export const getCommand: Command = {
  name: 'get',
  summary: 'fetch a value by its key (or --at NAME) and print it',
  usage: `kadscope get (<key> | --at NAME) --bootstrap host:port,... [--salt S] [--out F] [--json]

  <key>         64 hex characters, as printed by kadscope put (40 with --protocol mainline)
  --at NAME     the value stored with kadscope put --at NAME (at SHA-256(NAME)); whoever wrote
                the name last, not necessarily who you think: see the README, "Named keys"
  --salt S      the salt of a mutable record (Mainline: BEP 44 answers leave it out, and the
                signature cannot be checked without it)
  --out F       write the value's bytes to file F instead of stdout
${SESSION_USAGE}`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { ...SESSION_FLAGS, out: { type: 'string' }, salt: { type: 'string' }, at: { type: 'string' } });
    let fetch: (node: DhtNode) => Promise<GetResult>;
    if (values.at !== undefined) {
      if (positionals.length > 0) throw new UsageError('give either <key> or --at NAME, not both');
      if (values.salt !== undefined) throw new UsageError('--salt is for mutable records; a name is the whole key');
      const name = nameArg(values.at);
      fetch = (node) => node.records.getNamed(name);
    } else {
      const keyBytes = cliProtocol(values.protocol, true)?.idBytes ?? ID_BYTES;
      if (positionals.length !== 1) throw new UsageError(`get takes one key (${keyBytes * 2} hex characters) or --at NAME`);
      const key = positionals[0].toLowerCase();
      if (!isIdHex(key, keyBytes)) throw new UsageError(`a key is ${keyBytes * 2} hex characters; got "${positionals[0].slice(0, 80)}"`);
      const salt = values.salt === undefined ? undefined : new TextEncoder().encode(values.salt);
      if (salt && salt.length > MAX_SALT_BYTES) throw new UsageError(`--salt is ${salt.length} bytes as UTF-8; at most ${MAX_SALT_BYTES}`);
      fetch = (node) => node.records.get(key, salt ? { salt } : {});
    }
    const r = await withSession(values, io, fetch);
    const text = utf8(r.value);
    if (values.out !== undefined) {
      try {
        await writeFile(values.out, r.value);
      } catch (e) {
        throw new UsageError(`--out: cannot write ${values.out}: ${(e as Error).message}`);
      }
    }
    if (values.json) {
      io.out(JSON.stringify({
        key: r.key,
        text,
        base64: Buffer.from(r.value).toString('base64'),
        from: r.from,
        hops: r.hops,
        messages: r.messages,
        durationMs: r.durationMs,
        ...(r.seq !== undefined ? { seq: r.seq } : {}),
        ...(r.name !== undefined ? { name: r.name } : {}),
      }));
    } else if (values.out === undefined) {
      if (text !== null) io.out(text);
      else {
        io.out(Buffer.from(r.value).toString('base64'));
        io.err('kadscope: the value is not UTF-8 text; printed it as base64 (use --out F for the raw bytes)');
      }
    }
    return EXIT_OK;
  },
};

function utf8(b: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return null;
  }
}
