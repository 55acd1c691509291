import { isAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { workspaceId as workspaceIdSchema } from '../schemas.js';
import { parseAssetKey } from '../storage/keys.js';
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
}

export interface AbortStaleReport {
  /** Stale uploads of this service's key layout that were found. */
  stale: number;
  aborted: number;
  /** Finished or aborted by someone else meanwhile (another instance's cleanup, the uploader). */
  alreadyGone: number;
  failed: number;
  /** Stale uploads under keys this service never creates: not ours, left alone. */
  skippedForeign: number;
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
  const report: AbortStaleReport = { stale: 0, aborted: 0, alreadyGone: 0, failed: 0, skippedForeign: 0 };
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
    try {
      await store.abortMultipartUpload(upload.key, upload.uploadId);
      report.aborted += 1;
      options.logger.info(fields, 'aborted abandoned upload');
    } catch (error) {
      if (isAppError(error) && error.appCode === 'INVALID_UPLOAD_ID') {
        report.alreadyGone += 1;
      } else {
        report.failed += 1;
        options.logger.warn({ ...fields, err: error }, 'could not abort abandoned upload');
      }
    }
  }
  return report;
}

/** `{workspaceId}/digital_assets/{assetId}` with valid ids: a key this service may have created. */
function isServiceKey(key: string): boolean {
  const workspaceId = key.split('/', 1)[0] ?? '';
  if (!workspaceIdSchema.safeParse(workspaceId).success) return false;
  try {
    parseAssetKey(workspaceId, key);
    return true;
  } catch {
    return false;
  }
}
