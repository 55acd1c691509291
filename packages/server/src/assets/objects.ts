import type { AssetRecord } from '../catalog/catalog.js';
import { formatChecksum, parseChecksum } from '../storage/checksum.js';
import { parseAssetKey } from '../storage/keys.js';
import type { AssetDependencies } from './deps.js';

/**
 * The asset at `key` as the catalogue knows it. An object the catalogue has no row for (written
 * before it existed, or by a complete whose catalogue write was lost) is looked up in the store and
 * recorded, so that the next listing shows it too.
 */
export async function findAsset(deps: AssetDependencies, workspaceId: string, key: string): Promise<AssetRecord | null> {
  const known = await deps.catalog.findAsset(workspaceId, key);
  if (known) return known;
  const object = await deps.store.headObject(key);
  if (!object) return null;
  const asset: AssetRecord = {
    workspaceId,
    assetId: parseAssetKey(workspaceId, key).assetId,
    key,
    fileName: null,
    fileType: object.contentType,
    size: object.size,
    etag: object.etag,
    checksum: object.checksum ? formatChecksum(object.checksum) : null,
    createdAt: object.lastModified,
    createdBy: null,
  };
  await deps.catalog.importAsset(asset);
  return asset;
}

/**
 * The object goes first, then its row: a crash in between leaves a row whose object is gone, which
 * reconciliation (catalog:sync) removes. The other order could leave an object no listing reaches.
 */
export async function deleteAsset(deps: AssetDependencies, workspaceId: string, key: string, actor: string | null = null): Promise<void> {
  await deps.store.deleteObject(key);
  await deps.catalog.deleteAsset(workspaceId, key, actor);
}

/**
 * An asset's checksum as answers carry it, spelled out field by field: its type is then written
 * into the client's declarations in full, naming no server module.
 */
export function describeChecksum(text: string | null) {
  const checksum = parseChecksum(text);
  return checksum ? { algorithm: checksum.algorithm, type: checksum.type, value: checksum.value } : null;
}

/** How procedures answer with an asset: the object's fields as before, plus what the catalogue adds. */
export function describeAsset(asset: AssetRecord) {
  return {
    key: asset.key,
    assetId: asset.assetId,
    fileName: asset.fileName,
    size: asset.size,
    contentType: asset.fileType,
    etag: asset.etag,
    /** S3's COMPOSITE SHA-256 for objects uploaded with checksummed parts, else null. */
    checksum: describeChecksum(asset.checksum),
    lastModified: asset.createdAt,
    createdBy: asset.createdBy,
  };
}
