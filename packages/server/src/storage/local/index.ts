/**
 * The local-disk ObjectStore ("embedded default store"): looks like S3 to callers, needs no
 * service. Layout of the data folder:
 *
 *   meta/<key>.json                   object metadata {key, contentType, etag, size, lastModified,
 *                                     blob, segments: [{file, size}]}; renaming it into place is
 *                                     the commit point of an object
 *   blobs/<blobId>/<nnnnn>            object bytes (blobId: 32 random hex): the segment files whose
 *                                     concatenation is the object, one per completed part (a hard
 *                                     link to the part file, so completing copies nothing); the
 *                                     folder is whole before any metadata names it, so no partial
 *                                     object is ever visible. Metadata written before segments has
 *                                     no `segments`, and then blobs/<blobId> is one data file.
 *   uploads/<uploadId>/upload.json    an open multipart upload {key, contentType, createdAt}
 *   uploads/<uploadId>/<nnnnn>-<etag>-<size>[-<sha256>].part   its parts; the name carries number, ETag, size (and checksum)
 *   tmp/                              writes in progress (same filesystem, so renames are atomic)
 *   bucket/cors.json                  the bucket CORS rules
 *   .signing-secret                   HMAC key of signed URLs, when none is configured (mode 0600)
 *
 * Upload ids are 32 random hex characters minted here; no other shape ever becomes a path.
 * Completed and aborted uploads lose their folder, so they read as unknown ids. Concurrency is
 * handled with in-process locks: one server process per folder (several are not a goal); the
 * cleanup-uploads command may remove upload folders from another process (see OpenUploads).
 * A crash can leave blobs no metadata names and entries in tmp/ that no operation will finish;
 * sweepOrphans (at start and in the cleanup job) removes them once they are old enough that no
 * live operation can own them.
 */
import { Readable } from 'node:stream';
import { AppError } from '../../errors.js';
import { MAX_PARTS } from '../../schemas.js';
import type { ObjectStore, SignedUrlEndpoint } from '../store.js';
import { BlobPins } from './blob-pins.js';
import { readCorsRules, writeCorsRules } from './bucket-config.js';
import { completeUpload } from './complete.js';
import type { LocalContext } from './context.js';
import { openDataFolder } from './data-folder.js';
import { translateFsErrors } from './fs-errors.js';
import { KeyedLock } from './keyed-lock.js';
import { checkUploadId, createLayout } from './layout.js';
import { listObjects, walkObjects } from './listing.js';
import { deleteObject, getObject, headObject } from './objects.js';
import { OpenUploads } from './open-uploads.js';
import { DEFAULT_ORPHAN_AGE_MS, sweepOrphans } from './orphan-sweep.js';
import { listPendingUploads } from './pending-uploads.js';
import { checkLocalReady } from './readiness.js';
import { createSignedUrlEndpoint, storePart } from './signed-urls.js';
import { abortUpload, assertUploadOpen, createUpload, listParts } from './uploads.js';
import { UrlSigner } from './url-signer.js';

export { SIGNED_OBJECT_PATH } from './url-signer.js';

/** S3's smallest part (but the last). */
export const DEFAULT_MIN_PART_SIZE = 5 * 1024 * 1024;

export interface LocalStoreOptions {
  /** Data folder; created if absent. */
  dir: string;
  /** Base URL of this server as browsers reach it, e.g. http://127.0.0.1:3000. A getter lets tests listen on port 0 first. */
  publicUrl: string | (() => string);
  /** HMAC key of signed URLs; when absent one is generated once and kept in `<dir>/.signing-secret`. */
  signingSecret?: string;
  /** Clock in ms; injectable so tests can expire URLs without waiting. */
  now?: () => number;
  /** Smallest size of every part but the last; S3's 5 MiB by default. */
  minPartSize?: number;
  /** Unreferenced blobs and temp entries unchanged this long are swept as crash leftovers; 2 h by default. */
  orphanAgeMs?: number;
  /**
   * Sweep crash leftovers while opening the folder (the default). The cleanup command turns it off
   * to sweep in its own run, which reports what it removed and leaves a dry run dry.
   */
  sweepAtStart?: boolean;
}

