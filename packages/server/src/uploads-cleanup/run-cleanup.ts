import type { ObjectStore, OrphanSweepReport } from '../storage/store.js';
import { type AbortStaleOptions, type AbortStaleReport, abortStaleUploads } from './abort-stale.js';

export interface CleanupReport extends AbortStaleReport {
  /** What the store's sweep of crash leftovers removed; absent for stores without one (S3) and in a dry run. */
  orphans?: OrphanSweepReport;
  /** The sweep failed (and was logged); the next run tries again. */
  orphanSweepFailed?: boolean;
}

/**
 * One run of the cleanup: abandoned uploads are aborted, then what crashes left in the store is
 * swept (the local store's unreferenced blobs and stale temp files). The sweep is not run in a dry
 * run, which promises to change nothing. A failed sweep does not undo the aborts: it is logged and
 * reported, like an abort that failed.
 */
export async function runCleanup(store: ObjectStore, options: AbortStaleOptions): Promise<CleanupReport> {
  const report: CleanupReport = await abortStaleUploads(store, options);
  if (options.dryRun || !store.sweepOrphans || options.signal?.aborted) return report;
  try {
    report.orphans = await store.sweepOrphans();
    if (report.orphans.skipped) options.logger.warn({ ...report.orphans }, 'crash leftovers were only partly swept');
  } catch (error) {
    report.orphanSweepFailed = true;
    options.logger.warn({ err: error }, 'could not sweep crash leftovers');
  }
  return report;
}
