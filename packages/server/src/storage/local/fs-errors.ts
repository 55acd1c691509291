import { AppError, isAppError } from '../../errors.js';

export function fsErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** "Nothing there": the file, or a folder on its way, does not exist. */
export function isMissing(error: unknown): boolean {
  const code = fsErrorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * A failure of the local disk. It carries the store-failure code every store answers with (the
 * documented S3_ERROR, 502), but its message says what failed: the disk, not S3.
 */
export function diskFailure(what: string, options: { cause?: unknown } = {}): AppError {
  return new AppError('S3_ERROR', `local disk store failed: ${what}`, options);
}

/**
 * The driver's one translation of unexpected fs failures into the store-failure code. AppErrors
 * pass through untouched. The message names the action and errno code but never a path, because
 * it reaches HTTP clients.
 */
export function storageFailed(action: string, error: unknown): AppError {
  if (isAppError(error)) return error;
  const code = fsErrorCode(error);
  return diskFailure(`${action}${code ? ` (${code})` : ''}`, { cause: error });
}

/** Runs `task`, translating whatever it throws with `storageFailed`. */
export async function translateFsErrors<T>(action: string, task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (error) {
    throw storageFailed(action, error);
  }
}
