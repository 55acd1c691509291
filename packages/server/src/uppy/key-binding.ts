import { AppError } from '../errors.js';
import { parseAssetKey, parseServiceKey } from '../storage/keys.js';

/**
 * The asset a `key` of Uppy's requests names. Uppy echoes back the key the server gave it, but
 * anyone holding the endpoint can send any key: only an asset key of the capability's workspace
 * passes. Another workspace's key is FORBIDDEN (the capability does not reach it); anything else
 * is malformed, as on the /s3 paths.
 */
export function assetOfKey(workspaceId: string, key: unknown): string {
  if (key === undefined || key === '') throw new AppError('MISSING_PARAMETER', 'key: is required');
  if (typeof key !== 'string') throw new AppError('INVALID_PARAMETER', 'key: must be given once');
  const owner = parseServiceKey(key)?.workspaceId;
  if (owner !== undefined && owner !== workspaceId) {
    throw new AppError('FORBIDDEN', `this upload capability may not use workspace ${owner}`);
  }
  return parseAssetKey(workspaceId, key).assetId;
}
