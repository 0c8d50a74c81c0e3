import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readJsonFile, writeFileAtomic, zodValidator } from '../../core/persist/atomic';
import { withTempDir } from '../temp-dir';

const NOW = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
const schema = z.object({ version: z.literal(1), items: z.array(z.number()) });

describe('writeFileAtomic', () => {
  let dir: string;
  withTempDir('kadscope-atomic-', (d) => (dir = d));

  it('writes and replaces a file, owner-only, leaving no temporary file', async () => {
    const p = join(dir, 'state.json');
    await writeFileAtomic(p, 'one');
    await writeFileAtomic(p, new TextEncoder().encode('two'));
    expect(await readFile(p, 'utf8')).toBe('two');
    expect((await stat(p)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['state.json']);
    await writeFileAtomic(join(dir, 'open.json'), 'x', { mode: 0o644 });
    expect((await stat(join(dir, 'open.json'))).mode & 0o777).toBe(0o644);
  });

  it('fails cleanly when the directory is missing', async () => {
    await expect(writeFileAtomic(join(dir, 'nope', 'state.json'), 'x')).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('readJsonFile', () => {
  let dir: string;
  withTempDir('kadscope-readjson-', (d) => (dir = d));
  const read = (p: string) => readJsonFile(p, zodValidator(schema), { now: () => NOW });

  it('returns the validated value, or missing for no file', async () => {
    const p = join(dir, 'a.json');
    await writeFile(p, JSON.stringify({ version: 1, items: [1, 2] }));
    expect(await read(p)).toEqual({ ok: true, value: { version: 1, items: [1, 2] } });
    expect(await read(join(dir, 'none.json'))).toMatchObject({ ok: false, missing: true });
  });

  it('moves a truncated file aside (never deletes it) with one clear line', async () => {
    const p = join(dir, 'a.json');
    const text = '{"version":1,"items":[1,2';
    await writeFile(p, text);
    const r = await read(p);
    expect(r.ok).toBe(false);
    if (r.ok || r.missing) throw new Error('expected corrupt');
    expect(r.movedTo).toBe(`${p}.corrupt-2024-01-02T03-04-05-678Z`);
    expect(r.message.startsWith(`${p} is corrupt: not valid JSON (`)).toBe(true);
    expect(r.message.endsWith(`; moved it to ${r.movedTo} and starting without it`)).toBe(true);
    expect(r.message).not.toContain('\n');
    expect(await readFile(r.movedTo, 'utf8')).toBe(text);
    expect(await readdir(dir)).toEqual(['a.json.corrupt-2024-01-02T03-04-05-678Z']);
  });

  it('names the failing field of a file that parses but does not validate, and never overwrites an earlier corrupt copy', async () => {
    const p = join(dir, 'a.json');
    await writeFile(p, JSON.stringify({ version: 1, items: [1, 'two'] }));
    const r1 = await read(p);
    if (r1.ok || r1.missing) throw new Error('expected corrupt');
    expect(r1.message).toMatch(/^.*a\.json is corrupt: items\.1: .*number/);
    await writeFile(p, '');
    const r2 = await read(p);
    if (r2.ok || r2.missing) throw new Error('expected corrupt');
    expect(r2.message).toContain('the file is empty');
    expect(r2.movedTo).toBe(`${r1.movedTo}-1`);
    expect((await readdir(dir)).sort()).toEqual(['a.json.corrupt-2024-01-02T03-04-05-678Z', 'a.json.corrupt-2024-01-02T03-04-05-678Z-1']);
  });
});
