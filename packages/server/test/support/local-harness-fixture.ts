import { afterAll, beforeAll } from 'vitest';
import { type LocalHarness, type LocalHarnessOptions, startLocalHarness } from './local-harness.js';

/**
 * A local-store harness for a test file (or describe block): started before its tests, closed
 * after them. The answer reads through to the running harness, so it can be held from the start.
 */
export function useLocalHarness(options: LocalHarnessOptions = {}): LocalHarness {
  let running: LocalHarness | undefined;
  beforeAll(async () => {
    running = await startLocalHarness(options);
  });
  afterAll(async () => running?.close());
  const live = (): LocalHarness => {
    if (!running) throw new Error('the local harness runs only inside the tests of the block that asked for it');
    return running;
  };
  return {
    get store() {
      return live().store;
    },
    get dir() {
      return live().dir;
    },
    get baseUrl() {
      return live().baseUrl;
    },
    close: () => live().close(),
  };
}
