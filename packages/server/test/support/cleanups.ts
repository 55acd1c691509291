import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

export interface Cleanups {
  /** Runs `cleanup` after the current test, passed or failed; the last one registered runs first. */
  defer(cleanup: () => unknown): void;
  /** A new folder in the OS temp folder, removed after the current test. */
  tempDir(prefix: string): Promise<string>;
}

/** What the tests of a file (or of a describe block) started and must stop. */
export function useCleanups(): Cleanups {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const defer = (cleanup: () => unknown) => {
    cleanups.push(cleanup);
  };
  return {
    defer,
    tempDir: async (prefix) => {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      defer(() => rm(dir, { recursive: true, force: true }));
      return dir;
    },
  };
}
