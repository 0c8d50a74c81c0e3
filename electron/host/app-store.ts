// What the app keeps in its data directory besides the node's own state (identity, key pairs,
// records and peers, which core persists): the UI settings, in <dataDir>/settings.json. Written
// atomically (core/persist); a corrupt file is moved aside with one clear line and the defaults used.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile, writeFileAtomic, zodValidator } from '../../core/persist/atomic';
import { DEFAULT_SETTINGS, settingsSchema, type Settings } from './contract';

export const SETTINGS_FILE = 'settings.json';

export class AppStore {
  private readonly dataDir: string | null;
  private current: Settings = { ...DEFAULT_SETTINGS };

  /** dataDir null keeps the settings in memory (tests, throwaway sessions). */
  constructor(options: { dataDir: string | null }) {
    this.dataDir = options.dataDir;
  }

  /** Loads the settings; returns one line per problem found (a corrupt file moved aside). */
  async load(): Promise<string[]> {
    if (this.dataDir === null) return [];
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    const r = await readJsonFile(join(this.dataDir, SETTINGS_FILE), zodValidator(settingsSchema.partial()));
    if (r.ok) this.current = { ...DEFAULT_SETTINGS, ...r.value };
    else if (!r.missing) return [r.message];
    return [];
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
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
