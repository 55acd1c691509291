import type { AssetRecord, Catalog, UploadRecord } from '../catalog/catalog.js';
import { AppError, isAppError } from '../errors.js';
import { type ChecksumAlgorithm, formatChecksum, type ObjectChecksum, parseChecksum } from '../storage/checksum.js';
import { assetKey, newAssetId } from '../storage/keys.js';
import { multipartEtag } from '../storage/multipart.js';
import type { CompletedPart, OpenUploadFacts, StoredPart } from '../storage/store.js';
import { assertFileTypeAllowed, assertWithinSizeLimit } from '../upload-rules.js';
import type { AssetDependencies } from './deps.js';
import { assemblyRefusal } from './lost-race.js';
import { checkStoredType } from './stored-type.js';

export interface StartUploadInput {
  workspaceId: string;
  fileType: string;
  fileName?: string;
  fileSize?: number;
  partSize?: number;
  /** Parts are then signed with their SHA-256, which the store holds them to. */
  checksumAlgorithm?: ChecksumAlgorithm;
  /** Who the token says started it. */
  actor: string | null;
}

export interface UploadRef {
  workspaceId: string;
  assetId: string;
  uploadId: string;
}

/** An upload imported from S3 is recorded with this type: unknown, as ListMultipartUploads does not tell it. */
const UNKNOWN_TYPE = '';
/** What an object is served as when nothing says its type. */
const FALLBACK_TYPE = 'application/octet-stream';

const unknownUpload = (ref: UploadRef) =>
  new AppError('INVALID_UPLOAD_ID', `upload ${ref.uploadId} is not an open upload of asset ${ref.assetId} in workspace ${ref.workspaceId}`);

/**
 * The store's upload first, then its catalogue row: a crash between the two leaves an upload the
 * catalogue does not know, which is adopted when it is used and aborted by the cleanup job when it
 * is not. The quota is judged once, atomically, when the row is written; a refusal aborts the
 * store's upload again. (A check before the store call would cost every start a query, and a
 * refused start would still need the atomic one.)
 */
export async function startUpload(deps: AssetDependencies, input: StartUploadInput): Promise<UploadRecord> {
  assertFileTypeAllowed(input.fileType, deps.uploads);
  if (input.fileSize !== undefined) assertWithinSizeLimit(input.fileSize, deps.uploads);
  const assetId = newAssetId();
  const key = assetKey(input.workspaceId, assetId);
  const { uploadId } = await deps.store.createMultipartUpload(
    key,
    input.fileType,
    input.checksumAlgorithm ? { checksumAlgorithm: input.checksumAlgorithm } : {},
  );
  try {
    return await deps.catalog.beginUpload(
      {
        workspaceId: input.workspaceId,
        uploadId,
        assetId,
        key,
        fileName: input.fileName ?? null,
        fileType: input.fileType,
        declaredSize: input.fileSize ?? null,
        partSize: input.partSize ?? null,
        startedBy: input.actor,
        startedAt: new Date(),
        checksumAlgorithm: input.checksumAlgorithm ?? 'none',
      },
      deps.quotas,
    );
  } catch (error) {
    await deps.store.abortMultipartUpload(key, uploadId).catch(() => {});
    throw error;
  }
}

/**
 * The catalogue's record of an upload that may still be used, or null when it has none (an upload
 * from before the catalogue, which the store alone judges). One that was completed, aborted or
 * expired, or that belongs to another asset, is INVALID_UPLOAD_ID here, whatever a store that
 * revives uploads (a part landing after the abort, on some S3-compatible servers) would say.
 */
export async function usableUpload(deps: AssetDependencies, ref: UploadRef): Promise<UploadRecord | null> {
  const known = await deps.catalog.findUpload(ref.workspaceId, ref.uploadId);
  if (known && (known.state !== 'open' || known.assetId !== ref.assetId)) throw unknownUpload(ref);
  return known;
}

