import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** Sizes reach 5 TiB (S3's largest object), past what a 32-bit integer holds. */
const bytes = (name: string) => bigint(name, { mode: 'number' });
/** Set by the server in milliseconds, so that a listing cursor round-trips exactly through a JS Date. */
const moment = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

/**
 * One row a workspace, made on first use: the quota override, and the counters every quota check
 * reads under this row's lock, so two uploads racing for the last bytes are judged one after another.
 */
export const workspaces = pgTable('workspaces', {
  id: text('id').primaryKey(),
  /** Null: the server's default quota (WORKSPACE_QUOTA_BYTES), if any. */
  quotaBytes: bytes('quota_bytes'),
  storedBytes: bytes('stored_bytes').notNull().default(0),
  assetCount: integer('asset_count').notNull().default(0),
  /** What the workspace's open uploads hold against the quota: the sum of their `reserved_bytes`. */
  reservedBytes: bytes('reserved_bytes').notNull().default(0),
});

export const uploadStates = ['open', 'completed', 'aborted', 'expired'] as const;

export const uploads = pgTable(
  'uploads',
  {
    workspaceId: text('workspace_id').notNull(),
    uploadId: text('upload_id').notNull(),
    assetId: text('asset_id').notNull(),
    key: text('key').notNull(),
    fileName: text('file_name'),
    fileType: text('file_type').notNull(),
    declaredSize: bytes('declared_size'),
    partSize: bytes('part_size'),
    /** Bytes this open upload holds against the quota; 0 once it is finished. */
    reservedBytes: bytes('reserved_bytes').notNull().default(0),
    startedBy: text('started_by'),
    startedAt: moment('started_at').notNull(),
    finishedAt: moment('finished_at'),
    state: text('state', { enum: uploadStates }).notNull(),
    /** The completed object's ETag, so that a retried complete answers from here. */
    etag: text('etag'),
  },
  (table) => [
    primaryKey({ columns: [table.workspaceId, table.uploadId] }),
    index('uploads_open_by_workspace').on(table.workspaceId, table.startedAt).where(sql`${table.state} = 'open'`),
  ],
);

export const assets = pgTable(
  'assets',
  {
    /** `{workspaceId}/digital_assets/{assetId}`: the object's key in the store. */
    key: text('key').primaryKey(),
    workspaceId: text('workspace_id').notNull(),
    assetId: text('asset_id').notNull(),
    fileName: text('file_name'),
    fileType: text('file_type').notNull(),
    size: bytes('size').notNull(),
    etag: text('etag').notNull(),
    checksum: text('checksum'),
    createdAt: moment('created_at').notNull(),
    createdBy: text('created_by'),
  },
  (table) => [
    // DESC is NULLS FIRST, as `ORDER BY created_at DESC, key DESC` means: only then does the index give the order.
    index('assets_newest').on(table.workspaceId, table.createdAt.desc().nullsFirst(), table.key.desc().nullsFirst()),
    index('assets_by_name').on(table.workspaceId, sql`(lower(coalesce(${table.fileName}, ${table.assetId})) collate "C")`, table.key),
  ],
);
