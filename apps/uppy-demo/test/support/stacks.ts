import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CorsRule } from '../../../../packages/server/src/schemas.js';
import { createLocalStore } from '../../../../packages/server/src/storage/local/index.js';
import { createS3Store } from '../../../../packages/server/src/storage/s3/index.js';
import type { ObjectStore } from '../../../../packages/server/src/storage/store.js';
import { isSkipped, startS3Emulator } from '../../../../packages/server/test/support/s3-emulator.js';
import { s3StoreOptions } from '../../../../packages/server/test/support/s3-harness.js';
import { startServer, type TestAppOptions, type TestServer } from '../../../../packages/server/test/support/server.js';
import { type PartGate, startPartGate } from '../../../web/test/support/part-gate.js';

/** The API over one store for a page on `pageOrigin`, with the store's part URLs pointing at a gate the test controls. */
export interface Stack {
  kind: 'local' | 's3';
  apiUrl: string;
  store: ObjectStore;
  gate: PartGate;
  close(): Promise<void>;
}

export type StackResult = Stack | { skipped: string };

/** UPPY_CAPABILITY_SECRET of every test API, so an app's backend can mint with `mintUppyCapability` too. */
export const UPPY_CAPABILITY_SECRET = 'uppy-demo-tests-capability-secret-0123456789';

/**
 * What a deployment for a page on another origin sets: the API admits that origin (and only
 * it), and the bucket lets it PUT parts and read their ETags.
 */
function appOptionsFor(pageOrigin: string, extra: TestAppOptions): TestAppOptions {
  return { corsOrigins: [pageOrigin], uppy: { capabilitySecret: UPPY_CAPABILITY_SECRET }, ...extra };
}

function bucketCorsFor(pageOrigin: string): CorsRule[] {
  return [{ AllowedOrigins: [pageOrigin], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] }];
}

/** The local-disk store: the API serves its signed part URLs, reached here through the gate. */
export async function startLocalStack(pageOrigin: string, extra: TestAppOptions = {}): Promise<Stack> {
  const gate = await startPartGate();
  const server = await startServer(
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 's3-service-uppy-e2e-'));
      const store = await createLocalStore({ dir, publicUrl: () => gate.url });
      return { store, close: () => rm(dir, { recursive: true, force: true }) };
    },
    appOptionsFor(pageOrigin, extra),
  );
  gate.target = server.url;
  return ready('local', server, gate, pageOrigin, async () => {});
}

/**
 * The S3 driver against versitygw, whose endpoint (for the API and the browser alike) is the gate.
 * versitygw even when S3_TEST_ENDPOINT names another server: the gate passes its own Host on, which
 * only a server on this machine accepts, and the test sets the bucket's CORS rules, which MinIO lacks.
 */
export async function startS3Stack(pageOrigin: string, extra: TestAppOptions = {}): Promise<StackResult> {
  const emulator = await startS3Emulator({ server: 'versitygw' });
  if (isSkipped(emulator)) return emulator;
  const gate = await startPartGate(emulator.endpoint);
  const server = await startServer(
    async () => ({ store: createS3Store(s3StoreOptions(emulator, { endpoint: gate.url })) }),
    appOptionsFor(pageOrigin, extra),
  );
  return ready('s3', server, gate, pageOrigin, () => emulator.stop());
}

async function ready(
  kind: Stack['kind'],
  server: TestServer,
  gate: PartGate,
  pageOrigin: string,
  stopStore: () => Promise<void>,
): Promise<Stack> {
  const close = async () => {
    gate.cutHeld();
    await server.close();
    await gate.close();
    await stopStore();
  };
  try {
    await server.store.putCorsRules(bucketCorsFor(pageOrigin));
  } catch (error) {
    await close();
    throw error;
  }
  return { kind, apiUrl: server.url, store: server.store, gate, close };
}
