import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessPolicy } from '../../../../packages/server/src/auth/policy.js';
import { createLocalStore } from '../../../../packages/server/src/storage/local/index.js';
import { createS3Store } from '../../../../packages/server/src/storage/s3/index.js';
import type { ObjectStore } from '../../../../packages/server/src/storage/store.js';
import { isSkipped, startS3Emulator } from '../../../../packages/server/test/support/s3-emulator.js';
import { s3StoreOptions } from '../../../../packages/server/test/support/s3-harness.js';
import { startServer, type TestServer } from '../../../../packages/server/test/support/server.js';
import { type PartGate, startPartGate } from './part-gate.js';

/** The API over one store, with the store's signed URLs pointing at a gate the test controls. */
export interface Stack {
  apiUrl: string;
  store: ObjectStore;
  gate: PartGate;
  close(): Promise<void>;
}

export type StackResult = Stack | { skipped: string };

export interface LocalStackOptions {
  /** Who may use which workspace; default everyone. */
  policy?: AccessPolicy;
  /** An admin's token, for applying the bucket's CORS rules when a policy checks tokens. */
  adminToken?: string;
}

/** The local-disk store: the API serves its signed URLs, reached here through the gate. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<Stack> {
  const gate = await startPartGate();
  const server = await startServer(
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 's3-service-web-e2e-'));
      const store = await createLocalStore({ dir, publicUrl: () => gate.url });
      return { store, close: () => rm(dir, { recursive: true, force: true }) };
    },
    options.policy ? { policy: options.policy } : {},
  );
  gate.target = server.url;
  return ready(server, gate, async () => {}, options.adminToken);
}

/** The S3 driver against versitygw, whose endpoint (for the API and the browser alike) is the gate. */
export async function startS3Stack(): Promise<StackResult> {
  const emulator = await startS3Emulator();
  if (isSkipped(emulator)) return emulator;
  // The gate speaks plain HTTP and passes its own Host on; a server on this machine accepts that,
  // a remote one (S3_TEST_ENDPOINT at AWS) would refuse the signatures.
  if (!/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(emulator.endpoint)) {
    await emulator.stop();
    return { skipped: `the browser tests reach S3 through a local gate; ${emulator.endpoint} is not on this machine` };
  }
  const gate = await startPartGate(emulator.endpoint);
  const server = await startServer(async () => ({ store: createS3Store(s3StoreOptions(emulator, { endpoint: gate.url })) }));
  return ready(server, gate, () => emulator.stop());
}

/**
 * The documented first step of a deployment for browsers: the bucket's default CORS rules, so
 * that the page (another origin) may PUT parts and read their ETags.
 */
async function ready(server: TestServer, gate: PartGate, stopStore: () => Promise<void>, adminToken?: string): Promise<Stack> {
  const close = async () => {
    gate.cutHeld();
    await server.close();
    await gate.close();
    await stopStore();
  };
  const answer = await fetch(`${server.url}/s3/updateBucketConfig`, {
    method: 'POST',
    headers: adminToken ? { authorization: `Bearer ${adminToken}` } : {},
  });
  if (answer.status !== 200) {
    const body = await answer.text();
    await close();
    throw new Error(`POST /s3/updateBucketConfig answered ${answer.status}: ${body}`);
  }
  return { apiUrl: server.url, store: server.store, gate, close };
}
