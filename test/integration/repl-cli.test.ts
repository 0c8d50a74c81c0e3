// `kadscope repl` as people use it: a script piped into standard input, and a person at a terminal
// (a pseudo-terminal from util-linux's `script`), against a UDP testnet on 127.0.0.1. The shell runs
// in its own process through the real `kadscope` entry point.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestnet, type Testnet } from '../../core/testnet';

const BIN = resolve('electron/bin/kadscope.mjs');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
/** Generous: the shell starts under tsx on a shared, loaded machine. Only a hang reaches it. */
const EXIT_WAIT_MS = 90_000;

let tn: Testnet;
beforeAll(async () => {
  tn = await createTestnet({ size: 6, transport: 'udp', seed: 0x5e11 });
});
afterAll(async () => {
  await tn?.destroy();
});

interface Ended {
  code: number | null;
  out: string;
  err: string;
}

function ended(child: ChildProcessWithoutNullStreams, out: () => string, err: () => string): Promise<Ended> {
  return new Promise((ok) => {
    const t = setTimeout(() => child.kill('SIGKILL'), EXIT_WAIT_MS);
    child.on('close', (code) => {
      clearTimeout(t);
      ok({ code, out: out(), err: err() });
    });
  });
}

/** The shell joined to the testnet, `lines` piped into it, run to its end. */
function piped(lines: string[]): Promise<Ended> {
  const child = spawn(process.execPath, [BIN, 'repl', '--bootstrap', tn.bootstrap.join(',')], { stdio: 'pipe' });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.end(lines.join('\n') + '\n');
  return ended(child, () => out, () => err);
}

describe('kadscope repl', () => {
  it('reads a piped script: r lists peers with full ids, s prints the key, f fetches, l lists, q quits', async () => {
    const value = 'hello from a pipe';
    const key = sha256(value);
    const r = await piped(['r', `s ${value}`, `f ${key}`, 'l', 'bogus', 'f not-a-key', 'q', 'r']);
    expect(r.err).toBe('error: unknown command "bogus"; h lists them\nerror: expected 64 hex characters; got "not-a-key"\n');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    // No prompt when standard input is not a terminal: scripts get clean output.
    expect(r.out).not.toContain('kadscope>');
    const ids = new Set(tn.nodes.map((n) => n.id));
    const peerLines = lines.filter((l) => /^[0-9a-f]{64} 127\.0\.0\.1:\d+ bucket \d+ \w+/.test(l));
    // r ran once (the r after q never did), one line per peer, each with its 64-hex id.
    expect(peerLines).toHaveLength(tn.nodes.length);
    expect(new Set(peerLines.map((l) => l.slice(0, 64)))).toEqual(ids);
    const afterStore = lines.indexOf(key);
    expect(afterStore).toBeGreaterThan(0);
    expect(lines[afterStore + 1]).toMatch(/^stored at \d+ nodes/);
    expect(lines[afterStore + 2]).toBe(value);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${key} immutable ${value.length} B, expires in \\d+ s, ours$`)));
  });

  it('named keys through the pipe: s --at stores at SHA-256(NAME), f --at fetches it, l names it; bad usage is an error', async () => {
    const name = 'config/greeting';
    const key = sha256(name);
    const r = await piped([`s --at ${name} hello  named world`, `f --at ${name}`, `f ${key}`, 'l', 's --at', `s --at ${name}`, `f --at ${name} extra`, `f --at ${'n'.repeat(129)}`, 'h', 'q']);
    expect(r.code).toBe(0);
    const errors = r.err.trimEnd().split('\n');
    expect(errors.slice(0, 3)).toEqual(['error: --at needs a name: s --at NAME VALUE', 'error: s --at needs a value: s --at NAME VALUE', 'error: f --at takes one name: f --at NAME']);
    expect(errors[3]).toMatch(/^error: .*128/);
    expect(errors).toHaveLength(4);
    const lines = r.out.split('\n');
    const stored = lines.indexOf(key);
    expect(stored).toBeGreaterThan(0);
    expect(lines[stored + 1]).toMatch(new RegExp(`^stored "${name}" at [1-9]\\d* nodes`));
    // The rest of the line is the value, inner spaces kept; by name and by key alike.
    expect(lines[stored + 2]).toBe('hello  named world');
    expect(lines[stored + 3]).toMatch(new RegExp(`^"${name}" from `));
    expect(lines[stored + 4]).toBe('hello  named world');
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${key} named "${name}" 18 B, expires in \\d+ s, ours$`)));
    expect(r.out).toContain('s --at NAME VALUE');
    expect(r.out).toContain('f --at NAME');
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript)('at a terminal (a pseudo-terminal): a prompt, line editing and history', async () => {
    // script(1) gives the shell a pseudo-terminal; what we write is what a person types.
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} repl --bootstrap ${tn.bootstrap.join(',')}`;
    const child = spawn('script', ['-q', '-e', '-c', cmd, '/dev/null'], { stdio: 'pipe', env: { ...process.env, TERM: 'xterm' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const done = ended(child, () => out, () => '');
    try {
      const waitFor = async (pred: () => boolean): Promise<void> => {
        while (!pred()) {
          if (child.exitCode !== null) throw new Error(`the shell ended early:\n${out}`);
          await new Promise<void>((ok) => child.stdout.once('data', () => ok()));
        }
      };
      const count = (s: string): number => out.split(s).length - 1;
      await waitFor(() => count('kadscope> ') >= 1);
      // Line editing: a typo erased with Backspace (DEL) before Enter.
      const value = 'typed at a terminal';
      child.stdin.write(`s ${value}X\x7f\r`);
      await waitFor(() => count('stored at ') >= 1);
      expect(out).toContain(sha256(value));
      expect(out).not.toContain(sha256(`${value}X`));
      // History: the up arrow brings the last line back; Enter runs it again.
      child.stdin.write('\x1b[A\r');
      await waitFor(() => count('stored at ') >= 2);
      expect(count(sha256(value))).toBe(2);
      child.stdin.write('q\r');
      const r = await done;
      expect(r.code).toBe(0);
    } finally {
      // A failed expectation must not leave the shell behind (killing script(1) hangs up its terminal).
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
