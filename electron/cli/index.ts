// The kadscope CLI: one command per file in ./commands, dispatched by name.
// Exit codes: 0 success, 1 network/operation failure, 2 bad usage (see shared.ts).
import { announceCommand } from './commands/announce';
import { crawlCommand, crawlsCommand } from './commands/crawl';
import { getCommand } from './commands/get';
import { lookupCommand } from './commands/lookup';
import { nodeCommand } from './commands/node';
import { peersCommand } from './commands/peers';
import { putCommand } from './commands/put';
import { traceCommand } from './commands/trace';
import { serveCommand } from './commands/serve';
import { EXIT_OK, EXIT_USAGE, failure, stdio, type Command, type Io } from './shared';

export const COMMANDS: Command[] = [nodeCommand, lookupCommand, putCommand, getCommand, announceCommand, peersCommand, traceCommand, crawlCommand, crawlsCommand, serveCommand];

function help(io: Io): void {
  io.out('kadscope: an explorer for Kademlia DHT networks\n\nusage: kadscope <command> [options]\n\ncommands:');
  for (const c of COMMANDS) io.out(`  ${c.name.padEnd(10)} ${c.summary}`);
  io.out('\n`kadscope <command> --help` shows a command\'s options.');
}

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    help(io);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err(`kadscope: unknown command "${name}"; try: ${COMMANDS.map((c) => c.name).join(', ')}`);
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`usage: ${cmd.usage}`);
    return EXIT_OK;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    return failure(err, io);
  }
}
