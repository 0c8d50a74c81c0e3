// What the app keeps in its data directory besides the node's own state: settings and named key
// pairs for mutable records. Files are written atomically (core/persist); a corrupt settings file is
// moved aside with one clear line and the defaults are used.
//
//   <dataDir>/settings.json
//   <dataDir>/keys/<name>.json     core's key file format (keyPairToJson), mode 0600
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DhtError } from '../core/errors';
import { bytesToHex } from '../core/id';
import { readJsonFile, writeFileAtomic, zodValidator } from '../core/persist/atomic';
import { keyPairFromJson, saveKeyPair, type KeyPair } from '../core/records/signing';
import { DEFAULT_SETTINGS, settingsSchema, type KeyPairInfo, type Settings } from './contract';

export const SETTINGS_FILE = 'settings.json';
export const KEYS_DIR = 'keys';
export const MAX_KEY_PAIRS = 256;

interface StoredKeyPair {
  info: KeyPairInfo;
  keyPair: KeyPair;
}

export class AppStore {
  private readonly dataDir: string | null;
  private readonly now: () => number;
  private current: Settings = { ...DEFAULT_SETTINGS };
  private readonly keys = new Map<string, StoredKeyPair>();

  /** dataDir null keeps everything in memory (tests, throwaway sessions). */
  constructor(deps: { now: () => number }, options: { dataDir: string | null }) {
    this.now = deps.now;
    this.dataDir = options.dataDir;
  }

  /** Loads settings and key pairs; returns one line per problem found (files moved aside or skipped). */
  async load(): Promise<string[]> {
    if (this.dataDir === null) return [];
    const warnings: string[] = [];
    await mkdir(join(this.dataDir, KEYS_DIR), { recursive: true, mode: 0o700 });
    const r = await readJsonFile(join(this.dataDir, SETTINGS_FILE), zodValidator(settingsSchema.partial()));
    if (r.ok) this.current = { ...DEFAULT_SETTINGS, ...r.value };
    else if (!r.missing) warnings.push(r.message);
    const names = (await readdir(join(this.dataDir, KEYS_DIR))).filter((f) => f.endsWith('.json')).sort();
    for (const file of names.slice(0, MAX_KEY_PAIRS)) {
      const path = join(this.dataDir, KEYS_DIR, file);
      try {
        const parsed = keyPairFromJson(JSON.parse(await readFile(path, 'utf8')));
        if (!parsed.ok) {
          // A key file is the user's secret: never move or rewrite it, just say why it is skipped.
          warnings.push(`${path}: not a valid key pair (${parsed.message}); skipped`);
          continue;
        }
        const name = file.slice(0, -'.json'.length);
        const createdAt = (await stat(path)).mtimeMs;
        this.keys.set(name, { keyPair: parsed.value, info: { name, publicKey: bytesToHex(parsed.value.publicKey), createdAt } });
      } catch (e) {
        warnings.push(`${path}: ${(e as Error).message}; skipped`);
      }
    }
    return warnings;
  }

  settings(): Settings {
    return structuredClone(this.current);
  }

  /** Applies validated changes and persists them; returns the whole settings. */
  async updateSettings(changes: Partial<Settings>): Promise<Settings> {
    const next: Settings = { ...this.current, ...stripUndefined(changes) };
    if (this.dataDir !== null) {
      await writeFileAtomic(join(this.dataDir, SETTINGS_FILE), `${JSON.stringify(next, null, 2)}\n`);
    }
    this.current = next;
    return this.settings();
  }

  keyPairs(): KeyPairInfo[] {
    return [...this.keys.values()].map((k) => ({ ...k.info }));
  }

  keyPair(name: string): KeyPair {
    const k = this.keys.get(name);
    if (!k) {
      const known = [...this.keys.keys()];
      throw DhtError.notFound(`no saved key pair named "${name}"${known.length > 0 ? `; saved: ${known.slice(0, 10).join(', ')}` : '; generate one first'}`);
    }
    return k.keyPair;
  }

  /** A name not yet taken: key-1, key-2, ... */
  freshName(prefix = 'key'): string {
    for (let i = this.keys.size + 1; ; i++) {
      const name = `${prefix}-${i}`;
      if (!this.keys.has(name)) return name;
    }
  }

  /** Saves a key pair under a new name; refuses to overwrite one (a lost secret key cannot be recovered). */
  async addKeyPair(name: string, keyPair: KeyPair): Promise<KeyPairInfo> {
    if (this.keys.has(name)) throw DhtError.invalidArgument(`a key pair named "${name}" already exists`);
    if (this.keys.size >= MAX_KEY_PAIRS) throw DhtError.invalidArgument(`at most ${MAX_KEY_PAIRS} key pairs are kept; remove some from ${this.keysDir() ?? 'memory'}`);
    if (this.dataDir !== null) await saveKeyPair(join(this.dataDir, KEYS_DIR, `${name}.json`), keyPair);
    const info: KeyPairInfo = { name, publicKey: bytesToHex(keyPair.publicKey), createdAt: this.now() };
    this.keys.set(name, { info, keyPair });
    return { ...info };
  }

  private keysDir(): string | null {
    return this.dataDir === null ? null : join(this.dataDir, KEYS_DIR);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
