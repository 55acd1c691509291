import type { Readable } from 'node:stream';
import type { CorsRule } from '../schemas.js';
import type { ChecksumAlgorithm, ObjectChecksum } from './checksum.js';

/** A part the store holds for an unfinished multipart upload. */
export interface StoredPart {
  partNumber: number;
  /** Quoted, as S3 returns it: `"9e107d9d372bb6826bd81d3542a419d6"`. */
  etag: string;
  size: number;
  /** Base64 SHA-256 of the part, when its upload was started with a checksum algorithm. */
  checksum?: string;
}

/** A part as the caller lists it when completing; etags may come quoted or bare. */
export interface CompletedPart {
  partNumber: number;
  etag: string;
  /** The part's checksum as the store listed it: S3 needs it back to assemble a checksummed upload. */
  checksum?: string;
}

export interface ObjectInfo {
  key: string;
  size: number;
  contentType: string;
  /** Quoted; for multipart objects S3-style `"<MD5 of the binary part ETags>-<part count>"`. */
  etag: string;
  lastModified: Date;
  /** Present for objects assembled from checksummed parts. */
  checksum?: ObjectChecksum;
  /**
   * The object's user metadata (S3 `x-amz-meta-*`, names lower-cased without the prefix), when the
   * store keeps any: objects written by other software may carry their file name there.
   */
  metadata?: Record<string, string>;
}

/** What a listing of the whole store knows of an object without asking for it alone (S3 lists no content type). */
export type ObjectSummary = Pick<ObjectInfo, 'key' | 'size' | 'etag' | 'lastModified'>;

export interface WalkObjectsOptions {
  /** Starts after this key (not necessarily an object's): a walk that stopped resumes from its last key. */
  afterKey?: string;
}

/** A single byte range; `start` absent means the last `suffixLength` bytes. */
export type ByteRange = { start: number; end?: number } | { suffixLength: number };

export interface ObjectBody extends ObjectInfo {
  body: Readable;
  /** Bytes in `body`: the object's size, or the range's length. */
  contentLength: number;
  /** Present when a range was asked for: the inclusive range served. */
  range?: { start: number; end: number };
}

/** One page of a listing, oldest key first; `nextCursor` is absent on the last page. */
export interface ObjectPage {
  objects: ObjectInfo[];
  nextCursor?: string;
}

export interface ListObjectsOptions {
  /** From the previous page; opaque to callers. */
  cursor?: string;
  limit: number;
}

export interface GetObjectOptions {
  range?: ByteRange;
  /** Aborts the read (and the S3 request) when the HTTP client goes away. */
  signal?: AbortSignal;
}

/** What one sweep of crash leftovers removed. */
export interface OrphanSweepReport {
  /** Entries removed: whole blob folders and temp files or folders. */
  removed: number;
  /** Disk space freed: bytes of the files whose last name was removed (a hard link counts once). */
  bytes: number;
  /** Set when part of the sweep was skipped and why (unreadable metadata leaves every blob in place). */
  skipped?: string;
}

/** An unfinished multipart upload, as the cleanup of abandoned uploads sees it. */
export interface PendingUpload {
  key: string;
  uploadId: string;
  initiated: Date;
  /** The type the upload was started with, when the store lists it (the local store does, S3 does not). */
  contentType?: string;
}

export interface CheckReadyOptions {
  /** Ends the check early (a probe's deadline). */
  signal?: AbortSignal;
}

export interface SignGetOptions {
  /** The name the download is saved as (Content-Disposition); absent: the key's last segment. */
  fileName?: string;
  /**
   * The Content-Type to serve, when the catalogue knows better than the store: complete records
   * the type the bytes are (a PNG uploaded as image/jpeg), while the store keeps the one declared.
   */
  contentType?: string;
}

export interface SignPartOptions {
  /** Byte length each part's PUT must have, in the order of the part numbers. */
  contentLengths?: readonly number[];
  /**
   * Base64 SHA-256 each part's body must have, in the order of the part numbers: the store
   * refuses any other body (S3: a signed `x-amz-checksum-sha256` header the PUT must carry).
   */
  checksums?: readonly string[];
}

export interface CreateUploadOptions {
  /** Every part must then be signed with its checksum, and the object gets a COMPOSITE one. */
  checksumAlgorithm?: ChecksumAlgorithm;
}

/** What the store knows of an open upload beyond its being open. */
export interface OpenUploadFacts {
  checksumAlgorithm?: ChecksumAlgorithm;
}

/** What a signed part URL grants: one part of one upload, perhaps of a fixed length. */
export interface PartGrant {
  key: string;
  uploadId: string;
  partNumber: number;
  /** Set when the URL was signed for a body of exactly this many bytes. */
  contentLength?: number;
  /** Set when the URL was signed for a body with this base64 SHA-256. */
  checksum?: string;
}

/**
 * The URLs a store signs that point back at this server (the local store's), as the HTTP layer
 * serves them: it owns the routes, CORS and answers; this checks signatures and stores parts.
 * Objects are read through the store's getObject, like every download.
 */
