// `kadscope get <key>`: fetches a record and writes its value to stdout (or to --out F).
import { writeFile } from 'node:fs/promises';
import { ID_BYTES, isIdHex } from '../../../core/id';
import { MAX_SALT_BYTES } from '../../../core/wire/types';
import { EXIT_OK, parse, UsageError, type Command } from '../shared';
import { cliProtocol, SESSION_FLAGS, SESSION_USAGE, withSession } from './session';

export const getCommand: Command = {
  name: 'get',
  summary: 'fetch a value by its key and print it',
  usage: `kadscope get <key> --bootstrap host:port,... [--salt S] [--out F] [--json]

  <key>         64 hex characters, as printed by kadscope put (40 with --protocol mainline)
  --salt S      the salt of a mutable record (Mainline: BEP 44 answers leave it out, and the
                signature cannot be checked without it)
  --out F       write the value's bytes to file F instead of stdout
${SESSION_USAGE}`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { ...SESSION_FLAGS, out: { type: 'string' }, salt: { type: 'string' } });
    const keyBytes = cliProtocol(values.protocol, true)?.idBytes ?? ID_BYTES;
    if (positionals.length !== 1) throw new UsageError(`get takes one key (${keyBytes * 2} hex characters)`);
    const key = positionals[0].toLowerCase();
    if (!isIdHex(key, keyBytes)) throw new UsageError(`a key is ${keyBytes * 2} hex characters; got "${positionals[0].slice(0, 80)}"`);
    const salt = values.salt === undefined ? undefined : new TextEncoder().encode(values.salt);
    if (salt && salt.length > MAX_SALT_BYTES) throw new UsageError(`--salt is ${salt.length} bytes as UTF-8; at most ${MAX_SALT_BYTES}`);
    const r = await withSession(values, io, (node) => node.records.get(key, salt ? { salt } : {}));
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
