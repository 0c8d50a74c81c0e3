// `kadscope lookup <target>`: join through --bootstrap, run one find-node lookup, print the closest peers.
import { parseAddressList } from '../../../core/address';
import { isIdHex } from '../../../core/id';
import { DhtNode } from '../../../core/node';
import type { LookupEvent } from '../../../core/types';
import { EXIT_FAILURE, EXIT_OK, listFlag, parse, UsageError, type Command } from '../shared';

export const lookupCommand: Command = {
  name: 'lookup',
  summary: 'find the nodes closest to a 64-hex-char id',
  usage: `kadscope lookup <target-hex> --bootstrap host:port,... [--json]`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      bootstrap: { type: 'string' },
      host: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError('lookup takes one target id (64 hex characters)');
    const target = positionals[0].toLowerCase();
    if (!isIdHex(target)) throw new UsageError(`target must be 64 hex characters (256 bits); got "${positionals[0].slice(0, 80)}"`);
    const parsed = parseAddressList(listFlag(values.bootstrap));
    if (!parsed.ok) throw new UsageError(`--bootstrap: ${parsed.message}`);
    if (parsed.value.length === 0) throw new UsageError('--bootstrap is required: the addresses of nodes to join through');

    const node = DhtNode.create({ host: values.host ?? '127.0.0.1', port: 0, refreshOnBootstrap: false });
    await node.start();
    try {
      const joined = await node.bootstrap(parsed.value);
      if (joined.reached.length === 0) {
        io.err(`kadscope: no bootstrap node answered (${joined.failed.map((f) => `${f.address}: ${f.error}`).join('; ')})`);
        return EXIT_FAILURE;
      }
      let done: Extract<LookupEvent, { type: 'done' }> | null = null;
      for await (const e of node.lookup(target)) if (e.type === 'done') done = e;
      if (!done) return EXIT_FAILURE;
      if (values.json) {
        io.out(JSON.stringify({ target, ...done }));
      } else {
        io.out(`lookup ${target.slice(0, 16)}…: ${done.reason}, ${done.hops} hops, ${done.messages} messages, ${done.durationMs.toFixed(1)} ms`);
        for (const c of done.closest) io.out(`${c.id}  ${c.host}:${c.port}`);
      }
      return done.closest.length > 0 ? EXIT_OK : EXIT_FAILURE;
    } finally {
      await node.stop();
    }
  },
};
