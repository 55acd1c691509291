import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { StoreNotReadyError } from '../not-ready.js';
import { fsErrorCode, isMissing } from './fs-errors.js';
import type { Layout } from './layout.js';

/**
 * The local store can serve when its folders exist and this process may write them: a deleted,
 * unmounted or read-only data folder fails here before it fails an upload.
 */
export async function checkLocalReady(layout: Layout): Promise<void> {
  for (const folder of [layout.root, ...layout.folders]) {
    try {
      await access(folder, constants.R_OK | constants.W_OK);
    } catch (error) {
      const code = fsErrorCode(error);
      if (isMissing(error))
        throw new StoreNotReadyError('missing-folder', 'the data folder or one of its subfolders is missing', { cause: error });
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
        throw new StoreNotReadyError('access-denied', `the data folder is not writable (${code})`, { cause: error });
      }
      throw new StoreNotReadyError('failed', `the data folder cannot be used${code ? ` (${code})` : ''}`, { cause: error });
    }
  }
}
