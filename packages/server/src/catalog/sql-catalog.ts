import { and, asc, desc, eq, gt, ilike, lt, or, type SQL, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { AppError } from '../errors.js';
import type {
  AssetPage,
  AssetRecord,
  Catalog,
  ListAssetsOptions,
  MigrationReport,
  NewUpload,
  QuotaRules,
  UploadPage,
  UploadRecord,
  WorkspaceUsage,
} from './catalog.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { createEventConsumers } from './event-consumers.js';
import { createEventLog } from './event-log.js';
import { createEventRetention } from './event-retention.js';
import { assets, uploads, workspaces } from './schema.js';
import {
  completeUploadRecord,
  type EventRecordingMode,
  endUpload,
  ensureWorkspace,
  growReservation,
  insertAsset,
  insertUploadWithinQuota,
  removeAsset,
} from './statements.js';
import { translateUnavailable } from './unavailable.js';
import { createWebhookDeliveries } from './webhook-deliveries.js';
import { createWebhookEndpoints } from './webhook-endpoints.js';

export type SqlDatabase = PgDatabase<PgQueryResultHKT>;
type Transaction = Parameters<Parameters<SqlDatabase['transaction']>[0]>[0];
type Queryable = SqlDatabase | Transaction;

/** The sort key of the by-name order: case-folded, byte order, so both engines agree whatever their locale. */
const sortName = sql<string>`(lower(coalesce(${assets.fileName}, ${assets.assetId})) collate "C")`;

/**
 * The catalogue in SQL, through Drizzle, the same on PGlite and on a PostgreSQL server: only the
 * way the database is opened differs (pglite.ts, postgres.ts).
 */
export function createSqlCatalog(
  db: SqlDatabase,
  options: {
    kind: string;
    migrations: MigrationReport;
    close: () => Promise<void>;
    /** Refresh the planner's statistics of `assets` after this many rows were added or removed (engines without autovacuum). */
    analyzeEvery?: number;
    /** `off` records no events: only the bench's baseline of what events cost. */
    events?: EventRecordingMode;
  },
): Catalog {
  const run = translateUnavailable;
  const eventMode = options.events ?? 'record';
  const events = createEventLog(db);

  /** The QUOTA_EXCEEDED a refused call answers, with what the workspace holds now. */
  const overQuota = async (workspaceId: string, bytes: number, rules: QuotaRules): Promise<AppError> => {
    const [row] = await db.select().from(workspaces).where(eq(workspaces.id, workspaceId));
    const quota = row?.quotaBytes ?? rules.defaultQuotaBytes ?? 0;
    const used = (row?.storedBytes ?? 0) + (row?.reservedBytes ?? 0);
    return new AppError(
      'QUOTA_EXCEEDED',
      `workspace ${workspaceId} would hold ${used + bytes} bytes, over its quota of ${quota} (${Math.max(0, quota - used)} bytes left)`,
    );
  };

  /** What a complete that lost the race with an abort answers. */
  const uploadEnded = (upload: UploadRecord) =>
    new AppError('INVALID_UPLOAD_ID', `upload ${upload.uploadId} of asset ${upload.assetId} was aborted before it could be completed`);

  /** Counts asset rows added or removed; PGlite has no autovacuum, so its statistics are refreshed here. */
  let changesSinceAnalyze = 0;
  const noteAssetChange = () => {
    if (!options.analyzeEvery || ++changesSinceAnalyze < options.analyzeEvery) return;
    changesSinceAnalyze = 0;
    // Every asset change is an event and its deliveries: the dispatcher's claim needs their statistics as much.
    void db.execute(sql`analyze assets, asset_events, webhook_deliveries`).catch(() => {});
  };

  const findUpload = async (tx: Queryable, workspaceId: string, uploadId: string): Promise<UploadRecord | null> => {
    const [row] = await tx
      .select()
      .from(uploads)
      .where(and(eq(uploads.workspaceId, workspaceId), eq(uploads.uploadId, uploadId)));
    return row ?? null;
  };

  return {
    kind: options.kind,
    migrations: options.migrations,

    beginUpload: (upload: NewUpload, rules: QuotaRules) =>
      run(async (): Promise<UploadRecord> => {
        const reservedBytes = upload.declaredSize ?? 0;
        let inserted = await insertUploadWithinQuota(db, upload, reservedBytes, rules.defaultQuotaBytes);
        // Refused, or the workspace has no row yet (its first upload, perhaps several at once):
        // the row is made (or found made), and the quota judged once more.
        if (!inserted) {
          await ensureWorkspace(db, upload.workspaceId);
          inserted = await insertUploadWithinQuota(db, upload, reservedBytes, rules.defaultQuotaBytes);
        }
        if (!inserted) throw await overQuota(upload.workspaceId, reservedBytes, rules);
        return {
          ...upload,
          checksumAlgorithm: upload.checksumAlgorithm ?? null,
          reservedBytes,
          finishedAt: null,
          state: 'open',
          etag: null,
        };
      }),

    assertRoomFor: (workspaceId, bytes, rules) =>
      run(async () => {
        const [row] = await db.select().from(workspaces).where(eq(workspaces.id, workspaceId));
        const quota = row?.quotaBytes ?? rules.defaultQuotaBytes;
        if (quota === undefined || quota === null) return;
        if ((row?.storedBytes ?? 0) + (row?.reservedBytes ?? 0) + bytes > quota) throw await overQuota(workspaceId, bytes, rules);
      }),

    findUpload: (workspaceId, uploadId) => run(() => findUpload(db, workspaceId, uploadId)),

    reserve: (workspaceId, uploadId, bytes, rules) =>
      run(async () => {
        let outcome = await growReservation(db, workspaceId, uploadId, bytes, rules.defaultQuotaBytes);
        // An upload imported without a reservation may belong to a workspace that has no row yet.
        if (outcome === 'over-quota') {
          await ensureWorkspace(db, workspaceId);
          outcome = await growReservation(db, workspaceId, uploadId, bytes, rules.defaultQuotaBytes);
        }
        if (outcome === 'over-quota') throw await overQuota(workspaceId, bytes, rules);
        return outcome !== 'not-open';
      }),

    recordCompleted: (upload, completed) =>
      run(async () => {
        const asset: AssetRecord = {
          workspaceId: upload.workspaceId,
          assetId: upload.assetId,
          key: upload.key,
          fileName: upload.fileName,
          fileType: upload.fileType,
          createdBy: upload.startedBy,
          ...completed,
        };
        const recorded = await completeUploadRecord(db, upload, asset, eventMode);
        if (recorded.refused) throw uploadEnded(upload);
        events.noteWritten(recorded);
        if (recorded.changed) {
          noteAssetChange();
          return asset;
        }
        const [existing] = await db.select().from(assets).where(eq(assets.key, upload.key));
        return existing ?? asset;
      }),

    importUpload: (upload) =>
      run(async () => {
        const added = await db
          .insert(uploads)
          .values({ ...upload, reservedBytes: 0, state: 'open' })
          .onConflictDoNothing()
          .returning({ uploadId: uploads.uploadId });
        return added.length > 0;
      }),

    finishUpload: (workspaceId, uploadId, state, actor = null) =>
      run(async () => {
        const ended = await endUpload(db, workspaceId, uploadId, state, new Date(), actor, eventMode);
        events.noteWritten(ended);
        return ended.changed;
      }),

    listOpenUploads: (workspaceId, { cursor, limit }) =>
      run(async (): Promise<UploadPage> => {
        const after = cursor === undefined ? undefined : decodeCursor(cursor, ['number', 'string'] as const);
        const rows = await db
          .select()
          .from(uploads)
          .where(
            and(
              eq(uploads.workspaceId, workspaceId),
              eq(uploads.state, 'open'),
              after &&
                or(
                  lt(uploads.startedAt, new Date(after[0])),
                  and(eq(uploads.startedAt, new Date(after[0])), lt(uploads.uploadId, after[1])),
                ),
            ),
          )
          .orderBy(desc(uploads.startedAt), desc(uploads.uploadId))
          .limit(limit + 1);
        const page = rows.slice(0, limit);
        const last = page.at(-1);
        return {
          uploads: page,
          nextCursor: rows.length > limit && last ? encodeCursor([last.startedAt.getTime(), last.uploadId]) : undefined,
        };
      }),

    listStaleUploads: (startedBefore, limit) =>
      run(() =>
        db
          .select()
          .from(uploads)
          .where(and(eq(uploads.state, 'open'), lt(uploads.startedAt, startedBefore)))
          .orderBy(asc(uploads.startedAt))
          .limit(limit),
      ),

    findAsset: (workspaceId, key) =>
      run(async () => {
        const [row] = await db
          .select()
          .from(assets)
          .where(and(eq(assets.workspaceId, workspaceId), eq(assets.key, key)));
        return row ?? null;
      }),

    listAssets: (workspaceId, options) => run(() => listAssets(db, workspaceId, options)),

    importAsset: (asset) =>
      run(async () => {
        const added = await insertAsset(db, asset);
        if (added) noteAssetChange();
        return added;
      }),

    deleteAsset: (workspaceId, key, actor = null) =>
      run(async () => {
        const removed = await removeAsset(db, workspaceId, key, actor, new Date(), eventMode);
        events.noteWritten(removed);
        if (removed.changed) noteAssetChange();
        return removed.changed;
      }),

    scanAssets: ({ afterKey, limit }) =>
      run(() =>
        db
          .select()
          .from(assets)
          .where(afterKey === undefined ? undefined : gt(assets.key, afterKey))
          .orderBy(asc(assets.key))
          .limit(limit),
      ),

    usage: (workspaceId, rules) =>
      run(async (): Promise<WorkspaceUsage> => {
        const [row] = await db.select().from(workspaces).where(eq(workspaces.id, workspaceId));
        const [open] = await db
          .select({ count: sql<string>`count(*)`, reserved: sql<string>`coalesce(sum(${uploads.reservedBytes}), 0)` })
          .from(uploads)
          .where(and(eq(uploads.workspaceId, workspaceId), eq(uploads.state, 'open')));
        const override = row?.quotaBytes ?? null;
        return {
          storedBytes: row?.storedBytes ?? 0,
          assets: row?.assetCount ?? 0,
          openUploads: Number(open?.count ?? 0),
          // The counter quota checks read; the open uploads' own reservations add up to it.
          reservedBytes: row?.reservedBytes ?? Number(open?.reserved ?? 0),
          quotaBytes: override ?? rules.defaultQuotaBytes ?? null,
          quotaOverridden: override !== null,
        };
      }),

    setQuota: (workspaceId, quotaBytes) =>
      run(async () => {
        await db
          .insert(workspaces)
          .values({ id: workspaceId, quotaBytes })
          .onConflictDoUpdate({ target: workspaces.id, set: { quotaBytes } });
      }),

    events: events.log,
    webhooks: createWebhookEndpoints(db),
    deliveries: createWebhookDeliveries(db, events.noteWritten),
    consumers: createEventConsumers(db),
    retention: createEventRetention(db),

    refreshStatistics: () =>
      run(async () => {
        await db.execute(sql`analyze assets, uploads, workspaces`);
      }),

    checkReady: () =>
      run(async () => {
        await db.execute(sql`select 1`);
      }),

    close: options.close,
  };
}

/** One query a page, on the index of the order asked for; the cursor carries the last row's sort values. */
/**
 * The query of one page, not yet run: the listing awaits it, and a test reads its plan (the page
 * must be an index scan of the order asked for, whatever the workspace's size).
 */
export function assetPageQuery(db: SqlDatabase, workspaceId: string, options: ListAssetsOptions) {
  const filters: Array<SQL | undefined> = [eq(assets.workspaceId, workspaceId)];
  if (options.nameContains)
    filters.push(ilike(sql`coalesce(${assets.fileName}, ${assets.assetId})`, `%${escapeLike(options.nameContains)}%`));
  if (options.order === 'newest') {
    if (options.cursor !== undefined) {
      const [time, key] = decodeCursor(options.cursor, ['number', 'string'] as const);
      // A row comparison, which the index (workspace_id, created_at DESC, key DESC) answers as a range.
      filters.push(sql`(${assets.createdAt}, ${assets.key}) < (${new Date(time)}, ${key})`);
    }
    const query = db
      .select()
      .from(assets)
      .where(and(...filters))
      .orderBy(desc(assets.createdAt), desc(assets.key))
      .limit(options.limit + 1);
    return { order: 'newest' as const, query };
  }
  if (options.cursor !== undefined) {
    const [name, key] = decodeCursor(options.cursor, ['string', 'string'] as const);
    filters.push(sql`(${sortName}, ${assets.key}) > (${name}, ${key})`);
  }
  const query = db
    .select({ asset: assets, name: sortName })
    .from(assets)
    .where(and(...filters))
    .orderBy(asc(sortName), asc(assets.key))
    .limit(options.limit + 1);
  return { order: 'name' as const, query };
}

async function listAssets(db: SqlDatabase, workspaceId: string, options: ListAssetsOptions): Promise<AssetPage> {
  const planned = assetPageQuery(db, workspaceId, options);
  if (planned.order === 'newest') {
    const rows = await planned.query;
    return page(rows, options.limit, (last) => [last.createdAt.getTime(), last.key]);
  }
  const rows = await planned.query;
  const result = page(rows, options.limit, (last) => [last.name, last.asset.key]);
  return { assets: result.assets.map((row) => row.asset), nextCursor: result.nextCursor };
}

function page<T>(rows: T[], limit: number, cursorOf: (last: T) => Array<string | number>): { assets: T[]; nextCursor?: string } {
  const kept = rows.slice(0, limit);
  const last = kept.at(-1);
  return { assets: kept, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : undefined };
}

/** `%`, `_` and `\` in a name filter are literal characters, not patterns. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}
