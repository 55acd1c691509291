import { resolve } from 'node:path';
import { ConfigError, type Config } from '../config.js';
import { toAppError } from '../errors.js';
import { checkReadyWithin, StoreNotReadyError, type NotReadyReason } from './not-ready.js';
import type { ObjectStore } from './store.js';

/**
 * Refuses to start on a store that cannot serve, with a message naming the setting to fix: a
 * server that starts anyway would only fail every request and look healthy to whoever started it.
 */
export async function assertStoreReachable(store: ObjectStore, storage: Config['storage'], timeoutMs: number): Promise<void> {
  try {
    await checkReadyWithin((check) => store.checkReady(check), timeoutMs);
  } catch (error) {
    const reason = error instanceof StoreNotReadyError ? error.reason : 'failed';
    const detail = toAppError(error).message;
    throw new ConfigError(`the object store is not reachable:\n  ${advice(storage, reason, timeoutMs)}\n  (${detail})`);
  }
}

function advice(storage: Config['storage'], reason: NotReadyReason, timeoutMs: number): string {
  if (storage.kind === 'local') {
    const dir = resolve(storage.dir);
    if (reason === 'access-denied') return `STORAGE_DIR=${dir}: this process may not write the data folder`;
    return `STORAGE_DIR=${dir}: the data folder cannot be used`;
  }
  const where = storage.endpoint ?? `AWS S3 in ${storage.region}`;
  switch (reason) {
    case 'missing-bucket':
      return `AWS_BUCKET=${storage.bucket}: no such bucket at ${where} (create it, or check AWS_BUCKET and AWS_ENDPOINT_URL)`;
    case 'access-denied':
      return `AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: these credentials may not use bucket ${storage.bucket} (AWS_BUCKET)`;
    case 'unreachable':
      return `AWS_ENDPOINT_URL=${storage.endpoint ?? '(unset: AWS S3)'}: nothing answers there`;
    case 'timeout':
      return `AWS_ENDPOINT_URL=${storage.endpoint ?? '(unset: AWS S3)'}: S3 did not answer within ${timeoutMs} ms`;
    default:
      return `AWS_BUCKET=${storage.bucket}, AWS_DEFAULT_REGION=${storage.region}, AWS_ENDPOINT_URL=${storage.endpoint ?? '(unset)'}: the bucket cannot be used`;
  }
}
