import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3StoreConfig } from '../../config.js';

/** Time limits on each HTTP exchange with S3, in milliseconds. */
export interface S3Timeouts {
  /** To open the TCP (and TLS) connection: an unreachable endpoint fails after this. */
  connect: number;
  /** From sending the request to S3's response headers: a server that accepts and stalls fails after this. */
  response: number;
  /**
   * Longest silence on the socket, also while an object body streams: a body that stops
   * mid-way errors instead of hanging. It also ends a download whose reader stays paused this long.
   */
  idle: number;
}

/**
 * Generous enough for CompleteMultipartUpload of many parts (S3 sends its headers early and
 * keeps the connection alive with whitespace) and for slow readers, short enough that a dead
 * endpoint is noticed within one HTTP request of the caller's.
 */
export const DEFAULT_S3_TIMEOUTS: S3Timeouts = { connect: 5_000, response: 30_000, idle: 60_000 };

export type S3ClientOptions = Omit<S3StoreConfig, 'kind' | 'bucket'> & { timeouts?: Partial<S3Timeouts> };

export function createS3Client(options: S3ClientOptions): S3Client {
  const timeouts = { ...DEFAULT_S3_TIMEOUTS, ...options.timeouts };
  const config: S3ClientConfig = {
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    // Recent SDKs add CRC32 checksums to every request they can. A presigned UploadPart URL would
    // then carry the checksum of an empty body, which S3 refuses once the browser PUTs real bytes;
    // several S3-compatible servers also reject or mis-handle the trailing checksum encoding.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    // Ranged and multipart GETs have no whole-object checksum to validate against.
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Throttling (503 SlowDown) and transient 5xx answers are retried with jittered backoff.
    maxAttempts: 3,
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: timeouts.connect,
      requestTimeout: timeouts.response,
      // Without this the SDK only logs a warning when requestTimeout passes and keeps waiting.
      throwOnRequestTimeout: true,
      socketTimeout: timeouts.idle,
    },
  };
  if (options.endpoint) config.endpoint = options.endpoint;
  // Absent credentials leave the SDK's default provider chain (env, profile, instance role) in charge.
  if (options.credentials) config.credentials = options.credentials;
  return new S3Client(config);
}
