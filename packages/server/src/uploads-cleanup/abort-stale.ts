import type { Catalog } from '../catalog/catalog.js';
import { isAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { parseServiceKey } from '../storage/keys.js';
import type { ObjectStore } from '../storage/store.js';

export interface AbortStaleOptions {
  /** Uploads started longer ago than this are abandoned. */
  ttlHours: number;
  logger: Logger;
  /** List what would be aborted, abort nothing. */
  dryRun?: boolean;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /** Stops between uploads (shutdown). */
  signal?: AbortSignal;
  /** Marks what was aborted as expired there, freeing its quota reservation. */
  catalog?: Catalog;
}

/** Catalogue rows of stale uploads are expired this many at a time. */
const STALE_ROWS_PAGE = 200;

export interface AbortStaleReport {
  /** Stale uploads of this service's key layout that were found. */
  stale: number;
  aborted: number;
  /** Finished or aborted by someone else meanwhile (another instance's cleanup, the uploader). */
  alreadyGone: number;
  failed: number;
  /** Stale uploads under keys this service never creates: not ours, left alone. */
  skippedForeign: number;
  /** Open uploads in the catalogue past the TTL, marked expired (their store upload aborted if it was still there). */
  expiredRecords: number;
}

/**
 * Aborts multipart uploads older than the TTL, which frees the storage their parts hold (S3
 * bills parts of unfinished uploads forever). Safe to run from several instances at once: an
 * upload aborted by one is "already gone" for the others. Only keys of the documented layout are
 * touched, so a bucket shared with other software keeps its uploads.
 */
export async function abortStaleUploads(store: ObjectStore, options: AbortStaleOptions): Promise<AbortStaleReport> {
  const now = options.now ?? Date.now;
  const initiatedBefore = new Date(now() - options.ttlHours * 3_600_000);
  const report: AbortStaleReport = { stale: 0, aborted: 0, alreadyGone: 0, failed: 0, skippedForeign: 0, expiredRecords: 0 };
  for await (const upload of store.listPendingUploads({ initiatedBefore })) {
    if (options.signal?.aborted) break;
    if (!isServiceKey(upload.key)) {
      report.skippedForeign += 1;
      continue;
    }
    report.stale += 1;
    const fields = { key: upload.key, uploadId: upload.uploadId, initiated: upload.initiated.toISOString() };
    if (options.dryRun) {
      options.logger.info(fields, 'would abort abandoned upload');
      continue;
    }
    const outcome = await abortInStore(store, upload.key, upload.uploadId);
    if (outcome === 'aborted') options.logger.info(fields, 'aborted abandoned upload');
    if (outcome instanceof Error) options.logger.warn({ ...fields, err: outcome }, 'could not abort abandoned upload');
    count(report, outcome);
  }
  if (options.catalog && !options.dryRun) await expireStaleRecords(store, options.catalog, initiatedBefore, report, options);
  return report;
}

type AbortOutcome = 'aborted' | 'alreadyGone' | Error;

async function abortInStore(store: ObjectStore, key: string, uploadId: string): Promise<AbortOutcome> {
  try {
    await store.abortMultipartUpload(key, uploadId);
    return 'aborted';
  } catch (error) {
    if (isAppError(error) && error.appCode === 'INVALID_UPLOAD_ID') return 'alreadyGone';
    return error instanceof Error ? error : new Error(String(error));
  }
}

function count(report: AbortStaleReport, outcome: AbortOutcome): void {
  if (outcome === 'aborted') report.aborted += 1;
  else if (outcome === 'alreadyGone') report.alreadyGone += 1;
  else report.failed += 1;
}

/**
 * The catalogue's open uploads past the TTL: those the walk above aborted, and those the store
 * dropped by itself (an S3 lifecycle rule). Each is aborted in the store if it is still there,
 * then marked expired; a failure leaves the row open for the next run.
 */
async function expireStaleRecords(
  store: ObjectStore,
  catalog: Catalog,
  startedBefore: Date,
  report: AbortStaleReport,
  options: AbortStaleOptions,
): Promise<void> {
  const failedOnce = new Set<string>();
  for (;;) {
    const rows = (await catalog.listStaleUploads(startedBefore, STALE_ROWS_PAGE + failedOnce.size)).filter(
      (row) => !failedOnce.has(row.uploadId),
    );
    if (rows.length === 0 || options.signal?.aborted) return;
    for (const row of rows) {
      const outcome = await abortInStore(store, row.key, row.uploadId);
      if (outcome instanceof Error) {
        failedOnce.add(row.uploadId);
        report.failed += 1;
        options.logger.warn({ key: row.key, uploadId: row.uploadId, err: outcome }, 'could not abort abandoned upload');
        continue;
      }
      if (outcome === 'aborted') report.aborted += 1;
      await catalog.finishUpload(row.workspaceId, row.uploadId, 'expired');
      report.expiredRecords += 1;
    }
  }
}

/** `{workspaceId}/digital_assets/{assetId}` with valid ids: a key this service may have created. */
function isServiceKey(key: string): boolean {
  return parseServiceKey(key) !== undefined;
}