/**
 * The parts the store holds for an upload the catalogue has not seen end, and the checksum
 * algorithm it was started with (a resuming client must sign its parts the same way).
 */
export async function listStoredParts(deps: AssetDependencies, ref: UploadRef): Promise<{ parts: StoredPart[] } & OpenUploadFacts> {
  const known = await usableUpload(deps, ref);
  const key = assetKey(ref.workspaceId, ref.assetId);
  const [parts, facts] = await Promise.all([deps.store.listParts(key, ref.uploadId), openUploadFacts(deps, key, ref, known)]);
  return { parts, ...facts };
}

/**
 * How an upload's parts are checksummed: from the catalogue's record when it has one that says
 * (every upload started since it does), so that signing a part costs the store no request (on S3
 * a ListParts round trip per call, most of a signing's time); otherwise the store checks that the
 * upload is open and says. An upload the store itself dropped (a lifecycle rule) while the
 * catalogue still has it open gets URLs whose PUTs the store refuses, and the cleanup job ends it.
 */
function openUploadFacts(deps: AssetDependencies, key: string, ref: UploadRef, known: UploadRecord | null): Promise<OpenUploadFacts> {
  const mode = known?.checksumAlgorithm;
  if (mode === 'none') return Promise.resolve({});
  if (mode) return Promise.resolve({ checksumAlgorithm: mode });
  return deps.store.assertUploadOpen(key, ref.uploadId);
}

/**
 * Checks an upload before its parts are signed: a finished upload or one of another asset is
 * refused from the catalogue, and one the catalogue does not know (or knows only from before it
 * recorded checksum modes) must be open in the store. Declared part sizes grow the
 * upload's reservation, so signing cannot run past the quota. An upload started with a checksum
 * algorithm has every part signed with its checksum, and only such an upload takes checksums:
 * S3 refuses a part whose checksum the upload does not expect, and one it expects but lacks.
 */
export async function prepareSigning(
  deps: AssetDependencies,
  ref: UploadRef,
  partNumbers: readonly number[],
  partSizes?: readonly number[],
  checksums?: readonly string[],
) {
  const key = assetKey(ref.workspaceId, ref.assetId);
  const known = await usableUpload(deps, ref);
  assertChecksumsFit(await openUploadFacts(deps, key, ref, known), checksums);
  if (partSizes && partSizes.length > 0) {
    assertWithinSizeLimit(
      partSizes.reduce((sum, size) => sum + size, 0),
      deps.uploads,
    );
    // An upper bound that a retried signing never inflates: up to the highest part signed, at the largest size.
    const reach = Math.max(...partNumbers) * Math.max(...partSizes);
    if (known && reach > known.reservedBytes) await deps.catalog.reserve(ref.workspaceId, ref.uploadId, reach, deps.quotas);
  }
  return key;
}

function assertChecksumsFit(facts: OpenUploadFacts, checksums: readonly string[] | undefined): void {
  if (facts.checksumAlgorithm && !checksums) {
    throw new AppError(
      'MISSING_PARAMETER',
      `checksums: this upload was started with checksumAlgorithm ${facts.checksumAlgorithm}; sign each part with its checksum`,
    );
  }
  if (!facts.checksumAlgorithm && checksums) {
    throw new AppError(
      'INVALID_PARAMETER',
      'checksums: this upload was started without checksumAlgorithm, so its parts cannot be checksummed',
    );
  }
}

export interface CompletedUpload {
  asset: AssetRecord;
}

/**
 * Assembles the upload and records its asset. The store completes first and the catalogue is
 * written after: a crash in between leaves the object with its upload still open in the
 * catalogue, and the retried complete finds the object the parts assemble to and records it
 * then. A retry after both answers from the catalogue. The real size (the parts the store holds)
 * is judged against MAX_UPLOAD_BYTES and the quota before anything is assembled.
 */