export interface SignedUrlEndpoint {
  /** Where the URLs' paths start: `<basePath>/<key>`. */
  readonly basePath: string;
  /** INVALID_SIGNATURE unless `query` is a valid, unexpired signature of a part PUT to `key`. */
  verifyPartUrl(key: string, query: URLSearchParams): PartGrant;
  /** INVALID_SIGNATURE unless `query` is a valid, unexpired signature of a GET of `key`; returns the name and type it was signed with. */
  verifyGetUrl(key: string, query: URLSearchParams): { fileName?: string; contentType?: string };
  /**
   * Stores `body` as the granted part and returns its quoted ETag: INVALID_UPLOAD_ID for an upload
   * that is not open, PAYLOAD_TOO_LARGE past the part limit (or the granted length),
   * INVALID_SIGNATURE for a shorter body than granted.
   */
  receivePart(grant: PartGrant, body: Readable): Promise<{ etag: string; size: number }>;
}

/**
 * The one storage interface. Drivers translate their own failures into AppError codes:
 * INVALID_UPLOAD_ID, UPLOAD_FAILED, NOT_FOUND, RANGE_NOT_SATISFIABLE, S3_ERROR.
 * Keys reaching a store were already checked by `storage/keys.ts`.
 */
export interface ObjectStore {
  /** `local` or `s3`, for logs and start-up output. */
  readonly kind: string;
  /** Where objects live, for `location`: `s3://<bucket>/<key>`. */
  readonly bucket: string;

  createMultipartUpload(key: string, contentType: string, options?: CreateUploadOptions): Promise<{ uploadId: string }>;
  /** Throws INVALID_UPLOAD_ID unless `uploadId` is an unfinished upload of exactly `key`. */
  assertUploadOpen(key: string, uploadId: string): Promise<OpenUploadFacts>;
  /**
   * Signs PUT URLs for parts of an upload already checked with `assertUploadOpen`. With
   * `contentLengths` (one per part number) each URL accepts a body of exactly that many bytes;
   * with `checksums`, only a body of that SHA-256 (sent with the headers `partChecksumHeader` names).
   */
  signPartUrls(
    key: string,
    uploadId: string,
    partNumbers: readonly number[],
    expiresIn: number,
    options?: SignPartOptions,
  ): Promise<string[]>;
  listParts(key: string, uploadId: string): Promise<StoredPart[]>;
  /**
   * Stores `body` as a part of an upload already checked with `assertUploadOpen`, from this
   * server rather than through a signed URL (the form POST of Uppy's small files), and returns
   * its quoted ETag. INVALID_UPLOAD_ID for an upload that is not open. Not for checksummed uploads.
   */
  uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array): Promise<{ etag: string; size: number }>;
  /**
   * The header a checksummed part PUT must carry its base64 SHA-256 in; absent when the store
   * signs the checksum into the URL itself (the local store).
   */
  readonly partChecksumHeader?: string;
  /** Assembles the parts; the object appears whole or not at all. Returns its etag (and checksum). */
  completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: readonly CompletedPart[],
  ): Promise<{ etag: string; checksum?: ObjectChecksum }>;
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;

  /** A GET URL that serves the object as an attachment, saved as `fileName` when given. */
  signGetUrl(key: string, expiresIn: number, options?: SignGetOptions): Promise<string>;
  getObject(key: string, options?: GetObjectOptions): Promise<ObjectBody>;
  /** `null` when no object is at `key`. */
  headObject(key: string): Promise<ObjectInfo | null>;
  /** Deleting a missing key succeeds, as in S3. */
  deleteObject(key: string): Promise<void>;
  /** Objects directly under `prefix` (which ends in `/`), in key order; a bad cursor is INVALID_PARAMETER. */
  listObjects(prefix: string, options: ListObjectsOptions): Promise<ObjectPage>;
  /**
   * Every object of the store, of every workspace and of any key, in key order, a page at a time
   * underneath (catalog:sync). Objects written or deleted during the walk may or may not be seen.
   */
  walkObjects(options?: WalkObjectsOptions): AsyncIterable<ObjectSummary>;

  getCorsRules(): Promise<CorsRule[]>;
  putCorsRules(rules: readonly CorsRule[]): Promise<void>;

  /**
   * A cheap proof that the store can serve: S3 HEADs the bucket, the local store checks its data
   * folder. Throws StoreNotReadyError saying why (missing bucket or folder, unreachable, denied).
   */
  checkReady(options?: CheckReadyOptions): Promise<void>;
  /** Unfinished multipart uploads started before `initiatedBefore`: candidates for abortMultipartUpload. */
  listPendingUploads(options: { initiatedBefore: Date }): AsyncIterable<PendingUpload>;
  /**
   * Has the store itself abort uploads `days` after they started (S3: a bucket lifecycle rule).
   * Absent on stores without such rules (local disk): there the cleanup job does it.
   */
  abortIncompleteUploadsAfter?(days: number): Promise<void>;

  /**
   * Removes what a crash left behind that nothing names (the local store's unreferenced blobs and
   * stale temp files), leaving anything a live operation may still own. Absent on stores that
   * leave nothing of the kind (S3).
   */
  sweepOrphans?(): Promise<OrphanSweepReport>;

  /** Drivers that sign URLs pointing at this server (local disk) have them served through this. */
  readonly signedUrls?: SignedUrlEndpoint;
  /** Releases sockets and timers. */
  close?(): Promise<void>;
}
