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
import { assets, uploads, workspaces } from './schema.js';
import { translateUnavailable } from './unavailable.js';

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
  options: { kind: string; migrations: MigrationReport; close: () => Promise<void> },
): Catalog {
  const run = translateUnavailable;

  /** Locks the workspace's row (made on first use) for the rest of the transaction. */
  const lockWorkspace = async (tx: Transaction, workspaceId: string) => {
    await tx.insert(workspaces).values({ id: workspaceId }).onConflictDoNothing();
    const [row] = await tx.select().from(workspaces).where(eq(workspaces.id, workspaceId)).for('update');
    return row!;
  };

  const reservedBy = async (tx: Queryable, workspaceId: string, exceptUploadId?: string): Promise<number> => {
    const open = and(eq(uploads.workspaceId, workspaceId), eq(uploads.state, 'open'));
    const where = exceptUploadId === undefined ? open : and(open, sql`${uploads.uploadId} <> ${exceptUploadId}`);
    const [row] = await tx
      .select({ total: sql<string>`coalesce(sum(${uploads.reservedBytes}), 0)` })
      .from(uploads)
      .where(where);
    return Number(row?.total ?? 0);
  };

  /** QUOTA_EXCEEDED unless `bytes` more fit beside what the workspace holds and the other open uploads reserve. */
  const assertFits = async (tx: Transaction, workspaceId: string, bytes: number, rules: QuotaRules, exceptUploadId?: string) => {
    const row = await lockWorkspace(tx, workspaceId);
    const quota = row.quotaBytes ?? rules.defaultQuotaBytes;
    if (quota === undefined || quota === null) return;
    const used = row.storedBytes + (await reservedBy(tx, workspaceId, exceptUploadId));
    if (used + bytes > quota) {
      throw new AppError(
        'QUOTA_EXCEEDED',
        `workspace ${workspaceId} would hold ${used + bytes} bytes, over its quota of ${quota} (${Math.max(0, quota - used)} bytes left)`,
      );
    }
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
      run(() =>
        db.transaction(async (tx) => {
          const reservedBytes = upload.declaredSize ?? 0;
          await assertFits(tx, upload.workspaceId, reservedBytes, rules);
          const [row] = await tx
            .insert(uploads)
            .values({ ...upload, reservedBytes, state: 'open' })
            .returning();
          return row!;
        }),
      ),

    assertRoomFor: (workspaceId, bytes, rules) => run(() => db.transaction((tx) => assertFits(tx, workspaceId, bytes, rules))),

    findUpload: (workspaceId, uploadId) => run(() => findUpload(db, workspaceId, uploadId)),

    reserve: (workspaceId, uploadId, bytes, rules) =>
      run(() =>
        db.transaction(async (tx) => {
          await lockWorkspace(tx, workspaceId);
          const upload = await findUpload(tx, workspaceId, uploadId);
          if (upload?.state !== 'open') return false;
          if (bytes <= upload.reservedBytes) return true;
          await assertFits(tx, workspaceId, bytes, rules, uploadId);
          await tx
            .update(uploads)
            .set({ reservedBytes: bytes })
            .where(and(eq(uploads.workspaceId, workspaceId), eq(uploads.uploadId, uploadId)));
          return true;
        }),
      ),

    recordCompleted: (upload, completed) =>
      run(() =>
        db.transaction(async (tx) => {
          await lockWorkspace(tx, upload.workspaceId);
          const asset: AssetRecord = {
            workspaceId: upload.workspaceId,
            assetId: upload.assetId,
            key: upload.key,
            fileName: upload.fileName,
            fileType: upload.fileType,
            createdBy: upload.startedBy,
            ...completed,
          };
          await tx
            .insert(uploads)
            .values({ ...upload, state: 'completed', reservedBytes: 0, etag: completed.etag, finishedAt: completed.createdAt })
            .onConflictDoUpdate({
              target: [uploads.workspaceId, uploads.uploadId],
              set: { state: 'completed', reservedBytes: 0, etag: completed.etag, finishedAt: completed.createdAt },
            });
          const added = await insertAsset(tx, asset);
          if (added) return asset;
          const [existing] = await tx.select().from(assets).where(eq(assets.key, upload.key));
          return existing ?? asset;
        }),
      ),

    importUpload: (upload) =>
      run(() =>
        db.transaction(async (tx) => {
          await lockWorkspace(tx, upload.workspaceId);
          const added = await tx
            .insert(uploads)
            .values({ ...upload, reservedBytes: 0, state: 'open' })
            .onConflictDoNothing()
            .returning({ uploadId: uploads.uploadId });
          return added.length > 0;
        }),
      ),

    finishUpload: (workspaceId, uploadId, state) =>
      run(async () => {
        await db
          .update(uploads)
          .set({ state, reservedBytes: 0, finishedAt: new Date() })
          .where(and(eq(uploads.workspaceId, workspaceId), eq(uploads.uploadId, uploadId), eq(uploads.state, 'open')));
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
      run(() =>
        db.transaction(async (tx) => {
          await lockWorkspace(tx, asset.workspaceId);
          return insertAsset(tx, asset);
        }),
      ),

    deleteAsset: (workspaceId, key) =>
      run(() =>
        db.transaction(async (tx) => {
          await lockWorkspace(tx, workspaceId);
          const [removed] = await tx
            .delete(assets)
            .where(and(eq(assets.workspaceId, workspaceId), eq(assets.key, key)))
            .returning({ size: assets.size });
          if (!removed) return false;
          await tx
            .update(workspaces)
            .set({ storedBytes: sql`${workspaces.storedBytes} - ${removed.size}`, assetCount: sql`${workspaces.assetCount} - 1` })
            .where(eq(workspaces.id, workspaceId));
          return true;
        }),
      ),

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
          reservedBytes: Number(open?.reserved ?? 0),
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

    checkReady: () =>
      run(async () => {
        await db.execute(sql`select 1`);
      }),

    close: options.close,
  };
}

/** Inserts the asset unless its key already has a row, keeping the workspace's counters in step. */
async function insertAsset(tx: Transaction, asset: AssetRecord): Promise<boolean> {
  const added = await tx.insert(assets).values(asset).onConflictDoNothing().returning({ key: assets.key });
  if (added.length === 0) return false;
  await tx
    .update(workspaces)
    .set({ storedBytes: sql`${workspaces.storedBytes} + ${asset.size}`, assetCount: sql`${workspaces.assetCount} + 1` })
    .where(eq(workspaces.id, asset.workspaceId));
  return true;
}

/** One query a page, on the index of the order asked for; the cursor carries the last row's sort values. */
async function listAssets(db: SqlDatabase, workspaceId: string, options: ListAssetsOptions): Promise<AssetPage> {
  const filters: Array<SQL | undefined> = [eq(assets.workspaceId, workspaceId)];
  if (options.nameContains)
    filters.push(ilike(sql`coalesce(${assets.fileName}, ${assets.assetId})`, `%${escapeLike(options.nameContains)}%`));
  if (options.order === 'newest') {
    if (options.cursor !== undefined) {
      const [time, key] = decodeCursor(options.cursor, ['number', 'string'] as const);
      filters.push(or(lt(assets.createdAt, new Date(time)), and(eq(assets.createdAt, new Date(time)), lt(assets.key, key))));
    }
    const rows = await db
      .select()
      .from(assets)
      .where(and(...filters))
      .orderBy(desc(assets.createdAt), desc(assets.key))
      .limit(options.limit + 1);
    return page(rows, options.limit, (last) => [last.createdAt.getTime(), last.key]);
  }
  if (options.cursor !== undefined) {
    const [name, key] = decodeCursor(options.cursor, ['string', 'string'] as const);
    filters.push(sql`(${sortName}, ${assets.key}) > (${name}, ${key})`);
  }
  const rows = await db
    .select({ asset: assets, name: sortName })
    .from(assets)
    .where(and(...filters))
    .orderBy(asc(sortName), asc(assets.key))
    .limit(options.limit + 1);
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
