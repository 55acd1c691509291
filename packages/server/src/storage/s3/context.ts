import type { S3Client } from '@aws-sdk/client-s3';

/** What every S3 operation of the driver needs; built once per store. */
export interface S3Context {
  client: S3Client;
  bucket: string;
  /** Milliseconds since the epoch; signs URLs, so tests can mint already-expired ones. */
  now: () => number;
}
