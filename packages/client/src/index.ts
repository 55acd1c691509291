// tRPC's declarations name Disposable and AsyncDisposable; an app type-checking libraries
// (skipLibCheck: false) with an ES2022 `lib` would lack them.
/// <reference lib="esnext.disposable" preserve="true" />
/**
 * @s3-service/client: the typed tRPC client of s3-service and a resumable, parallel multipart
 * uploader, for browsers and Node. Nothing here loads Node modules; file-path helpers live in
 * `@s3-service/client/node` (and `upload(path)` loads `node:fs` only when it is given a path).
 */
export {
  createS3ServiceClient,
  type ObjectRef,
  type RouterInputs,
  type RouterOutputs,
  type S3ServiceClient,
  type S3ServiceClientOptions,
} from './client.js';
export type { AppRouter, ErrorCode } from './contract.js';
export type { DownloadInput } from './download.js';
export {
  type ClientErrorCode,
  S3ServiceError,
  type S3ServiceErrorCode,
  type S3ServiceErrorOptions,
  UploadError,
  type UploadErrorContext,
} from './errors.js';
export type { AssetEvent, AssetEventType, EventStreamState, EventsOptions, Unsubscribe } from './events.js';
export type { HeadersOption } from './http.js';
export type { RetryDelay } from './retry.js';
export type { UploadData } from './upload/open-source.js';
export type { PartRetry, PartRetryReason, RetryListener } from './upload/part-retry.js';
export { DEFAULT_PART_SIZE, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE } from './upload/part-size.js';
export type { ProgressListener, UploadProgress } from './upload/progress.js';
export type { ByteStream } from './upload/stream-source.js';
export { DEFAULT_CONCURRENCY, type UploadHandle, type UploadOptions, type UploadResult, type UploadStart } from './upload.js';