export async function completeUpload(deps: AssetDependencies, ref: UploadRef, parts: readonly CompletedPart[]): Promise<CompletedUpload> {
  const { store, catalog } = deps;
  const key = assetKey(ref.workspaceId, ref.assetId);
  // The record and the stored parts are asked for side by side, so the catalogue adds no wait to
  // the store's round trip; the parts are ignored when the record says the upload is finished.
  const [record, listing] = await Promise.allSettled([
    catalog.findUpload(ref.workspaceId, ref.uploadId),
    store.listParts(key, ref.uploadId),
  ]);
  if (record.status === 'rejected') throw record.reason;
  const known = record.value;
  if (known && known.assetId !== ref.assetId) throw unknownUpload(ref);
  if (known?.state === 'completed') return { asset: await answerRetriedComplete(deps, known, parts, ref) };
  if (known && known.state !== 'open') throw unknownUpload(ref);

  if (listing.status === 'rejected') {
    const error: unknown = listing.reason;
    if (!isAppError(error) || error.appCode !== 'INVALID_UPLOAD_ID') throw error;
    const object = await objectAssembledFrom(deps, key, parts);
    if (!object) throw error;
    const upload = known ? withType(known, object.contentType) : adoptedUpload(ref, key, object.contentType);
    return { asset: await recordAssembled(deps, await checkStoredType(deps, upload, object.completed.size), object.completed) };
  }
  const size = listedSize(listing.value, parts);
  assertWithinSizeLimit(size, deps.uploads);
  if (!known) await catalog.assertRoomFor(ref.workspaceId, size, deps.quotas);
  else if (size > known.reservedBytes) await catalog.reserve(ref.workspaceId, ref.uploadId, size, deps.quotas);

  let etag: string;
  let checksum: ObjectChecksum | undefined;
  try {
    ({ etag, checksum } = await store.completeMultipartUpload(key, ref.uploadId, withStoredChecksums(parts, listing.value)));
  } catch (error) {
    // A refused assembly may be an abort taking the parts away: see assemblyRefusal.
    if (isAppError(error) && (error.appCode === 'UPLOAD_FAILED' || error.appCode === 'S3_ERROR'))
      throw await assemblyRefusal(deps, ref, key, error, listing.value, parts);
    // Another complete of the same parts won the race: the object is what this one would have made.
    if (!isAppError(error) || error.appCode !== 'INVALID_UPLOAD_ID') throw error;
    const object = await objectAssembledFrom(deps, key, parts);
    if (!object) throw error;
    etag = object.completed.etag;
    checksum = parseChecksum(object.completed.checksum);
  }
  // Only when no type is on record does the object have to be asked for its own.
  const storedType = known?.fileType === UNKNOWN_TYPE || !known ? (await store.headObject(key))?.contentType : undefined;
  const upload = known ? withType(known, storedType) : adoptedUpload(ref, key, storedType);
  return {
    asset: await recordAssembled(deps, await checkStoredType(deps, upload, size), {
      size,
      etag,
      checksum: checksum ? formatChecksum(checksum) : null,
      createdAt: new Date(),
    }),
  };
}

/**
 * The store's abort, then the catalogue's row, which says who won a race with a complete: the
 * complete's record refuses an upload an abort ended, and an abort answers INVALID_UPLOAD_ID for
 * one a complete recorded, so exactly one of them succeeds. The key is looked at too, as some
 * stores (MinIO) answer success to an abort of an upload a complete has just assembled, and others
 * (versitygw) answer NoSuchUpload while they are still writing its object (an asset's key is its
 * upload's alone). An upload the store had already dropped is ended in the catalogue, freeing its
 * reservation.
 */
