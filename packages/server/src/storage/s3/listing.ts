import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { quoteEtag } from '../multipart.js';
import type { ListObjectsOptions, ObjectPage, ObjectSummary, WalkObjectsOptions } from '../store.js';
import type { S3Context } from './context.js';
import { toStoreError } from './errors.js';
import { headObject } from './objects.js';

/** HEADs in flight per page: enough to hide latency, few enough to stay polite to S3. */
const HEAD_CONCURRENCY = 8;

/**
 * One ListObjectsV2 page. The listing has no content types, so each listed object is HEADed;
 * the continuation token is the cursor.
 */
export async function listObjects(s3: S3Context, prefix: string, options: ListObjectsOptions): Promise<ObjectPage> {
  let output: ListObjectsV2CommandOutput;
  try {
    output = await s3.client.send(
      new ListObjectsV2Command({
        Bucket: s3.bucket,
        Prefix: prefix,
        Delimiter: '/',
        MaxKeys: options.limit,
        ContinuationToken: options.cursor,
      }),
    );
  } catch (error) {
    throw toStoreError(error, 'ListObjectsV2', {
      InvalidArgument: { code: 'INVALID_PARAMETER', message: 'cursor: not a cursor of this listing' },
    });
  }
  const limit = pLimit(HEAD_CONCURRENCY);
  const keys = (output.Contents ?? []).flatMap((item) => (item.Key ? [item.Key] : []));
  const infos = await Promise.all(keys.map((key) => limit(() => headObject(s3, key))));
  const objects = infos.filter((info) => info !== null);
  return output.IsTruncated && output.NextContinuationToken ? { objects, nextCursor: output.NextContinuationToken } : { objects };
}

/** S3's largest page. */
const WALK_PAGE = 1000;

/**
 * The whole bucket in key order: ListObjectsV2 without a delimiter, so every workspace's keys come
 * in one walk, and StartAfter resumes it at any key. Nothing is HEADed: the listing carries size,
 * ETag and date, and the caller asks for the rest of the objects it needs.
 */
export async function* walkObjects(s3: S3Context, options: WalkObjectsOptions = {}): AsyncIterable<ObjectSummary> {
  let token: string | undefined;
  for (;;) {
    let output: ListObjectsV2CommandOutput;
    try {
      output = await s3.client.send(
        new ListObjectsV2Command({
          Bucket: s3.bucket,
          MaxKeys: WALK_PAGE,
          ContinuationToken: token,
          StartAfter: token === undefined ? options.afterKey || undefined : undefined,
        }),
      );
    } catch (error) {
      throw toStoreError(error, 'ListObjectsV2');
    }
    for (const item of output.Contents ?? []) {
      if (!item.Key) continue;
      yield {
        key: item.Key,
        size: item.Size ?? 0,
        etag: quoteEtag(item.ETag ?? ''),
        lastModified: item.LastModified ?? new Date(s3.now()),
      };
    }
    // A server that claims more pages without a token would otherwise loop forever.
    if (!output.IsTruncated || !output.NextContinuationToken || output.NextContinuationToken === token) return;
    token = output.NextContinuationToken;
  }
}
