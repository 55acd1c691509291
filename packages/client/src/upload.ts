import type { TRPCClient } from '@trpc/client';
import { abortError, childController, isAbortError, throwIfAborted } from './abort.js';
import type { AppRouter } from './contract.js';
import { S3ServiceError, UploadError, type UploadErrorContext } from './errors.js';
import { DEFAULT_RETRIES, DEFAULT_RETRY_DELAY, type RetryDelay, type RetryPolicy } from './retry.js';
import { isNode } from './runtime.js';
import { DEFAULT_FILE_TYPE } from './upload/mime.js';
import { openSource, type UploadData } from './upload/open-source.js';
import { canChecksum } from './upload/part-checksum.js';
import type { RetryListener } from './upload/part-retry.js';
import { choosePartSize } from './upload/part-size.js';
import { PauseGate } from './upload/pause.js';
import { type ProgressListener, ProgressTracker } from './upload/progress.js';
import { sendParts } from './upload/send-parts.js';
import { type UploadOnServer, type UploadRef, type UploadService, uploadService } from './upload/service.js';
import type { UploadSource } from './upload/source.js';

export interface UploadOptions {
  workspaceId: string;
  /** Content-Type of the object. Default: the Blob's type, else the file name's extension, else application/octet-stream. */
  fileType?: string;
  /** The name the asset is saved and downloaded as. Default: the File's name or the path's last segment. */
  fileName?: string;
  /** Bytes per part. Default 8 MiB; at least 5 MiB; grown so a file needs at most 10 000 parts. */
  partSize?: number;
  /** Parts sent at once. Default 4. Memory use is about `concurrency x partSize`. */
  concurrency?: number;
  /** Retries of a part (and of each sign/list/complete call) after a transient failure. Default 5. */
  retries?: number;
  /** Backoff between retries. Default 500 ms doubling up to 20 s, with jitter. */
  retryDelay?: RetryDelay;
  /** Aborting stops every PUT, aborts the multipart upload on the server, and rejects with an AbortError. */
  signal?: AbortSignal;
  /**
   * Called as bytes go out: in Node as fetch pulls each 64 KiB of a part, in browsers on each of
   * XMLHttpRequest's upload events (about every 100 ms). `loaded` never decreases and ends at `total`.
   */
  onProgress?: ProgressListener;
  /**
   * Called when a part is sent again: after a transient failure (with the backoff), a refused URL,
   * or a pause that cut it on the wire. `loaded` does not go back meanwhile; this says why it holds.
   */
  onRetry?: RetryListener;
  /**
   * Continues an upload that a crash, a lost connection or an UploadError interrupted: the
   * server lists the parts it has, and only the missing ones (or ones of the wrong size) are
   * sent. Pass the same data and the same `partSize` as the first time.
   */
  resume?: { uploadId: string; assetId: string };
  /**
   * Called once the upload exists on the server (started, or taken up with `resume`) and before
   * any part is sent, with what a later `resume` needs: save it somewhere lasting there, and a
   * crash or reload at any moment after can continue the upload. The upload waits for it; if it
   * throws, a new upload is aborted (nobody could resume it) and the call rejects with that error.
   */
  onStart?: (started: UploadStart) => void | Promise<void>;
  /** Length of a stream input, when known: progress then has a total, and parts may grow. */
  size?: number;
  /**
   * Sends parts as counting streams, so progress moves while a part is on the wire. Default:
   * true in Node, false in browsers, which send each part whole with XMLHttpRequest and count its
   * bytes from its upload events (with a `fetch` of your own: per finished part, see part-body.ts).
   */
  streamParts?: boolean;
  /**
   * Hashes each part (SHA-256, WebCrypto) as it is read and has the server sign the hash into the
   * part's URL, so the store refuses bytes altered or cut on the way, and a resume keeps only
   * stored parts that hold this data's bytes. Default true; off where WebCrypto is missing (a
   * browser page on plain http other than localhost).
   */
  checksum?: boolean;
}

