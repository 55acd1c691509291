import type { uploadStates } from './schema.js';

export type UploadState = (typeof uploadStates)[number];

/** An upload as the catalogue knows it, from start to its end. */
export interface UploadRecord {
  workspaceId: string;
  uploadId: string;
  assetId: string;
  key: string;
  fileName: string | null;
  fileType: string;
  declaredSize: number | null;
  partSize: number | null;
  /** Bytes held against the workspace's quota while the upload is open. */
  reservedBytes: number;
  startedBy: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  state: UploadState;
  /** The object's ETag once completed. */
  etag: string | null;
}

/** What a workspace owns: one completed object and what is known of it. */
export interface AssetRecord {
  workspaceId: string;
  assetId: string;
  key: string;
  fileName: string | null;
  fileType: string;
  size: number;
  etag: string;
  checksum: string | null;
  createdAt: Date;
  createdBy: string | null;
}

export type NewUpload = Omit<UploadRecord, 'reservedBytes' | 'finishedAt' | 'state' | 'etag'>;

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
   * Marks the upload completed and records its asset, in one transaction: idempotent, so a retry
   * after a crash between the store's complete and this write records the asset once.
   */
  recordCompleted(
    upload: UploadRecord,
    asset: Omit<AssetRecord, 'workspaceId' | 'assetId' | 'key' | 'fileName' | 'fileType' | 'createdBy'>,
  ): Promise<AssetRecord>;
  /** Ends an open upload (abort or expiry) and frees its reservation; unknown or finished ones are left alone. */
  finishUpload(workspaceId: string, uploadId: string, state: 'aborted' | 'expired'): Promise<void>;
  /** Newest first. */
  listOpenUploads(workspaceId: string, options: { cursor?: string; limit: number }): Promise<UploadPage>;
  /** Open uploads of every workspace started before `startedBefore`, for the cleanup job. */
  listStaleUploads(startedBefore: Date, limit: number): Promise<UploadRecord[]>;

  findAsset(workspaceId: string, key: string): Promise<AssetRecord | null>;
  listAssets(workspaceId: string, options: ListAssetsOptions): Promise<AssetPage>;
  /** Adds an asset found in the store (import, reconciliation); an existing row is kept. Returns whether it was added. */
  importAsset(asset: AssetRecord): Promise<boolean>;
  /** Removes the asset's row; true when there was one. */
  deleteAsset(workspaceId: string, key: string): Promise<boolean>;
  /** Every asset row, in key order, a page at a time (reconciliation). */
  scanAssets(options: { afterKey?: string; limit: number }): Promise<AssetRecord[]>;

  usage(workspaceId: string, rules: QuotaRules): Promise<WorkspaceUsage>;
  /** A workspace's own quota; null returns it to the server default. */
  setQuota(workspaceId: string, quotaBytes: number | null): Promise<void>;

  /** A cheap query; CATALOG_UNAVAILABLE when the database does not answer. */
  checkReady(): Promise<void>;
  close(): Promise<void>;
}
