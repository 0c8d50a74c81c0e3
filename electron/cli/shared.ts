// Shared pieces of the CLI: argument parsing with one-line errors, exit codes and output helpers.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DhtError } from '../../core/errors';

/** Exit codes: 0 success, 1 the network or the operation failed, 2 bad usage. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {}

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const stdio: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[], io: Io): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with strict checking; any problem becomes a UsageError with one clear line. */
export function parse<O extends Options>(argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

export function intFlag(name: string, value: string | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number; got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name} must be ${min}-${max}; got ${n}`);
  return n;
}

export function listFlag(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** The --protocol flag's value, if any ('' when it has none); undefined without the flag. */
export function protocolOf(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--protocol') return argv[i + 1] ?? '';
    if (argv[i].startsWith('--protocol=')) return argv[i].slice('--protocol='.length);
  }
  return undefined;
}

/** Maps an error to an exit code and a one-line message. */
export function failure(err: unknown, io: Io): number {
  if (err instanceof UsageError) {
    io.err(`kadscope: ${err.message}`);
    return EXIT_USAGE;
  }
  if (err instanceof DhtError) {
    io.err(`kadscope: ${err.code}: ${err.message}`);
    return err.code === 'INVALID_ARGUMENT' ? EXIT_USAGE : EXIT_FAILURE;
  }
  io.err(`kadscope: ${err instanceof Error ? err.message : String(err)}`);
  return EXIT_FAILURE;
}

/** Resolves on SIGINT or SIGTERM (once), so a long-running command can shut down cleanly. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
