import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isAppError } from '../../errors.js';
import { StoreNotReadyError } from '../not-ready.js';
import { fsErrorCode } from './fs-errors.js';
import type { Layout } from './layout.js';
import { type SweepContext, sweepOrphans } from './orphan-sweep.js';
import { loadSigningSecret } from './signing-secret.js';

/**
 * Makes the data folder ready at start: its folders exist, what earlier crashes left is swept
 * (see sweepOrphans: only entries older than `orphanAgeMs`, since another process may be working
 * on the same folder; no sweep without it), the signing secret is loaded. Failures are StoreNotReadyErrors with a
 * reason, which the start-up check turns into advice naming STORAGE_DIR; messages name no path, as
 * the driver's messages never do.
 */
export async function openDataFolder(
  context: SweepContext,
  signingSecret: string | undefined,
  orphanAgeMs: number | undefined,
): Promise<Buffer> {
  const { layout } = context;
  try {
    for (const folder of [layout.root, ...layout.folders]) await makeFolder(folder);
    if (orphanAgeMs !== undefined) await sweepOrphans(context, orphanAgeMs);
    return await loadSigningSecret(layout, signingSecret);
  } catch (error) {
    throw await cannotOpen(error, layout);
  }
}

async function cannotOpen(error: unknown, layout: Layout): Promise<StoreNotReadyError> {
  const code = fsErrorCode(error) ?? fsErrorCode(isAppError(error) ? error.cause : undefined);
  if (code === 'ENOTDIR') {
    const rootIsFile = await stat(layout.root).then(
      (info) => !info.isDirectory(),
      () => false,
    );
    const message = rootIsFile
      ? 'the data folder is a file (ENOTDIR)'
      : 'a file stands where the data folder or one of its folders must be (ENOTDIR)';
    return new StoreNotReadyError('not-a-folder', message, { cause: error });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new StoreNotReadyError('access-denied', `this process may not write the data folder (${code})`, { cause: error });
  }
  if (code === 'ENOENT') {
    return new StoreNotReadyError('missing-folder', 'the data folder cannot be created there (ENOENT)', { cause: error });
  }
  const message = isAppError(error) ? error.message : `the data folder cannot be used${code ? ` (${code})` : ''}`;
  return new StoreNotReadyError('failed', message, { cause: error });
}

/**
 * `mkdir -p` that always ends. Node's recursive mkdir goes back to the parent on ENOENT and
 * forward again once the parent exists, forever when the parent exists but still takes no child:
 * a path under /proc (procfs answers ENOENT) or behind a dangling symlink hung the start. Here each
 * folder on the way is tried at most twice. Something that exists but is no folder is ENOTDIR.
 */
export async function makeFolder(path: string): Promise<void> {
  try {
    await mkdir(path);
    return;
  } catch (error) {
    if (fsErrorCode(error) === 'EEXIST') return assertFolder(path);
    if (fsErrorCode(error) !== 'ENOENT' || dirname(path) === path) throw error;
  }
  await makeFolder(dirname(path));
  try {
    await mkdir(path);
  } catch (error) {
    if (fsErrorCode(error) === 'EEXIST') return assertFolder(path);
    throw error;
  }
}

/** `stat` follows links, so a dangling one fails here with ENOENT rather than passing as a folder. */
async function assertFolder(path: string): Promise<void> {
  if (!(await stat(path)).isDirectory()) {
    throw Object.assign(new Error(`not a folder: ${path}`), { code: 'ENOTDIR' });
  }
}
