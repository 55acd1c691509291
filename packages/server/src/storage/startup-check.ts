import { isAbsolute, resolve } from 'node:path';
import { type Config, ConfigError, showSetting } from '../config.js';
import { toAppError } from '../errors.js';
import { checkReadyWithin, type NotReadyReason, StoreNotReadyError } from './not-ready.js';
import type { ObjectStore } from './store.js';

/**
 * Refuses to start on a store that cannot serve, with one line naming the setting to fix: a
 * server that starts anyway would only fail every request and look healthy to whoever started it.
 * Given the store's promise (createStore), opening it counts too, under the same deadline: the
 * local store prepares its folder while opening, and a folder that hangs must not hang the start.
 */
export async function assertStoreReachable(
  store: ObjectStore | Promise<ObjectStore>,
  storage: Config['storage'],
  timeoutMs: number,
): Promise<ObjectStore> {
  const opening = Promise.resolve(store);
  try {
    await checkReadyWithin(async (check) => (await opening).checkReady(check), timeoutMs);
    return await opening;
  } catch (error) {
    const reason = error instanceof StoreNotReadyError ? error.reason : 'failed';
    const detail = toAppError(error).message.replace(/\s*\n\s*/g, ' ');
    throw new ConfigError(
      storage.kind === 'local' ? localAdvice(storage.dir, reason, detail) : s3Advice(storage, reason, timeoutMs, detail),
    );
  }
}

function localAdvice(dir: string, reason: NotReadyReason, detail: string): string {
  const setting = `${showSetting('STORAGE_DIR', dir)}${isAbsolute(dir) ? '' : ` (${resolve(dir)})`}`;
  switch (reason) {
    case 'not-a-folder':
      return `${setting}: ${detail}; point STORAGE_DIR at a folder (a missing one is created)`;
    case 'access-denied':
      return `${setting}: ${detail}; choose a writable folder, or let the user running s3-service write there`;
    case 'missing-folder':
      return `${setting}: ${detail}; choose a folder on a disk (not under /proc or /sys, not behind a dangling link)`;
    case 'timeout':
      return `${setting}: ${detail}; is the disk or network mount hanging?`;
    default:
      return `${setting}: ${detail}`;
  }
}

function s3Advice(storage: Extract<Config['storage'], { kind: 's3' }>, reason: NotReadyReason, timeoutMs: number, detail: string): string {
  const where = storage.endpoint ?? `AWS S3 in ${storage.region}`;
  const endpoint = storage.endpoint ? showSetting('AWS_ENDPOINT_URL', storage.endpoint) : 'AWS_ENDPOINT_URL=(unset: AWS S3)';
  switch (reason) {
    case 'missing-bucket':
      return `AWS_BUCKET=${storage.bucket}: no such bucket at ${where} (create it, or check AWS_BUCKET and AWS_ENDPOINT_URL) (${detail})`;
    case 'access-denied':
      return `AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: these credentials may not use bucket ${storage.bucket} (AWS_BUCKET) (${detail})`;
    case 'no-credentials':
      return (
        'AWS_ACCESS_KEY_ID=(unset), AWS_SECRET_ACCESS_KEY=(unset): no credentials, and the AWS SDK found none elsewhere ' +
        `(AWS_PROFILE, ~/.aws, web identity, instance or task role); set both, or AWS_PROFILE (${detail})`
      );
    case 'unreachable':
      return `${endpoint}: nothing answers there (${detail})`;
    case 'timeout':
      return `${endpoint}: S3 did not answer within ${timeoutMs} ms (${detail})`;
    default:
      return `AWS_BUCKET=${storage.bucket}, AWS_DEFAULT_REGION=${storage.region}, ${endpoint}: the bucket cannot be used (${detail})`;
  }
}
