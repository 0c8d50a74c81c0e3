// `kadscope peers <topic>`: the addresses announced under SHA-256(topic), one host:port per line.
import { endpointKey } from '../../../core/transport/types';
import { EXIT_OK, parse, UsageError, type Command } from '../shared';
import { cliProtocol, cliTopic, SESSION_FLAGS, SESSION_USAGE, withSession } from './session';

export const peersCommand: Command = {
  name: 'peers',
  summary: 'list the addresses announced under a topic',
  usage: `kadscope peers <topic> --bootstrap host:port,... [--json]

${SESSION_USAGE}`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, SESSION_FLAGS);
    if (positionals.length !== 1 || positionals[0] === '') throw new UsageError('peers takes one topic (any non-empty text)');
    const topic = positionals[0];
    const mainline = cliProtocol(values.protocol, true)?.name === 'mainline';
    const { topic: key, hashed } = cliTopic(topic, cliProtocol(values.protocol, true));
    const r = await withSession(values, io, (node) => node.records.lookupPeers(key));
    const peers = r.peers.map(endpointKey);
    const sameNetwork = r.sameNetwork.map((n) => ({ local: endpointKey(n.address), public: endpointKey(n.publicAddress) }));
    if (values.json) io.out(JSON.stringify({ topic, key: r.key, ...(mainline ? { hashed } : {}), peers, sameNetwork, hops: r.hops, messages: r.messages, durationMs: r.durationMs }));
    else {
      if (mainline && hashed) io.err(`kadscope: "${topic}" is not a 40-hex info hash: looking up its SHA-1, ${r.key}`);
      for (const p of peers) io.out(p);
      // Stdout stays one address a line for scripts; which are local goes to stderr.
      for (const n of sameNetwork) io.err(`kadscope: ${n.local} is the local address of ${n.public} (same network)`);
      io.err(`kadscope: ${peers.length} address${peers.length === 1 ? '' : 'es'} announced under "${topic}"`);
    }
    return EXIT_OK;
  },
};
