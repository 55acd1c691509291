import type { Catalog } from '../catalog/catalog.js';
import type { RetentionReport } from '../catalog/event-retention.js';
import { DEFAULT_EVENT_SETTINGS } from '../config.js';
import type { ObjectStore, OrphanSweepReport } from '../storage/store.js';
import { type AbortStaleOptions, type AbortStaleReport, abortStaleUploads } from './abort-stale.js';

export interface CleanupOptions extends AbortStaleOptions {
  /** Events and finished webhook deliveries older than this many days are removed from the catalogue; default 30 (EVENT_RETENTION_DAYS). */
  eventRetentionDays?: number;
}

export interface CleanupReport extends AbortStaleReport {
  /** What the store's sweep of crash leftovers removed; absent for stores without one (S3) and in a dry run. */
  orphans?: OrphanSweepReport;
  /** The sweep failed (and was logged); the next run tries again. */
  orphanSweepFailed?: boolean;
  /** What the event retention removed; absent without a catalogue and in a dry run. */
  events?: RetentionReport;
  /** The event retention failed (and was logged); the next run tries again. */
  eventRetentionFailed?: boolean;
}

/**
 * One run of the cleanup: abandoned uploads are aborted, then what crashes left in the store is
 * swept (the local store's unreferenced blobs and stale temp files), then the catalogue forgets
 * events past their retention (after the expiries above recorded theirs). Neither is run in a dry
 * run, which promises to change nothing. A failed step does not undo the others: it is logged and
 * reported, like an abort that failed.
 */
export async function runCleanup(store: ObjectStore, options: CleanupOptions): Promise<CleanupReport> {
  const report: CleanupReport = await abortStaleUploads(store, options);
  if (options.dryRun || options.signal?.aborted) return report;
  if (store.sweepOrphans) await sweepOrphans(store.sweepOrphans.bind(store), report, options);
  if (options.catalog && !options.signal?.aborted) await pruneEvents(options.catalog, report, options);
  return report;
}

async function sweepOrphans(sweep: () => Promise<OrphanSweepReport>, report: CleanupReport, options: CleanupOptions): Promise<void> {
  try {
    report.orphans = await sweep();
    if (report.orphans.skipped) options.logger.warn({ ...report.orphans }, 'crash leftovers were only partly swept');
  } catch (error) {
    report.orphanSweepFailed = true;
    options.logger.warn({ err: error }, 'could not sweep crash leftovers');
  }
}

async function pruneEvents(catalog: Catalog, report: CleanupReport, options: CleanupOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const days = options.eventRetentionDays ?? DEFAULT_EVENT_SETTINGS.retentionDays;
  try {
    report.events = await catalog.retention.prune({ before: new Date(now() - days * 86_400_000), signal: options.signal });
  } catch (error) {
    report.eventRetentionFailed = true;
    options.logger.warn({ err: error }, 'could not remove events past their retention');
  }
}
