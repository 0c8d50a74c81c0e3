// `kadscope lookup --trace F` and `kadscope trace show F` through the CLI's main(), against a small
// UDP testnet on 127.0.0.1: the lookup writes a trace file that `trace show` prints as a waterfall.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestnet, type Testnet } from '../../core/testnet';
import { runCliOn, type CliRun } from './cli-run';
import { parseTrace } from '../../electron/host/trace-format';

const TARGET = 'c0ffee'.padEnd(64, '0');
let tn: Testnet;
let dir: string;

const cli = (...argv: string[]): Promise<CliRun> => runCliOn(tn, argv);

describe('kadscope lookup --trace / trace show', () => {
  beforeAll(async () => {
    tn = await createTestnet({ size: 8, transport: 'udp', seed: 0x7ace });
    dir = await mkdtemp(join(tmpdir(), 'kadscope-trace-cli-'));
  });
  afterAll(async () => {
    await tn?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('a lookup with --trace writes a trace file that trace show prints as a waterfall', async () => {
    const file = join(dir, 'out.kadtrace.json');
    const lookup = await cli('lookup', TARGET, '--bootstrap', tn.bootstrap.join(','), '--trace', file, '--json');
    expect(lookup.code).toBe(0);
    expect(lookup.err).toEqual([expect.stringMatching(/^kadscope: trace saved to .*out\.kadtrace\.json \(\d+ events\); show it with: kadscope trace show /)]);
    const done = JSON.parse(lookup.out[0]) as { closest: Array<{ id: string }>; hops: number; messages: number; reason: string };

    // The file is the format the app reads, and agrees with what the lookup printed.
    const parsed = parseTrace(await readFile(file, 'utf8'));
    if (!parsed.ok) throw new Error(parsed.message);
    const trace = parsed.value;
    expect(trace).toMatchObject({ format: 'kadtrace', version: 3, protocol: 'kadscope', target: TARGET, kind: 'find-node', origin: 'live' });
    expect(trace.summary).toMatchObject({ reason: done.reason, hops: done.hops, messages: done.messages, closest: done.closest });
    const queries = trace.events.filter((e) => e.type === 'query');
    expect(queries).toHaveLength(done.messages);

    const show = await cli('trace', 'show', file);
    expect(show.code).toBe(0);
    expect(show.err).toEqual([]);
    const lines = show.out;
    expect(lines[0]).toBe(`find-node ${TARGET}`);
    expect(lines[1]).toMatch(new RegExp(`^from ${trace.self} · k 20, alpha 3, RPC timeout 2000 ms, deadline 60.00 s · started \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC$`));
    const header = lines.findIndex((l) => /^\s*#\s+offset\s+peer\s+address\s+0\s+\S+ ms\s+result\s+nodes$/.test(l));
    expect(header).toBe(3);
    // One row per RPC: number, offset, the peer's short id and address, a bar of block characters
    // between │ borders, the RTT (or timeout) and how many nodes the answer returned.
    const rows = lines.slice(header + 1, header + 1 + queries.length);
    const ROW = /^\s*(\d+)\s+(\d+\.\d ms|\d+ ms|\d+\.\d\d s)\s+([0-9a-f]{8})\s+(127\.0\.0\.1:\d+)\s+│([ ▏▎▍▌▋▊▉█▐▕░▒]{40})│\s+(\d+\.\d ms|\d+ ms|timeout|error \S+|no answer)\s+(\d+|-)$/;
    rows.forEach((row, i) => {
      const m = ROW.exec(row);
      expect(m, row).not.toBeNull();
      expect(Number(m![1])).toBe(i + 1);
      expect(m![3]).toBe(queries[i].type === 'query' ? queries[i].peer.id.slice(0, 8) : '');
      expect(m![5].trim(), 'every RPC draws a bar').not.toBe('');
    });
    expect(rows.some((r) => r.includes('█') || /[▏▎▍▌▋▊▉▐▕]/.test(r))).toBe(true);
    const summary = lines[header + 1 + queries.length + 1];
    expect(summary).toMatch(new RegExp(`^${done.reason} · ${done.hops} hops? · ${done.messages} messages \\(\\d+ answers?, \\d+ timeouts?, \\d+ errors?\\) · \\S+ m?s · closest set at \\S+ m?s$`));
    expect(lines).toContain(`final closest set (${done.closest.length}), nearest first:`);
    expect(lines.at(-done.closest.length)).toMatch(new RegExp(`^\\s+1\\. ${done.closest[0].id}  127\\.0\\.0\\.1:\\d+$`));

    // --json prints the parsed trace; --width changes the bar.
    const json = await cli('trace', 'show', file, '--json');
    expect(JSON.parse(json.out[0])).toEqual(trace);
    const narrow = await cli('trace', 'show', file, '--width', '12');
    expect(narrow.out[header + 1]).toMatch(/│.{12}│/u);
  });

  it('bad files exit 2 with a message that names the problem', async () => {
    const corrupt = join(dir, 'corrupt.kadtrace.json');
    const good = join(dir, 'good.kadtrace.json');
    expect((await cli('lookup', TARGET, '--bootstrap', tn.bootstrap.join(','), '--trace', good)).code).toBe(0);
    const t = JSON.parse(await readFile(good, 'utf8')) as { events: Array<{ peer?: { port: unknown } }>; version: number };
    t.events[1].peer!.port = 'x';
    await writeFile(corrupt, JSON.stringify(t));
    expect(await cli('trace', 'show', corrupt)).toEqual({ code: 2, out: [], err: [`kadscope: ${corrupt}: invalid trace: events.1.peer.port: event 2 (a "query" event), field peer › port: should be a number, but it is the text "x"`] });

    const newer = join(dir, 'newer.kadtrace.json');
    await writeFile(newer, JSON.stringify({ ...t, version: 4 }));
    expect((await cli('trace', 'show', newer)).err).toEqual([`kadscope: ${newer}: this trace was written by a newer kadscope (format version 4); this one reads version 3`]);

    const foreign = join(dir, 'package.json');
    await writeFile(foreign, '{"name":"x"}');
    expect(await cli('trace', 'show', foreign)).toMatchObject({ code: 2, err: [`kadscope: ${foreign}: not a trace file: format is undefined, expected "kadtrace"`] });
    expect(await cli('trace', 'show', join(dir, 'missing.json'))).toMatchObject({ code: 2, err: [expect.stringMatching(/^kadscope: cannot read .*missing\.json: ENOENT/)] });
    expect(await cli('trace', 'list')).toMatchObject({ code: 2, err: ['kadscope: unknown trace subcommand "list"; try: trace show <file>'] });
    expect(await cli('trace', 'show', good, '--width', '3')).toMatchObject({ code: 2, err: ['kadscope: --width must be 10-200; got 3'] });
    expect(await cli('lookup', TARGET, '--bootstrap', tn.bootstrap[0], '--trace', '')).toMatchObject({ code: 2, err: ['kadscope: --trace needs a file name'] });
  });
});
