import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { CHECKSUM_ALGORITHMS } from '../storage/checksum.js';

/** An upload's checksum mode as the catalogue records it: `none`, or the algorithm its parts are signed with. */
export const UPLOAD_CHECKSUM_MODES = ['none', ...CHECKSUM_ALGORITHMS] as const;

/** Sizes reach 5 TiB (S3's largest object), past what a 32-bit integer holds. */
const bytes = (name: string) => bigint(name, { mode: 'number' });
/** Set by the server in milliseconds, so that a listing cursor round-trips exactly through a JS Date. */
const moment = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });
/**
 * A transaction id (PostgreSQL's 64-bit `xid8`), as its decimal text: JavaScript numbers cannot
 * hold every value exactly, and the feed only compares and hands it back.
 */
const transactionId = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

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
    /**
     * How the upload's parts are checksummed (`none` or an algorithm), as it was started: signing
     * then needs no question to the store. Null for uploads recorded before this column (and
     * imported ones): the store says.
     */
    checksumAlgorithm: text('checksum_algorithm', { enum: UPLOAD_CHECKSUM_MODES }),
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

export const assetEventTypes = ['asset.created', 'asset.deleted', 'upload.aborted', 'upload.expired'] as const;

/**
 * The outbox: one row per event, written by the same statement as the change it describes, so an
 * event exists exactly when its change does. Feeds read it in commit order, (txid, seq), and only
 * below the oldest transaction still running (event-log.ts): `seq` alone is the order rows were
 * numbered, and a row numbered earlier can commit later.
 */
export const assetEvents = pgTable(
  'asset_events',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    txid: transactionId('txid').notNull().default(sql`pg_current_xact_id()`),
    /** `evt_` and 32 hex digits: the event's id, and the `webhook-id` of every delivery of it. */
    id: text('id').notNull(),
    type: text('type', { enum: assetEventTypes }).notNull(),
    workspaceId: text('workspace_id').notNull(),
    /** The asset's key: events of one asset are delivered in order. */
    subject: text('subject').notNull(),
    occurredAt: moment('occurred_at').notNull(),
    /** The event's `data`, as receivers get it (events/asset-event.ts). */
    data: jsonb('data').notNull(),
  },
  (table) => [
    uniqueIndex('asset_events_id').on(table.id),
    index('asset_events_commit_order').on(table.txid, table.seq),
    index('asset_events_by_workspace').on(table.workspaceId, table.txid, table.seq),
    index('asset_events_by_time').on(table.occurredAt),
  ],
);

/** A workspace's webhook: where its events are POSTed, signed with the endpoint's own secret. */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    /** `whk_` and 32 hex digits. */
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id').notNull(),
    url: text('url').notNull(),
    description: text('description'),
    /** The event types delivered here. */
    eventTypes: text('event_types').array().notNull(),
    enabled: boolean('enabled').notNull().default(true),
    /** `whsec_` and base64: the Standard Webhooks signing secret. */
    secret: text('secret').notNull(),
    createdAt: moment('created_at').notNull(),
    createdBy: text('created_by'),
  },
  (table) => [index('webhook_endpoints_by_workspace').on(table.workspaceId)],
);

export const deliveryStates = ['pending', 'delivered', 'failed'] as const;

/**
 * One event to one endpoint, made with the event (the endpoints enabled for its type then). A
 * dispatcher claims due rows by moving `next_attempt_at` past its lease, so a crash mid-attempt
 * only delays the delivery until the lease runs out.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    workspaceId: text('workspace_id').notNull(),
    eventSeq: bigint('event_seq', { mode: 'number' }).notNull(),
    eventId: text('event_id').notNull(),
    /** The event's subject (asset key), copied so that ordering needs no join. */
    subject: text('subject').notNull(),
    state: text('state', { enum: deliveryStates }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: moment('next_attempt_at').notNull(),
    createdAt: moment('created_at').notNull(),
    lastAttemptAt: moment('last_attempt_at'),
    /** The receiver's HTTP status of the last attempt; null when it gave none (timeout, refused). */
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    deliveredAt: moment('delivered_at'),
    /** Every attempt: `[{ at, status, error, durationMs }]`, oldest first. */
    attemptLog: jsonb('attempt_log').notNull().default([]),
  },
  (table) => [
    index('webhook_deliveries_due').on(table.nextAttemptAt, table.id).where(sql`${table.state} = 'pending'`),
    index('webhook_deliveries_in_order').on(table.endpointId, table.subject, table.id).where(sql`${table.state} = 'pending'`),
    index('webhook_deliveries_by_endpoint').on(table.endpointId, table.id),
    index('webhook_deliveries_by_workspace').on(table.workspaceId, table.id),
  ],
);

/**
 * Where a named reader of the outbox (an embedding app's hook) has got to, and which process holds
 * it: one at a time, the lease passing on when its holder stops renewing it.
 */
export const eventConsumers = pgTable('event_consumers', {
  name: text('name').primaryKey(),
  afterTxid: transactionId('after_txid'),
  afterSeq: bigint('after_seq', { mode: 'number' }),
  leasedBy: text('leased_by'),
  leaseUntil: moment('lease_until'),
});
