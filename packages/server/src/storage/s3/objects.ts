import { addAbortSignal, Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, type GetObjectCommandOutput, HeadObjectCommand } from '@aws-sdk/client-s3';
import { AppError } from '../../errors.js';
import { assertNotEmptySuffix } from '../byte-range.js';
import { compositeFromS3 } from '../checksum.js';
import { quoteEtag } from '../multipart.js';
import type { GetObjectOptions, ObjectBody, ObjectInfo } from '../store.js';
import type { S3Context } from './context.js';
import { type ExpectedFailures, toStoreError } from './errors.js';
import { parseContentRange, toRangeHeader } from './range.js';

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

const objectNotFound: ExpectedFailures = {
  NoSuchKey: { code: 'NOT_FOUND', message: 'no object at this key' },
  // HEAD answers carry no body, so the SDK names a 404 NotFound rather than NoSuchKey.
  NotFound: { code: 'NOT_FOUND', message: 'no object at this key' },
  '404': { code: 'NOT_FOUND', message: 'no object at this key' },
};

const readRefused: ExpectedFailures = {
  ...objectNotFound,
  InvalidRange: { code: 'RANGE_NOT_SATISFIABLE', message: 'the requested range lies outside the object' },
  '416': { code: 'RANGE_NOT_SATISFIABLE', message: 'the requested range lies outside the object' },
};

/**
 * Streams the object (or one range of it) from S3. The body is S3's own response stream: bytes
 * flow with backpressure and are never collected in memory. `signal` aborts the S3 request both
 * while waiting for headers and while the body streams.
 */
export async function getObject(s3: S3Context, key: string, options: GetObjectOptions = {}): Promise<ObjectBody> {
  const { range, signal } = options;
  assertNotEmptySuffix(range);
  let output: GetObjectCommandOutput;
  try {
    output = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key, Range: range ? toRangeHeader(range) : undefined }), {
      abortSignal: signal,
    });
  } catch (error) {
    throw toStoreError(error, 'GetObject', readRefused);
  }
  const body = output.Body;
  if (!(body instanceof Readable)) {
    throw new AppError('S3_ERROR', 'S3 GetObject answered without a readable body');
  }
  // After the headers, the SDK no longer watches the signal; the body must stop on its own.
  if (signal) addAbortSignal(signal, body);

  const served = parseContentRange(output.ContentRange);
  const size = served?.size ?? output.ContentLength ?? 0;
  // A 200 to a ranged request means S3 served every byte (the range covered the whole object).
  const wholeRange = range && size > 0 ? { start: 0, end: size - 1 } : undefined;
  const servedRange = served ? { start: served.start, end: served.end } : wholeRange;
  return {
    key,
    size,
    contentType: output.ContentType ?? DEFAULT_CONTENT_TYPE,
    etag: quoteEtag(output.ETag ?? ''),
    lastModified: output.LastModified ?? new Date(s3.now()),
    body,
    contentLength: output.ContentLength ?? (servedRange ? servedRange.end - servedRange.start + 1 : size),
    range: servedRange,
  };
}

export async function headObject(s3: S3Context, key: string): Promise<ObjectInfo | null> {
  try {
    // ChecksumMode asks for the checksum an object assembled from checksummed parts carries.
    const output = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key, ChecksumMode: 'ENABLED' }));
    const checksum = compositeFromS3(output.ChecksumSHA256);
    return {
      key,
      size: output.ContentLength ?? 0,
      contentType: output.ContentType ?? DEFAULT_CONTENT_TYPE,
      etag: quoteEtag(output.ETag ?? ''),
      lastModified: output.LastModified ?? new Date(s3.now()),
      ...(checksum ? { checksum } : {}),
      ...(output.Metadata && Object.keys(output.Metadata).length > 0 ? { metadata: output.Metadata } : {}),
    };
  } catch (error) {
    const storeError = toStoreError(error, 'HeadObject', objectNotFound);
    if (storeError.appCode === 'NOT_FOUND') return null;
    throw storeError;
  }
}

/** S3 answers 204 whether or not the key existed, which is the interface's promise too. */
export async function deleteObject(s3: S3Context, key: string): Promise<void> {
  try {
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key }));
  } catch (error) {
    throw toStoreError(error, 'DeleteObject');
  }
}
