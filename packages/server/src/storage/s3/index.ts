import type { S3Client } from '@aws-sdk/client-s3';
import type { S3StoreConfig } from '../../config.js';
import { SHA256_HEADER } from '../checksum.js';
import type { ObjectStore } from '../store.js';
import { createS3Client, type S3Timeouts } from './client.js';
import type { S3Context } from './context.js';
import { getCorsRules, putCorsRules } from './cors.js';
import { putAbortIncompleteUploadsRule } from './lifecycle.js';
import { listObjects, walkObjects } from './listing.js';
import {
  abortMultipartUpload,
  assertUploadOpen,
  completeMultipartUpload,
  createMultipartUpload,
  listParts,
  uploadPart,
} from './multipart.js';
import { deleteObject, getObject, headObject } from './objects.js';
import { listPendingUploads } from './pending-uploads.js';
import { signGetUrl, signPartUrls } from './presign.js';
import { checkS3Ready } from './readiness.js';

export { DEFAULT_S3_TIMEOUTS, type S3Timeouts } from './client.js';

export interface S3StoreOptions extends Omit<S3StoreConfig, 'kind'> {
  /** Clock for signing dates; defaults to Date.now. */
  now?: () => number;
  /** A ready client (fault injection); the store then leaves closing it to the caller. */
  client?: S3Client;
  /** Per-request time limits; defaults in DEFAULT_S3_TIMEOUTS. Ignored when `client` is given. */
  timeouts?: Partial<S3Timeouts>;
}

/** The ObjectStore on S3 (or any S3-compatible server), through one SDK client. */
export function createS3Store(options: S3StoreOptions): ObjectStore {
  const ownsClient = options.client === undefined;
  const s3: S3Context = {
    client: options.client ?? createS3Client(options),
    bucket: options.bucket,
    now: options.now ?? Date.now,
  };
  return {
    kind: 's3',
    bucket: options.bucket,
    createMultipartUpload: (key, contentType, options) => createMultipartUpload(s3, key, contentType, options),
    partChecksumHeader: SHA256_HEADER,
    assertUploadOpen: (key, uploadId) => assertUploadOpen(s3, key, uploadId),
    signPartUrls: (key, uploadId, partNumbers, expiresIn, options) => signPartUrls(s3, key, uploadId, partNumbers, expiresIn, options),
    listParts: (key, uploadId) => listParts(s3, key, uploadId),
    uploadPart: (key, uploadId, partNumber, body) => uploadPart(s3, key, uploadId, partNumber, body),
    completeMultipartUpload: (key, uploadId, parts) => completeMultipartUpload(s3, key, uploadId, parts),
    abortMultipartUpload: (key, uploadId) => abortMultipartUpload(s3, key, uploadId),
    signGetUrl: (key, expiresIn, options) => signGetUrl(s3, key, expiresIn, options),
    getObject: (key, options) => getObject(s3, key, options),
    headObject: (key) => headObject(s3, key),
    deleteObject: (key) => deleteObject(s3, key),
    listObjects: (prefix, options) => listObjects(s3, prefix, options),
    walkObjects: (options) => walkObjects(s3, options),
    getCorsRules: () => getCorsRules(s3),
    putCorsRules: (rules) => putCorsRules(s3, rules),
    checkReady: (checkOptions) => checkS3Ready(s3, checkOptions),
    listPendingUploads: ({ initiatedBefore }) => listPendingUploads(s3, initiatedBefore),
    abortIncompleteUploadsAfter: (days) => putAbortIncompleteUploadsRule(s3, days),
    // Releases the keep-alive sockets of the client's agent so the process can exit.
    close: async () => {
      if (ownsClient) s3.client.destroy();
    },
  };
}
