import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { type NotReadyReason, StoreNotReadyError } from '../not-ready.js';
import type { CheckReadyOptions } from '../store.js';
import type { S3Context } from './context.js';
import { toStoreError } from './errors.js';

/**
 * HEAD on the bucket: the cheapest request that proves endpoint, credentials and bucket together.
 * HEAD answers have no body, so the SDK can only name failures by status.
 */
export async function checkS3Ready(s3: S3Context, options: CheckReadyOptions = {}): Promise<void> {
  try {
    await s3.client.send(new HeadBucketCommand({ Bucket: s3.bucket }), { abortSignal: options.signal });
  } catch (error) {
    const reason = notReadyReason(error, options.signal);
    // No request was sent, so toStoreError's "could not reach S3" would blame the endpoint.
    const detail = reason === 'no-credentials' ? sdkMessage(error) : toStoreError(error, 'HeadBucket').message;
    throw new StoreNotReadyError(reason, `${describe(reason, s3.bucket)}: ${detail}`, { cause: error });
  }
}

function notReadyReason(error: unknown, signal: AbortSignal | undefined): NotReadyReason {
  if (signal?.aborted) return 'timeout';
  const failure = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  // The default provider chain (env, profile, web identity, instance or task role) found nothing.
  if (failure.name === 'CredentialsProviderError') return 'no-credentials';
  const status = failure.$metadata?.httpStatusCode;
  if (status === 404 || failure.name === 'NoSuchBucket' || failure.name === 'NotFound') return 'missing-bucket';
  if (status === 403 || status === 401) return 'access-denied';
  // Any other answer (a redirect to the bucket's region, a 5xx) proves the endpoint is there.
  if (status !== undefined) return 'failed';
  const timedOut = failure.name === 'TimeoutError' && failure.code !== 'ECONNRESET' && failure.code !== 'EPIPE';
  return timedOut ? 'timeout' : 'unreachable';
}

function describe(reason: NotReadyReason, bucket: string): string {
  switch (reason) {
    case 'missing-bucket':
      return `bucket "${bucket}" does not exist`;
    case 'access-denied':
      return `access to bucket "${bucket}" was denied`;
    case 'no-credentials':
      return 'no S3 credentials were found';
    case 'timeout':
      return 'S3 did not answer in time';
    case 'unreachable':
      return 'S3 could not be reached';
    default:
      return `bucket "${bucket}" cannot be used`;
  }
}

function sdkMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error);
}
