import { randomBytes } from 'node:crypto';
import { createS3Store, type S3StoreOptions } from '../../src/storage/s3/index.js';
import type { ObjectStore } from '../../src/storage/store.js';
import type { S3Emulator } from './s3-emulator.js';

/** Driver options that reach the test server. */
export function s3StoreOptions(emulator: S3Emulator, extra: Partial<S3StoreOptions> = {}): S3StoreOptions {
  return {
    bucket: emulator.bucket,
    region: emulator.region,
    endpoint: emulator.endpoint,
    forcePathStyle: emulator.forcePathStyle,
    credentials: { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey },
    ...extra,
  };
}

/**
 * The conformance suite's harness factory: a fresh store on the shared server per test, its
 * clock under the test's control. All stores share one bucket; keys come from the suite.
 */
export function s3Harness(emulator: S3Emulator) {
  return async (options: { now: () => number }): Promise<{ store: ObjectStore; close(): Promise<void> }> => {
    const store = createS3Store(s3StoreOptions(emulator, { now: options.now }));
    return { store, close: async () => store.close?.() };
  };
}

/** A key in the documented layout, unique per call so tests on one bucket never collide. */
export function uniqueAssetKey(workspaceId = 'ws-s3test'): string {
  return `${workspaceId}/digital_assets/${randomBytes(12).toString('base64url').replace(/^[-_]/, 'a')}`;
}
