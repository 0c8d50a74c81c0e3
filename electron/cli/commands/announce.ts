// `kadscope announce <topic>`: records an address under SHA-256(topic) at the nodes closest to it.
import { EXIT_OK, intFlag, parse, untilSignal, UsageError, type Command } from '../shared';
import { cliProtocol, cliTopic, SESSION_FLAGS, SESSION_USAGE, withSession } from './session';

export const announceCommand: Command = {
  name: 'announce',
  summary: 'announce an address (host as others see it, and a port) under a topic',
  usage: `kadscope announce <topic> --bootstrap host:port,... [--port N] [--stay] [--json]

  --port N      the port to announce (default: this command's own UDP port)
  --stay        keep running and re-announcing until Ctrl-C (announcements expire after 20 minutes)
${SESSION_USAGE}`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { ...SESSION_FLAGS, port: { type: 'string' }, stay: { type: 'boolean' } });
    if (positionals.length !== 1 || positionals[0] === '') throw new UsageError('announce takes one topic (any non-empty text)');
    const topic = positionals[0];
    const port = values.port === undefined ? undefined : intFlag('port', values.port, 1, 65535, 0);
    const mainline = cliProtocol(values.protocol, true)?.name === 'mainline';
    const { topic: key, hashed } = cliTopic(topic, cliProtocol(values.protocol, true));
    return withSession(values, io, async (node) => {
      const r = await node.records.announce(key, port);
      if (values.json) io.out(JSON.stringify({ topic, key: r.key, ...(mainline ? { hashed } : {}), port: r.port, storedAt: r.storedAt, failed: r.failed }));
      else {
        if (mainline && hashed) io.err(`kadscope: "${topic}" is not a 40-hex info hash: announcing under its SHA-1, ${r.key}`);
        io.out(`announced port ${r.port} under "${topic}" (${r.key}) at ${r.storedAt.length} node${r.storedAt.length === 1 ? '' : 's'}`);
      }
      if (values.stay) {
        const signalled = untilSignal();
        io.err('kadscope: re-announcing until Ctrl-C');
        await signalled;
      }
      return EXIT_OK;
    });
  },
};
