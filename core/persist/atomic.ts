// Crash-safe file primitives for the data directory. A state file is always either the old complete
// version or the new complete version, never a mix (temporary file, fsync, rename, fsync the
// directory). A file that fails to parse is moved aside, never deleted, so a person can inspect it.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { z } from 'zod';

/** Owner read/write only: state files hold secret keys and what peers stored with us. */
export const STATE_FILE_MODE = 0o600;

export interface WriteFileAtomicOptions {
  /** Permission bits of the new file (default STATE_FILE_MODE). */
  mode?: number;
}

/**
 * Replaces `path` with `data` atomically: writes a temporary file in the same directory (so the
 * rename never crosses file systems), fsyncs it, renames it over `path`, then fsyncs the directory
 * so the rename itself survives a power cut. On failure the temporary file is removed and the old
 * file is untouched.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteFileAtomicOptions = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fh = await open(tmp, 'wx', options.mode ?? STATE_FILE_MODE);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dir);
}

/** Makes directory entries (creations, renames) durable. Best effort where directories can't be fsynced. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    // Some platforms and file systems refuse fsync on a directory; the rename is still atomic there.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    await fh?.close();
  }
}

/** The outcome of checking parsed JSON: the typed value, or one line saying what is wrong. */
export type Validation<T> = { ok: true; value: T } | { ok: false; message: string };
export type Validator<T> = (raw: unknown) => Validation<T>;

export type ReadJsonResult<T> =
  | { ok: true; value: T }
  /** No such file: a fresh start, not a problem. */
  | { ok: false; missing: true; message: string }
  /** The file was unreadable as JSON or failed validation and has been moved to `movedTo`. */
  | { ok: false; missing: false; message: string; movedTo: string };

export interface ReadJsonOptions {
  /** Wall-clock ms for the `.corrupt-<timestamp>` suffix (tests inject it). */
  now?: () => number;
}

/**
 * Reads and validates a JSON file. A missing file is reported as `missing`. A file that is not
 * JSON or fails `validate` is renamed to `<name>.corrupt-<timestamp>` and the message names the
 * file, what was wrong and where it went. Other I/O errors (permissions, EIO) are thrown: those
 * are not corruption, and moving the file would hide them.
 */
export async function readJsonFile<T>(path: string, validate: Validator<T>, options: ReadJsonOptions = {}): Promise<ReadJsonResult<T>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, missing: true, message: `${path} does not exist` };
    throw e;
  }
  let problem: string;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
    const v = validate(raw);
    if (v.ok) return v;
    problem = v.message;
  } catch (e) {
    problem = text.trim() === '' ? 'the file is empty' : `not valid JSON (${(e as Error).message})`;
  }
  const movedTo = await moveAside(path, options.now?.() ?? Date.now());
  return { ok: false, missing: false, message: `${path} is corrupt: ${problem}; moved it to ${movedTo} and starting without it`, movedTo };
}

/** Renames `path` to `<path>.corrupt-<ISO time>` (with a counter if that exists) and returns the new path. */
export async function moveAside(path: string, nowMs: number): Promise<string> {
  const stamp = new Date(nowMs).toISOString().replace(/[:.]/g, '-');
  for (let i = 0; ; i++) {
    const target = `${path}.corrupt-${stamp}${i === 0 ? '' : `-${i}`}`;
    if (!(await exists(target))) {
      await rename(path, target);
      await fsyncDir(dirname(path));
      return target;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Turns a zod schema into a Validator whose message names the first offending field. */
export function zodValidator<S extends z.ZodType>(schema: S): Validator<z.infer<S>> {
  return (raw) => {
    const r = schema.safeParse(raw);
    if (r.success) return { ok: true, value: r.data };
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
    const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more problems)` : '';
    return { ok: false, message: `${where}: ${issue?.message ?? 'invalid'}${more}` };
  };
}