/** The local store serves its own signed URLs, so it always has the endpoint for them. */
export type LocalStore = ObjectStore & { readonly signedUrls: SignedUrlEndpoint };

export async function createLocalStore(options: LocalStoreOptions): Promise<LocalStore> {
  const layout = createLayout(options.dir);
  const now = options.now ?? Date.now;
  const orphanAgeMs = options.orphanAgeMs ?? DEFAULT_ORPHAN_AGE_MS;
  const context: LocalContext = {
    layout,
    locks: new KeyedLock(),
    openUploads: new OpenUploads(),
    pins: new BlobPins({ refreshMs: Math.max(50, orphanAgeMs / 4) }),
    now,
    minPartSize: options.minPartSize ?? DEFAULT_MIN_PART_SIZE,
  };
  const secret = await openDataFolder(context, options.signingSecret, options.sweepAtStart === false ? undefined : orphanAgeMs);
  const publicUrl = typeof options.publicUrl === 'string' ? constant(options.publicUrl) : options.publicUrl;
  const signer = new UrlSigner({ secret, publicUrl, now });

  return {
    kind: 'local',
    // location: s3://local-disk/<key>, the documented shape, naming the store it is really in.
    bucket: 'local-disk',

    createMultipartUpload: (key, contentType, createOptions) => createUpload(context, key, contentType, createOptions),
    assertUploadOpen: (key, uploadId) => assertUploadOpen(context, key, uploadId),
    signPartUrls: async (key, uploadId, partNumbers, expiresIn, signOptions) => {
      checkUploadId(uploadId);
      checkExpiresIn(expiresIn);
      const lengths = signOptions?.contentLengths;
      const checksums = signOptions?.checksums;
      return partNumbers.map((partNumber, index) =>
        signer.partUrl(key, uploadId, checkPartNumber(partNumber), expiresIn, {
          contentLength: lengths?.[index],
          checksum: checksums?.[index],
        }),
      );
    },
    listParts: (key, uploadId) => listParts(context, key, uploadId),
    uploadPart: (key, uploadId, partNumber, body) => {
      checkUploadId(uploadId);
      const grant = { key, uploadId, partNumber: checkPartNumber(partNumber), contentLength: body.byteLength };
      return storePart(context, grant, Readable.from([body]));
    },
    completeMultipartUpload: (key, uploadId, parts) => completeUpload(context, key, uploadId, parts),
    abortMultipartUpload: (key, uploadId) => abortUpload(context, key, uploadId),

    signGetUrl: async (key, expiresIn, options) => signer.getUrl(key, checkExpiresIn(expiresIn), options),
    getObject: (key, getOptions) => getObject(context, key, getOptions),
    headObject: (key) => headObject(context, key),
    deleteObject: (key) => deleteObject(context, key),
    listObjects: (prefix, listOptions) => listObjects(context, prefix, listOptions),
    walkObjects: (walkOptions) => walkObjects(context, walkOptions),

    getCorsRules: () => readCorsRules(layout),
    putCorsRules: (rules) => writeCorsRules(layout, rules),
    checkReady: () => checkLocalReady(layout),
    listPendingUploads: ({ initiatedBefore }) => listPendingUploads(context, initiatedBefore),
    sweepOrphans: () => translateFsErrors('sweeping crash leftovers', () => sweepOrphans(context, orphanAgeMs)),

    signedUrls: createSignedUrlEndpoint(context, signer),
  };
}

function constant(url: string): () => string {
  return () => url;
}

/** The procedures validate these already; the driver still refuses to sign nonsense. */
function checkPartNumber(partNumber: number): number {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw new AppError('INVALID_PARAMETER', `PartNumber: must be an integer from 1 to ${MAX_PARTS}`);
  }
  return partNumber;
}

function checkExpiresIn(expiresIn: number): number {
  if (!Number.isInteger(expiresIn) || expiresIn < 1) {
    throw new AppError('INVALID_PARAMETER', 'expiresIn: must be a whole number of seconds, at least 1');
  }
  return expiresIn;
}
