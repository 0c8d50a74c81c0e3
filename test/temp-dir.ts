// A temporary directory for a describe block: made before each test (or once, before all of them)
// and removed after, so a failing test leaves nothing behind.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

/** Registers the hooks; `set` receives each new directory's path. */
export function withTempDir(prefix: string, set: (dir: string) => void, per: 'test' | 'block' = 'test'): void {
  let dir = '';
  (per === 'test' ? beforeEach : beforeAll)(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    set(dir);
  });
  (per === 'test' ? afterEach : afterAll)(async () => {
    await rm(dir, { recursive: true, force: true });
  });
}
