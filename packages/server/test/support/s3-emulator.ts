import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { findBinary } from './s3-binaries.js';
import { MINIO_INSTALL_HINT, startMinio } from './s3-minio.js';
import type { S3ServerProcess } from './s3-server-process.js';
import { startVersitygw, VERSITYGW_INSTALL_HINT } from './s3-versitygw.js';

export { MINIO_INSTALL_HINT, VERSITYGW_INSTALL_HINT };

/** The real S3 servers the tests can start on this machine. */
export const S3_SERVERS = ['versitygw', 'minio'] as const;
export type S3ServerName = (typeof S3_SERVERS)[number];

/** Where a test S3 server listens and how to sign for it. */
export interface S3Emulator {
  server: S3ServerChoice;
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  region: string;
  /** Bucket in the path: what local servers need; AWS still accepts it. */
  forcePathStyle: boolean;
  /**
   * Whether the server has S3's bucket CORS API (PutBucketCors). MinIO has not: it answers
   * 501 NotImplemented and applies its own server-wide CORS to every bucket.
   */
  bucketCorsApi: boolean;
  /** Stops the server and removes its files; a no-op for an external endpoint. */
  stop(): Promise<void>;
}

export type S3EmulatorResult = S3Emulator | { skipped: string };

/** A server to start, or `external`: the endpoint S3_TEST_ENDPOINT names. */
export type S3ServerChoice = S3ServerName | 'external';

export interface StartS3EmulatorOptions {
  /** By default S3_TEST_ENDPOINT when it is set, else versitygw. */
  server?: S3ServerChoice;
}

const REGION = 'us-east-1';

const SERVERS: Record<
  S3ServerName,
  { binary: string; envVariable: string; hint: string; bucketCorsApi: boolean; start(binary: string): Promise<S3ServerProcess> }
> = {
  versitygw: {
    binary: 'versitygw',
    envVariable: 'VERSITYGW_BIN',
    hint: VERSITYGW_INSTALL_HINT,
    bucketCorsApi: true,
    start: startVersitygw,
  },
  minio: { binary: 'minio', envVariable: 'MINIO_BIN', hint: MINIO_INSTALL_HINT, bucketCorsApi: false, start: startMinio },
};

/**
 * The servers a suite runs against (`describe.each(s3ServersUnderTest())`): every local one, or
 * only the endpoint S3_TEST_ENDPOINT names, which stands in for all of them.
 */
export function s3ServersUnderTest(): S3ServerChoice[] {
  return process.env.S3_TEST_ENDPOINT ? ['external'] : [...S3_SERVERS];
}

/**
 * A real S3 server for the driver tests, one that verifies SigV4 signatures and presigned-URL
 * expiry. `S3_TEST_ENDPOINT` (with S3_TEST_ACCESS_KEY_ID, S3_TEST_SECRET_ACCESS_KEY,
 * S3_TEST_BUCKET, S3_TEST_REGION, S3_TEST_FORCE_PATH_STYLE, and S3_TEST_BUCKET_CORS=false for a
 * server without the bucket CORS API) points the suite at AWS or any other server; otherwise the
 * chosen server (versitygw unless told) serves a temporary folder. A missing binary skips the
 * tests, with the reason, on a developer's machine, and fails them in CI, where `.ci/run` installs it.
 */
export async function startS3Emulator(options: StartS3EmulatorOptions = {}): Promise<S3EmulatorResult> {
  const choice = options.server ?? (process.env.S3_TEST_ENDPOINT ? 'external' : 'versitygw');
  if (choice === 'external') {
    const external = externalEndpoint();
    if (!external) throw new Error('server: external needs S3_TEST_ENDPOINT');
    await ensureBucket(external);
    return external;
  }
  const name = choice;
  const server = SERVERS[name];
  const binary = await findBinary(server.binary, server.envVariable);
  if (!binary) {
    if (process.env.CI) throw new Error(server.hint);
    return { skipped: server.hint };
  }
  const running = await server.start(binary);
  const emulator: S3Emulator = {
    server: name,
    endpoint: running.endpoint,
    accessKeyId: running.accessKeyId,
    secretAccessKey: running.secretAccessKey,
    bucket: `s3-service-test-${randomBytes(4).toString('hex')}`,
    region: REGION,
    forcePathStyle: true,
    bucketCorsApi: server.bucketCorsApi,
    stop: running.stop,
  };
  try {
    await ensureBucket(emulator);
  } catch (error) {
    await emulator.stop();
    throw error;
  }
  return emulator;
}

export function isSkipped(result: S3EmulatorResult): result is { skipped: string } {
  return 'skipped' in result;
}

function externalEndpoint(): S3Emulator | undefined {
  const env = process.env;
  if (!env.S3_TEST_ENDPOINT) return undefined;
  const missing = ['S3_TEST_ACCESS_KEY_ID', 'S3_TEST_SECRET_ACCESS_KEY', 'S3_TEST_BUCKET'].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`S3_TEST_ENDPOINT is set but ${missing.join(', ')} is not`);
  return {
    server: 'external',
    endpoint: env.S3_TEST_ENDPOINT,
    accessKeyId: env.S3_TEST_ACCESS_KEY_ID!,
    secretAccessKey: env.S3_TEST_SECRET_ACCESS_KEY!,
    bucket: env.S3_TEST_BUCKET!,
    region: env.S3_TEST_REGION || REGION,
    forcePathStyle: env.S3_TEST_FORCE_PATH_STYLE !== 'false',
    bucketCorsApi: env.S3_TEST_BUCKET_CORS !== 'false',
    stop: async () => {},
  };
}

/** An SDK client of the test server's root user, for what a test does behind the service's back; destroy it after. */
export function emulatorClient(target: S3Emulator): S3Client {
  return new S3Client({
    endpoint: target.endpoint,
    region: target.region,
    forcePathStyle: target.forcePathStyle,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
  });
}

/** Creates the test bucket; an existing bucket of ours (external endpoints) is fine. */
async function ensureBucket(target: S3Emulator): Promise<void> {
  const client = emulatorClient(target);
  try {
    await client.send(new CreateBucketCommand({ Bucket: target.bucket }));
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
  } finally {
    client.destroy();
  }
}

/** The variables that point an API process (apps/api) at this emulator. */
export function apiEnvFor(emulator: S3Emulator): Record<string, string> {
  return {
    AWS_BUCKET: emulator.bucket,
    AWS_ENDPOINT_URL: emulator.endpoint,
    AWS_DEFAULT_REGION: emulator.region,
    AWS_ACCESS_KEY_ID: emulator.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emulator.secretAccessKey,
  };
}
