import type { Catalog } from '../catalog/catalog.js';
import type { Logger } from '../logger.js';
import type { ObjectStore } from '../storage/store.js';
import { abortStaleUploads } from './abort-stale.js';

export interface CleanupJobOptions {
  intervalMinutes: number;
  ttlHours: number;
  logger: Logger;
  catalog?: Catalog;
}

export interface CleanupJob {
  /** Stops the timer and waits for a run in progress to notice. */
  stop(): Promise<void>;
}

/**
 * Runs the abandoned-upload cleanup every `intervalMinutes`, the first run one interval after
 * start (not at boot, when a fleet restarting together would all list the bucket at once). Runs
 * never overlap, a failed run is logged and retried on the next tick, and the timer never keeps
 * the process alive.
 */
export function startCleanupJob(store: ObjectStore, options: CleanupJobOptions): CleanupJob {
  const controller = new AbortController();
  let running: Promise<void> | undefined;
  const runOnce = async () => {
    try {
      const report = await abortStaleUploads(store, {
        ttlHours: options.ttlHours,
        logger: options.logger,
        signal: controller.signal,
        catalog: options.catalog,
      });
      if (report.stale > 0 || report.failed > 0 || report.expiredRecords > 0)
        options.logger.info({ ...report }, 'abandoned upload cleanup finished');
    } catch (error) {
      options.logger.warn({ err: error }, 'abandoned upload cleanup failed; retrying at the next interval');
    }
  };
  const timer = setInterval(() => {
    running ??= runOnce().finally(() => {
      running = undefined;
    });
  }, options.intervalMinutes * 60_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      controller.abort();
      await running;
    },
  };
}
