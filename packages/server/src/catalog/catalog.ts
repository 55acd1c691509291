import type { EventConsumers } from './event-consumers.js';
import type { EventLog } from './event-log.js';
import type { EventRetention } from './event-retention.js';
import type { assets, uploadStates, uploads } from './schema.js';
import type { WebhookDeliveries } from './webhook-deliveries.js';
import type { WebhookEndpoints } from './webhook-endpoints.js';

export type UploadState = (typeof uploadStates)[number];

/** An upload as the catalogue knows it, from start to its end: a row of `uploads` (schema.ts). */
export type UploadRecord = typeof uploads.$inferSelect;

/** What a workspace owns: one completed object and what is known of it, a row of `assets`. */
export type AssetRecord = typeof assets.$inferSelect;

/** An upload as it is begun; without `checksumAlgorithm` (an imported upload) the store is asked how its parts are checksummed. */
export type NewUpload = Omit<UploadRecord, 'reservedBytes' | 'finishedAt' | 'state' | 'etag' | 'checksumAlgorithm'> &
  Partial<Pick<UploadRecord, 'checksumAlgorithm'>>;

/** What opening the catalogue did to its schema (migrations run on every open). */
export interface MigrationReport {
  /** The migrations this open applied, oldest first: empty when the schema was already current. */
  applied: string[];
  /** The newest migration in force, by its file name (`0000_catalogue`). */
  current: string | null;
}

/** The server-wide quota rule; a workspace's own override wins over it. */
export interface QuotaRules {
  /** Bytes each workspace may hold (assets plus open uploads' reservations); absent: no limit. */
  defaultQuotaBytes?: number;
}

export type AssetOrder = 'newest' | 'name';

export interface ListAssetsOptions {
  order: AssetOrder;
  /** Only assets whose file name contains this, ignoring case. */
  nameContains?: string;
  /** From the previous page, for the same order and filter. */
  cursor?: string;
  limit: number;
}

export interface AssetPage {
  assets: AssetRecord[];
  nextCursor?: string;
}

export interface UploadPage {
  uploads: UploadRecord[];
  nextCursor?: string;
}

export interface WorkspaceUsage {
  /** Bytes of completed assets. */
  storedBytes: number;
  assets: number;
  openUploads: number;
  /** Bytes open uploads hold against the quota. */
  reservedBytes: number;
  /** The quota in force (override or default); null: no limit. */
  quotaBytes: number | null;
  /** Whether `quotaBytes` is this workspace's own setting rather than the server default. */
  quotaOverridden: boolean;
}

/**
 * What every workspace owns, on Postgres (or PGlite, the same SQL in process). The store stays the
 * truth for bytes; this is the truth for names, ownership and quotas. Every method that changes a
 * workspace's bytes runs in one transaction under that workspace's row lock, so quota checks of
 * concurrent calls, on any number of API instances, are judged one after another.
 *
 * Failures to reach the database are AppError CATALOG_UNAVAILABLE; a refused quota is QUOTA_EXCEEDED.
 */
export interface Catalog {
  /** `pglite` or `postgres`, for logs and /readyz. */
  readonly kind: string;
  /** What opening it migrated. */
  readonly migrations: MigrationReport;

  /** Records an open upload and reserves its declared size; QUOTA_EXCEEDED when that does not fit. */
  beginUpload(upload: NewUpload, rules: QuotaRules): Promise<UploadRecord>;
  /** Throws QUOTA_EXCEEDED unless `bytes` more would fit the workspace now (a check before the store is asked). */
  assertRoomFor(workspaceId: string, bytes: number, rules: QuotaRules): Promise<void>;
  findUpload(workspaceId: string, uploadId: string): Promise<UploadRecord | null>;
  /**
   * Grows the open upload's reservation to `bytes` (never shrinks it); QUOTA_EXCEEDED when the
   * workspace cannot hold that much. Returns false when the upload is not open in the catalogue.
   */
  reserve(workspaceId: string, uploadId: string, bytes: number, rules: QuotaRules): Promise<boolean>;
  /**
   * Marks the upload completed and records its asset and its `asset.created` event, in one
   * statement: idempotent, so a retry after a crash between the store's complete and this write
   * records the asset, and its event, once. INVALID_UPLOAD_ID when an abort has already ended
   * the upload (it won the race): nothing is recorded.
   */
  recordCompleted(
    upload: UploadRecord,
    asset: Omit<AssetRecord, 'workspaceId' | 'assetId' | 'key' | 'fileName' | 'fileType' | 'createdBy'>,
  ): Promise<AssetRecord>;
  /**
   * Records an open upload found in the store that the catalogue never saw start (catalog:sync),
   * reserving nothing: its bytes are already stored. An existing row of that id, in whatever
   * state, is kept. Returns whether it was added.
   */
  importUpload(upload: NewUpload): Promise<boolean>;
  /**
   * Ends an open upload (abort or expiry), frees its reservation and records `upload.aborted` or
   * `upload.expired`; unknown or finished ones are left alone. `actor`: who aborted it. Returns
   * whether this call ended it.
   */
  finishUpload(workspaceId: string, uploadId: string, state: 'aborted' | 'expired', actor?: string | null): Promise<boolean>;
  /** Newest first. */
  listOpenUploads(workspaceId: string, options: { cursor?: string; limit: number }): Promise<UploadPage>;
  /** Open uploads of every workspace started before `startedBefore`, for the cleanup job. */
  listStaleUploads(startedBefore: Date, limit: number): Promise<UploadRecord[]>;

  findAsset(workspaceId: string, key: string): Promise<AssetRecord | null>;
  listAssets(workspaceId: string, options: ListAssetsOptions): Promise<AssetPage>;
  /** Adds an asset found in the store (import, reconciliation); an existing row is kept. Returns whether it was added. */
  importAsset(asset: AssetRecord): Promise<boolean>;
  /** Removes the asset's row and records `asset.deleted` (by `actor`); true when there was one. */
  deleteAsset(workspaceId: string, key: string, actor?: string | null): Promise<boolean>;
  /** Every asset row, in key order, a page at a time (reconciliation). */
  scanAssets(options: { afterKey?: string; limit: number }): Promise<AssetRecord[]>;

  usage(workspaceId: string, rules: QuotaRules): Promise<WorkspaceUsage>;
  /** A workspace's own quota; null returns it to the server default. */
  setQuota(workspaceId: string, quotaBytes: number | null): Promise<void>;

  /** The outbox: events in commit order, written with the changes they describe. */
  readonly events: EventLog;
  /** Each workspace's webhook endpoints. */
  readonly webhooks: WebhookEndpoints;
  /** Webhook deliveries: claimed by dispatchers, listed for admins. */
  readonly deliveries: WebhookDeliveries;
  /** Named readers of the outbox (an embedding app's hook) and where each has got to. */
  readonly consumers: EventConsumers;
  /** Removes finished deliveries and events older than the retention (the cleanup job, EVENT_RETENTION_DAYS). */
  readonly retention: EventRetention;

  /** A cheap query; CATALOG_UNAVAILABLE when the database does not answer. */
  checkReady(): Promise<void>;
  /**
   * Refreshes the planner's statistics (ANALYZE), after a bulk import: until they catch up, a
   * listing of a workspace that grew by thousands of rows reads all of them instead of its index.
   */
  refreshStatistics(): Promise<void>;
  close(): Promise<void>;
}
