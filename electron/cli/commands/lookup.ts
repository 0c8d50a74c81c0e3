// `kadscope lookup <target>`: join through --bootstrap, run one find-node lookup, print the closest peers;
// --trace F also saves the lookup as a trace file (the same builder and format as the app's traces).
import { writeFile } from 'node:fs/promises';
import { parseAddressList } from '../../../core/address';
import { isIdHex } from '../../../core/id';
import { DhtNode } from '../../../core/node';
import { cliProtocol } from './session';
import type { LookupEvent } from '../../../core/types';
import { TraceBuilder } from '../../host/trace-build';
import { TRACE_FILE_SUFFIX, serializeTrace } from '../../host/trace-format';
import { EXIT_FAILURE, EXIT_OK, listFlag, parse, UsageError, type Command } from '../shared';

export const lookupCommand: Command = {
  name: 'lookup',
  summary: 'find the nodes closest to a 64-hex-char id',
  usage: `kadscope lookup <target-hex> --bootstrap host:port,... [--trace F${TRACE_FILE_SUFFIX}] [--json]

  --bootstrap  comma-separated addresses to join through: host:port, [v6]:port or /ip4|ip6/H/udp/P
  --host       address to bind (default 127.0.0.1)
  --trace F    save the lookup's trace to file F (show it with: kadscope trace show F)
  --json       print one machine-readable JSON object
  --protocol P kadscope (default) or mainline (BitTorrent's DHT: the target is 40 hex characters;
               the lookup joins read-only, BEP 43)`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      bootstrap: { type: 'string' },
      host: { type: 'string' },
      trace: { type: 'string' },
      json: { type: 'boolean' },
      protocol: { type: 'string' },
    });
    const protocol = cliProtocol(values.protocol, true);
    const idBytes = protocol?.idBytes ?? 32;
    if (positionals.length !== 1) throw new UsageError(`lookup takes one target id (${idBytes * 2} hex characters)`);
    const target = positionals[0].toLowerCase();
    if (!isIdHex(target, idBytes)) throw new UsageError(`target must be ${idBytes * 2} hex characters (${idBytes * 8} bits); got "${positionals[0].slice(0, 80)}"`);
    const parsed = parseAddressList(listFlag(values.bootstrap));
    if (!parsed.ok) throw new UsageError(`--bootstrap: ${parsed.message}`);
    if (parsed.value.length === 0) throw new UsageError('--bootstrap is required: the addresses of nodes to join through');
    if (values.trace === '') throw new UsageError('--trace needs a file name');

    const node = DhtNode.create({ ...(protocol ? { protocol } : {}), host: values.host ?? '127.0.0.1', port: 0, refreshOnBootstrap: false });
    await node.start();
    try {
      const joined = await node.bootstrap(parsed.value);
      if (joined.reached.length === 0) {
        io.err(`kadscope: no bootstrap node answered (${joined.failed.map((f) => `${f.address}: ${f.error}`).join('; ')})`);
        return EXIT_FAILURE;
      }
      let done: Extract<LookupEvent, { type: 'done' }> | null = null;
      const trace = new TraceBuilder();
      for await (const e of node.lookup(target)) {
        trace.ingest(e);
        if (e.type === 'done') done = e;
      }
      if (values.trace !== undefined && trace.trace) {
        try {
          await writeFile(values.trace, serializeTrace(trace.trace));
        } catch (e) {
          throw new UsageError(`--trace: cannot write ${values.trace}: ${(e as Error).message}`);
        }
        io.err(`kadscope: trace saved to ${values.trace} (${trace.trace.events.length} events); show it with: kadscope trace show ${values.trace}`);
      }
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
