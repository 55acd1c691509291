import type { Catalog } from '../catalog/catalog.js';
import type { Logger } from '../logger.js';
import type { ObjectStore } from '../storage/store.js';
import { type CleanupReport, runCleanup } from './run-cleanup.js';

export interface CleanupJobOptions {
  intervalMinutes: number;
  ttlHours: number;
  logger: Logger;
  catalog?: Catalog;
  /** EVENT_RETENTION_DAYS; default 30. */
  eventRetentionDays?: number;
}

export interface CleanupJob {
  /** Stops the timer and waits for a run in progress to notice. */
  stop(): Promise<void>;
}

/**
 * Runs the cleanup (abandoned uploads, crash leftovers, events past their retention) every
 * `intervalMinutes`, the first run one interval after start (not at boot, when a fleet restarting
 * together would all list the bucket at once; the local store sweeps its leftovers at start by
 * itself). Runs never overlap, a
 * failed run is logged and retried on the next tick, and the timer never keeps the process alive.
 */
export function startCleanupJob(store: ObjectStore, options: CleanupJobOptions): CleanupJob {
  const controller = new AbortController();
  let running: Promise<void> | undefined;
  const runOnce = async () => {
    try {
      const report = await runCleanup(store, {
        ttlHours: options.ttlHours,
        logger: options.logger,
        signal: controller.signal,
        catalog: options.catalog,
        eventRetentionDays: options.eventRetentionDays,
      });
      if (worthLogging(report)) options.logger.info({ ...report }, 'abandoned upload cleanup finished');
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

/** A run that found nothing to do is not logged: at short intervals it would drown the log. */
function worthLogging(report: CleanupReport): boolean {
  const swept = (report.orphans?.removed ?? 0) > 0 || report.orphanSweepFailed === true;
  const pruned = (report.events?.events ?? 0) + (report.events?.deliveries ?? 0) > 0 || report.eventRetentionFailed === true;
  return report.stale > 0 || report.failed > 0 || report.expiredRecords > 0 || swept || pruned;
}