export async function abortUpload(deps: AssetDependencies, ref: UploadRef, actor: string | null = null): Promise<void> {
  const known = await usableUpload(deps, ref);
  const key = assetKey(ref.workspaceId, ref.assetId);
  try {
    await deps.store.abortMultipartUpload(key, ref.uploadId);
  } catch (error) {
    const goneFromStore = isAppError(error) && error.appCode === 'INVALID_UPLOAD_ID';
    if (!known || !goneFromStore) {
      if (known) await deps.catalog.finishUpload(ref.workspaceId, ref.uploadId, 'aborted', actor);
      throw error;
    }
  }
  if (await deps.store.headObject(key)) throw unknownUpload(ref);
  if (!known || (await deps.catalog.finishUpload(ref.workspaceId, ref.uploadId, 'aborted', actor))) return;
  if ((await deps.catalog.findUpload(ref.workspaceId, ref.uploadId))?.state === 'completed') throw unknownUpload(ref);
}

/**
 * Records the assembled object. When an abort ended the upload in the catalogue while the store
 * assembled it, the abort won: the object left behind is removed, and the complete is
 * INVALID_UPLOAD_ID as if it had come after it.
 */
async function recordAssembled(deps: AssetDependencies, upload: UploadRecord, completed: Parameters<Catalog['recordCompleted']>[1]) {
  try {
    return await deps.catalog.recordCompleted(upload, completed);
  } catch (error) {
    if (isAppError(error) && error.appCode === 'INVALID_UPLOAD_ID') await deps.store.deleteObject(upload.key);
    throw error;
  }
}

/** A complete retried after it succeeded: the same answer, if it lists the same parts. */
async function answerRetriedComplete(deps: AssetDependencies, upload: UploadRecord, parts: readonly CompletedPart[], ref: UploadRef) {
  const asset = await deps.catalog.findAsset(upload.workspaceId, upload.key);
  const expected = multipartEtag(parts.map((part) => part.etag));
  if (!asset || !expected || upload.etag !== expected) throw unknownUpload(ref);
  return asset;
}

/** The object at `key`, when it is exactly what these parts assemble to (the same multipart ETag). */
async function objectAssembledFrom(deps: AssetDependencies, key: string, parts: readonly CompletedPart[]) {
  const expected = multipartEtag(parts.map((part) => part.etag));
  const existing = expected ? await deps.store.headObject(key) : null;
  if (!existing || existing.etag !== expected) return undefined;
  return {
    contentType: existing.contentType,
    completed: {
      size: existing.size,
      etag: existing.etag,
      checksum: existing.checksum ? formatChecksum(existing.checksum) : null,
      createdAt: existing.lastModified,
    },
  };
}

/** An upload recorded without a type (imported from S3) takes the completed object's. */
function withType(upload: UploadRecord, storedType: string | undefined): UploadRecord {
  if (upload.fileType !== UNKNOWN_TYPE) return upload;
  return { ...upload, fileType: storedType ?? FALLBACK_TYPE };
}

/** An upload the catalogue never saw start (started before it existed, or lost in a crash): recorded from the store. */
function adoptedUpload(ref: UploadRef, key: string, storedType: string | undefined): UploadRecord {
  return {
    ...ref,
    key,
    fileName: null,
    fileType: storedType ?? FALLBACK_TYPE,
    declaredSize: null,
    partSize: null,
    reservedBytes: 0,
    startedBy: null,
    startedAt: new Date(),
    finishedAt: null,
    state: 'open',
    etag: null,
    checksumAlgorithm: null,
  };
}

/** S3 assembles a checksummed upload only when each part is named with its checksum, as the store listed it. */
function withStoredChecksums(parts: readonly CompletedPart[], stored: readonly StoredPart[]): CompletedPart[] {
  const checksums = new Map(stored.map((part) => [part.partNumber, part.checksum]));
  return parts.map((part) => {
    const checksum = part.checksum ?? checksums.get(part.partNumber);
    return checksum === undefined ? part : { ...part, checksum };
  });
}

function listedSize(stored: readonly StoredPart[], parts: readonly CompletedPart[]): number {
  const listed = new Set(parts.map((part) => part.partNumber));
  return stored.filter((part) => listed.has(part.partNumber)).reduce((sum, part) => sum + part.size, 0);
}
