import pLimit from 'p-limit';
import { isAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { fileName as fileNameSchema } from '../schemas.js';
import { parseServiceKey } from '../storage/keys.js';
import type { ObjectInfo, ObjectStore, ObjectSummary, PendingUpload } from '../storage/store.js';
import type { AssetRecord, Catalog } from './catalog.js';

export interface CatalogSyncOptions {
  logger: Logger;
  /** Delete the rows whose object is gone (each checked twice); without it they are only reported. */
  removeMissing?: boolean;
  /** Walk the store's objects after this key: the `lastKey` of a run that stopped. */
  fromKey?: string;
  /** A progress line every this many objects (and rows); default 1000. */
  progressEvery?: number;
  /** Store and catalogue calls in flight at once; default 8. */
  concurrency?: number;
  /**
   * Uploads started less than this long ago are left for the next run; default 10 minutes.
   * upload.start writes its row just after the store's upload starts, and a row imported in
   * between would take its id and fail that start.
   */
  uploadGraceMs?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /** Stops after the batch in progress (SIGINT); the report's `lastKey` says where to resume. */
  signal?: AbortSignal;
}

export interface CatalogSyncReport {
  objects: {
    /** Objects the walk listed. */
    seen: number;
    /** Rows created for objects the catalogue did not know. */
    imported: number;
    known: number;
    /** Keys outside `{workspaceId}/digital_assets/{assetId}`: another program's objects, left alone. */
    foreign: number;
    /** Deleted between the listing and the look at it. */
    vanished: number;
    failed: number;
  };
  uploads: { seen: number; imported: number; known: number; recent: number; foreign: number; failed: number };
  rows: {
    checked: number;
    /** Rows whose object is not in the store. */
    missing: number;
    removed: number;
    /** Missing at the first look, there again at the second: kept. */
    reappeared: number;
    failed: number;
  };
  /** The last key of the object walk whose objects were all handled: `fromKey` of a resumed run. */
  lastKey: string | null;
  /** The signal stopped the run before its end. */
  interrupted: boolean;
}

const DEFAULT_PROGRESS_EVERY = 1000;
const DEFAULT_CONCURRENCY = 8;
const DEFAULT_UPLOAD_GRACE_MS = 10 * 60_000;
/** Objects handled between two checkpoints (`lastKey`), and asset rows read a page at a time. */
const BATCH = 100;
/** The latest date a JS Date holds: every pending upload was initiated before it. */
const END_OF_TIME = new Date(8.64e15);

/**
 * The user metadata names under which other software (the original Express service's multer
 * uploads among them) kept an object's file name, in the order they are trusted.
 */
const FILE_NAME_METADATA = ['filename', 'file-name', 'originalname', 'original-name', 'original-filename'];

/**
 * Reconciles the catalogue with the store, which stays the truth for bytes. Three passes:
 *   1. every object of the store without a row gets one, from what the store says of it (size,
 *      type, ETag, date, a file name from its metadata); existing rows are never changed;
 *   2. every open multipart upload the catalogue does not know is recorded as open, so that
 *      upload.listOpen offers it for resuming;
 *   3. every asset row whose object is gone is reported, or with `removeMissing` deleted once a
 *      second look confirms the object is still absent.
 * Keys outside the service's layout are counted and left alone. Running it again changes nothing,
 * and it is safe beside the API: the catalogue's own writes win every race (see each pass).
 */
export async function syncCatalog(store: ObjectStore, catalog: Catalog, options: CatalogSyncOptions): Promise<CatalogSyncReport> {
  const report: CatalogSyncReport = {
    objects: { seen: 0, imported: 0, known: 0, foreign: 0, vanished: 0, failed: 0 },
    uploads: { seen: 0, imported: 0, known: 0, recent: 0, foreign: 0, failed: 0 },
    rows: { checked: 0, missing: 0, removed: 0, reappeared: 0, failed: 0 },
    lastKey: options.fromKey ?? null,
    interrupted: false,
  };
  const run: SyncRun = {
    store,
    catalog,
    options,
    report,
    limit: pLimit(options.concurrency ?? DEFAULT_CONCURRENCY),
    progressEvery: Math.max(1, options.progressEvery ?? DEFAULT_PROGRESS_EVERY),
  };
  options.logger.info(
    { store: store.kind, catalog: catalog.kind, fromKey: options.fromKey, removeMissing: options.removeMissing === true },
    'catalogue sync started',
  );
  const passes = [
    ['objects', syncObjects],
    ['uploads', syncUploads],
    ['rows', checkRows],
  ] as const;
  for (const [name, pass] of passes) {
    try {
      await pass(run);
    } catch (error) {
      // The walk is done up to lastKey: a rerun with it as fromKey does not start over.
      options.logger.error({ err: error, ...report }, `catalogue sync failed in its ${name} pass`);
      throw error;
    }
    if (options.signal?.aborted) {
      report.interrupted = true;
      break;
    }
  }
  // Thousands of new rows would otherwise be listed without their indexes until autovacuum (PostgreSQL) or the next refresh (PGlite).
  if (report.objects.imported + report.uploads.imported > 0) await catalog.refreshStatistics();
  return report;
}

interface SyncRun {
  store: ObjectStore;
  catalog: Catalog;
  options: CatalogSyncOptions;
  report: CatalogSyncReport;
  limit: ReturnType<typeof pLimit>;
  progressEvery: number;
}

/** Pass 1. An object whose row appears meanwhile (a complete, a listing that imported it) keeps that row. */
async function syncObjects(run: SyncRun): Promise<void> {
  const { report, options } = run;
  const batchSize = Math.min(BATCH, run.progressEvery);
  let batch: ObjectSummary[] = [];
  const finishBatch = async () => {
    const before = report.objects.seen;
    await Promise.all(batch.map((object) => run.limit(() => guarded(run, 'objects', object.key, () => syncObject(run, object)))));
    report.objects.seen += batch.length;
    report.lastKey = batch.at(-1)?.key ?? report.lastKey;
    batch = [];
    if (crossed(before, report.objects.seen, run.progressEvery)) {
      options.logger.info(
        { pass: 'objects', ...report.objects, lastKey: report.lastKey },
        `catalogue sync: ${report.objects.seen} objects`,
      );
    }
  };
  for await (const object of run.store.walkObjects({ afterKey: options.fromKey })) {
    batch.push(object);
    if (batch.length < batchSize) continue;
    await finishBatch();
    if (options.signal?.aborted) return;
  }
  await finishBatch();
}

async function syncObject(run: SyncRun, object: ObjectSummary): Promise<void> {
  const counts = run.report.objects;
  const owner = parseServiceKey(object.key);
  if (!owner) {
    counts.foreign += 1;
    run.options.logger.debug({ key: object.key }, 'not a key of this service: skipped');
    return;
  }
  if (await run.catalog.findAsset(owner.workspaceId, object.key)) {
    counts.known += 1;
    return;
  }
  // The listing has no content type or metadata (S3), and the object may have changed since it was listed.
  const info = await run.store.headObject(object.key);
  if (!info) {
    counts.vanished += 1;
    return;
  }
  const added = await run.catalog.importAsset(assetOf(owner, info));
  if (added) {
    counts.imported += 1;
    run.options.logger.debug({ key: object.key, size: info.size }, 'catalogue row created');
  } else counts.known += 1;
}

function assetOf(owner: { workspaceId: string; assetId: string }, info: ObjectInfo): AssetRecord {
  return {
    ...owner,
    key: info.key,
    fileName: fileNameFromMetadata(info.metadata),
    fileType: info.contentType || 'application/octet-stream',
    size: info.size,
    etag: info.etag,
    checksum: null,
    createdAt: info.lastModified,
    createdBy: null,
  };
}

/**
 * Pass 2. Uploads younger than the grace period are left alone: upload.start creates the store's
 * upload and then its row, and an imported row in between would make that start fail.
 */
async function syncUploads(run: SyncRun): Promise<void> {
  const { report, options } = run;
  const now = options.now ?? Date.now;
  const startedBefore = new Date(now() - (options.uploadGraceMs ?? DEFAULT_UPLOAD_GRACE_MS));
  const pending: Promise<void>[] = [];
  for await (const upload of run.store.listPendingUploads({ initiatedBefore: END_OF_TIME })) {
    if (options.signal?.aborted) break;
    pending.push(run.limit(() => guarded(run, 'uploads', upload.key, () => syncUpload(run, upload, startedBefore))));
    // Keeps memory flat on a bucket with very many uploads.
    if (pending.length >= BATCH) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  if (report.uploads.seen + report.uploads.foreign > 0)
    options.logger.info({ pass: 'uploads', ...report.uploads }, 'catalogue sync: open uploads');
}

async function syncUpload(run: SyncRun, upload: PendingUpload, startedBefore: Date): Promise<void> {
  const counts = run.report.uploads;
  const owner = parseServiceKey(upload.key);
  if (!owner) {
    counts.foreign += 1;
    return;
  }
  counts.seen += 1;
  if (upload.initiated >= startedBefore) {
    counts.recent += 1;
    return;
  }
  if (await run.catalog.findUpload(owner.workspaceId, upload.uploadId)) {
    counts.known += 1;
    return;
  }
  const added = await run.catalog.importUpload({
    ...owner,
    uploadId: upload.uploadId,
    key: upload.key,
    fileName: null,
    // S3 does not list an upload's type; the object gets the type the upload was started with all the same.
    // Empty: unknown (S3 does not list an upload's type); complete takes it from the object.
    fileType: upload.contentType ?? '',
    declaredSize: null,
    partSize: null,
    startedBy: null,
    startedAt: upload.initiated,
  });
  if (added) {
    counts.imported += 1;
    run.options.logger.debug({ key: upload.key, uploadId: upload.uploadId }, 'open upload recorded');
  } else counts.known += 1;
}

/**
 * Pass 3. A row is deleted only after a second look at the store, once the rest of its page was
 * checked: a row is written after its object exists (complete, import), so an object that is
 * absent twice was deleted, and deleting its row is what object.delete would have finished.
 */
async function checkRows(run: SyncRun): Promise<void> {
  const { report, options, catalog, store } = run;
  const counts = report.rows;
  let afterKey: string | undefined;
  for (;;) {
    const rows = await catalog.scanAssets({ afterKey, limit: BATCH });
    if (rows.length === 0) return;
    const before = counts.checked;
    const missing: AssetRecord[] = [];
    await Promise.all(
      rows.map((row) =>
        run.limit(() =>
          guarded(run, 'rows', row.key, async () => {
            if (await store.headObject(row.key)) return;
            counts.missing += 1;
            missing.push(row);
            options.logger.warn(
              { key: row.key, workspaceId: row.workspaceId, size: row.size },
              options.removeMissing
                ? 'catalogue row without object: removing it'
                : 'catalogue row without object (--remove-missing deletes it)',
            );
          }),
        ),
      ),
    );
    counts.checked += rows.length;
    if (options.removeMissing) {
      await Promise.all(missing.map((row) => run.limit(() => guarded(run, 'rows', row.key, () => removeRow(run, row)))));
    }
    if (crossed(before, counts.checked, run.progressEvery)) {
      options.logger.info({ pass: 'rows', ...counts, lastRow: rows.at(-1)!.key }, `catalogue sync: ${counts.checked} rows checked`);
    }
    afterKey = rows.at(-1)!.key;
    if (options.signal?.aborted) return;
  }
}

async function removeRow(run: SyncRun, row: AssetRecord): Promise<void> {
  if (await run.store.headObject(row.key)) {
    run.report.rows.reappeared += 1;
    return;
  }
  if (await run.catalog.deleteAsset(row.workspaceId, row.key)) run.report.rows.removed += 1;
}

/**
 * One item's failure (a damaged object, a refused HEAD) is counted and logged, and the run goes
 * on; a catalogue that cannot be reached stops it, since every further item would fail the same way.
 */
async function guarded(run: SyncRun, pass: 'objects' | 'uploads' | 'rows', key: string, task: () => Promise<void>): Promise<void> {
  try {
    await task();
  } catch (error) {
    if (isAppError(error) && error.appCode === 'CATALOG_UNAVAILABLE') throw error;
    run.report[pass].failed += 1;
    run.options.logger.warn({ pass, key, err: error }, 'catalogue sync could not handle this key');
  }
}

function crossed(before: number, after: number, every: number): boolean {
  return Math.floor(before / every) < Math.floor(after / every);
}

/** The first usable file name in the object's metadata, or null. */
export function fileNameFromMetadata(metadata: Record<string, string> | undefined): string | null {
  if (!metadata) return null;
  for (const name of FILE_NAME_METADATA) {
    const value = metadata[name];
    if (value === undefined) continue;
    const decoded = decodeMetadataValue(value.trim());
    // Browsers and some clients send a path (C:\fakepath\report.pdf); the name is its last segment.
    for (const candidate of [decoded, decoded.split(/[/\\]/).at(-1) ?? '']) {
      const parsed = fileNameSchema.safeParse(candidate.trim());
      if (parsed.success) return parsed.data;
    }
  }
  return null;
}

/**
 * Metadata travels in HTTP headers, so non-ASCII names were stored encoded: as an RFC 2047
 * encoded word (`=?UTF-8?B?...?=`, what S3 itself returns for such values) or percent-encoded.
 */
function decodeMetadataValue(value: string): string {
  const word = /^=\?utf-8\?([bq])\?(.*)\?=$/i.exec(value);
  if (word) {
    const [, encoding, text] = word as unknown as [string, string, string];
    if (encoding.toLowerCase() === 'b') return Buffer.from(text, 'base64').toString('utf8');
    const bytes = text.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_, hex: string) => `%${hex}`);
    return safeDecodeUri(bytes) ?? value;
  }
  return /%[0-9a-f]{2}/i.test(value) ? (safeDecodeUri(value) ?? value) : value;
}

function safeDecodeUri(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