/** What `onStart` learns: the ids to pass as `resume`, and the part size a resume must use again. */
export interface UploadStart {
  workspaceId: string;
  uploadId: string;
  assetId: string;
  /** The part size chosen (the given one, or grown for a large file); pass it again with `resume`. */
  partSize: number;
  /** True when this call took up an earlier upload (`resume`). */
  resumed: boolean;
}

export interface UploadResult {
  key: string;
  assetId: string;
  uploadId: string;
  /** `s3://<bucket>/<key>` */
  location: string;
  /** Bytes stored. */
  size: number;
  /** The object's ETag, quoted; multipart objects have S3's `"<md5>-<part count>"`. */
  etag: string;
  /** S3's COMPOSITE SHA-256 of the object (`<base64>-<part count>`), when its parts were checksummed. */
  checksum?: string;
}

export interface UploadDependencies {
  trpc: TRPCClient<AppRouter>;
  fetch: typeof globalThis.fetch;
  /** Whole part bodies may go with XMLHttpRequest: it exists, and `fetch` is the platform's, not one the caller gave. */
  partsWithXhr: boolean;
}

/**
 * What `client.upload` returns: the upload's promise (await it as before) with its pause switch.
 * `pause()` starts no more parts and cuts the PUTs in flight (their bytes go again on resume;
 * parts already stored are kept), and leaves the upload open on the server; `resume()` sends the
 * parts still missing, signing afresh the URLs that expired meanwhile. Only the `signal` aborts,
 * paused or not. Both do nothing once the upload has settled, and pausing once every part is
 * out lets it complete.
 */
export interface UploadHandle extends Promise<UploadResult> {
  pause(): void;
  resume(): void;
  /** True between `pause()` and `resume()`. */
  readonly paused: boolean;
}

export const DEFAULT_CONCURRENCY = 4;

interface Settings {
  concurrency: number;
  retry: RetryPolicy;
  streaming: boolean;
  xhr: boolean;
}

/**
 * The multipart flow in one call: start (or resume), send the parts in parallel, complete.
 * A failure leaves the upload open for `resume` (the UploadError says which); an abort removes it.
 */
export function uploadData(deps: UploadDependencies, data: UploadData, options: UploadOptions): UploadHandle {
  const pause = new PauseGate();
  const done = uploadWithPause(deps, data, options, pause);
  // The promise itself, so `await`, `then`, `catch` and `instanceof Promise` stay what they were.
  return Object.defineProperties(done, {
    pause: { value: () => pause.pause() },
    resume: { value: () => pause.resume() },
    paused: { get: () => pause.paused },
  }) as UploadHandle;
}

async function uploadWithPause(
  deps: UploadDependencies,
  data: UploadData,
  options: UploadOptions,
  pause: PauseGate,
): Promise<UploadResult> {
  throwIfAborted(options.signal);
  const settings = readSettings(options, deps);
  const source = await openSource(data, { size: options.size });
  try {
    return await runUpload(deps, source, options, settings, pause);
  } finally {
    await source.close().catch(() => {});
  }
}

async function runUpload(
  deps: UploadDependencies,
  source: UploadSource,
  options: UploadOptions,
  settings: Settings,
  pause: PauseGate,
): Promise<UploadResult> {
  const service = uploadService(deps.trpc, settings.retry);
  const partSize = choosePartSize(source.size, options.partSize);
  const checksums = !options.resume && options.checksum !== false && canChecksum();
  const ref = await openUpload(service, source, options, partSize, checksums);
  await announceStart(service, ref, partSize, options);
  const context: UploadErrorContext = { uploadId: ref.uploadId, assetId: ref.assetId };
  const { controller, dispose } = childController(options.signal);
  try {
    const onServer = options.resume ? await service.listParts(ref, controller.signal) : { parts: new Map() };
    const stored = onServer.parts;
    const progress = new ProgressTracker(options.onProgress, source.size);
    const sent = await sendParts(
      {
        service,
        fetch: deps.fetch,
        source,
        ref,
        partSize,
        stored,
        checksums: options.resume ? resumedWithChecksums(onServer) : checksums,
        concurrency: settings.concurrency,
        retry: settings.retry,
        streaming: settings.streaming,
        xhr: settings.xhr,
        progress,
        pause,
        onRetry: options.onRetry,
        signal: controller.signal,
      },
      (reason) => controller.abort(reason),
    );
    const parts = [...sent.etags].sort(([a], [b]) => a - b).map(([partNumber, etag]) => ({ partNumber, etag }));
    // Complete gets no signal: cut off half-way, it might still finish on the server. It runs to
    // its end instead, and an abort that came meanwhile deletes the object it made.
    const completed = await service.complete(ref, parts);
    if (options.signal?.aborted) {
      await service.deleteObject(ref.workspaceId, completed.key);
      throw abortError(options.signal);
    }
    progress.setTotal(sent.size);
    progress.finish();
    return {
      key: completed.key,
      assetId: ref.assetId,
      uploadId: ref.uploadId,
      location: completed.location,
      size: sent.size,
      etag: completed.etag,
      ...(completed.checksum ? { checksum: completed.checksum.value } : {}),
    };
  } catch (error) {
    if (options.signal?.aborted) {
      // Every PUT has settled by now (sendParts waits for its workers), so this abort is final.
      await service.abort(ref);
      throw abortError(options.signal);
    }
    if (isAbortError(error)) throw error;
    throw error instanceof S3ServiceError ? UploadError.from(error, context) : error;
  } finally {
    dispose();
  }
}

