import { randomBytes } from 'node:crypto';
import { AppError } from '../errors.js';
import { assetId as assetIdSchema, workspaceId as workspaceIdSchema } from '../schemas.js';

const ASSET_FOLDER = 'digital_assets';

/** The documented layout: `{workspaceId}/digital_assets/{assetId}`. */
export function assetKey(workspaceId: string, assetId: string): string {
  return `${workspaceId}/${ASSET_FOLDER}/${assetId}`;
}

/** Where a workspace's assets live: every asset key starts with this. */
export function assetPrefix(workspaceId: string): string {
  return `${workspaceId}/${ASSET_FOLDER}/`;
}

/** 128 random bits, URL- and path-safe: unguessable, so one asset's key reveals no other. */
export function newAssetId(): string {
  return randomBytes(16).toString('base64url').replace(/^[-_]/, 'a');
}

/**
 * Accepts a caller-supplied key only when it is exactly an asset key of `workspaceId`. Anything
 * else (traversal, encoded separators, another workspace's prefix) is refused before any store call.
 */
export function parseAssetKey(workspaceId: string, key: string): { key: string; assetId: string } {
  const prefix = assetPrefix(workspaceId);
  if (!key.startsWith(prefix)) {
    throw new AppError('INVALID_PARAMETER', `key: must be a key of workspace ${workspaceId} (${prefix}<assetId>)`);
  }
  const assetId = key.slice(prefix.length);
  if (!assetIdSchema.safeParse(assetId).success) {
    throw new AppError('INVALID_PARAMETER', 'key: must end in an asset id returned by start-upload');
  }
  return { key, assetId };
}

/**
 * The workspace and asset of a key found in the store, or undefined for a key outside the layout
 * (another program's object in a shared bucket): `{workspaceId}/digital_assets/{assetId}` with valid ids.
 */
export function parseServiceKey(key: string): { workspaceId: string; assetId: string } | undefined {
  const workspaceId = key.split('/', 1)[0] ?? '';
  if (!workspaceIdSchema.safeParse(workspaceId).success) return undefined;
  const prefix = assetPrefix(workspaceId);
  const assetId = key.slice(prefix.length);
  if (!key.startsWith(prefix) || !assetIdSchema.safeParse(assetId).success) return undefined;
  return { workspaceId, assetId };
}