/** Starts a new multipart upload, or takes up the one to resume. */
async function openUpload(
  service: UploadService,
  source: UploadSource,
  options: UploadOptions,
  partSize: number,
  checksums: boolean,
): Promise<UploadRef> {
  const { workspaceId } = options;
  if (options.resume) return { workspaceId, assetId: options.resume.assetId, uploadId: options.resume.uploadId };
  const fileType = options.fileType ?? source.fileType ?? DEFAULT_FILE_TYPE;
  // Start is not cancellable: its answer is the only way to learn the upload's id. An abort that
  // came meanwhile aborts the upload just created.
  const fileName = options.fileName ?? source.fileName;
  const details = {
    fileType,
    partSize,
    ...(fileName ? { fileName } : {}),
    ...(source.size === undefined ? {} : { fileSize: source.size }),
    ...(checksums ? { checksumAlgorithm: 'SHA256' as const } : {}),
  };
  const ref = await service.start(workspaceId, details).catch((error: unknown) => {
    throw error instanceof S3ServiceError ? UploadError.from(error, {}) : error;
  });
  if (options.signal?.aborted) {
    await service.abort(ref);
    throw abortError(options.signal);
  }
  return ref;
}

/** An upload started with checksummed parts is resumed the same way, whatever the options say: the store requires it. */
function resumedWithChecksums(onServer: UploadOnServer): boolean {
  if (!onServer.checksumAlgorithm) return false;
  if (!canChecksum()) {
    throw new UploadError(
      'INVALID_PARAMETER',
      'this upload was started with checksummed parts, and this runtime has no WebCrypto to hash them (browsers offer it on https and localhost only)',
    );
  }
  return true;
}

/** Runs `onStart`; a new upload that its caller failed to record is removed again. */
async function announceStart(service: UploadService, ref: UploadRef, partSize: number, options: UploadOptions): Promise<void> {
  if (!options.onStart) return;
  const resumed = options.resume !== undefined;
  try {
    await options.onStart({ workspaceId: ref.workspaceId, uploadId: ref.uploadId, assetId: ref.assetId, partSize, resumed });
  } catch (error) {
    if (!resumed) await service.abort(ref).catch(() => {});
    throw error;
  }
}

function readSettings(options: UploadOptions, deps: UploadDependencies): Settings {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const retries = options.retries ?? DEFAULT_RETRIES;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new UploadError('INVALID_PARAMETER', `concurrency must be a whole number of at least 1, got ${concurrency}`);
  }
  if (!Number.isInteger(retries) || retries < 0) {
    throw new UploadError('INVALID_PARAMETER', `retries must be a whole number of at least 0, got ${retries}`);
  }
  const streaming = options.streamParts ?? isNode();
  return {
    concurrency,
    retry: { retries, delay: { ...DEFAULT_RETRY_DELAY, ...options.retryDelay } },
    streaming,
    xhr: !streaming && deps.partsWithXhr,
  };
}
