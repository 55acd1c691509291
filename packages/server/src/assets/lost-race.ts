import { AppError, isAppError } from '../errors.js';
import { bareEtag } from '../storage/multipart.js';
import type { CompletedPart, StoredPart } from '../storage/store.js';
import type { AssetDependencies } from './deps.js';

interface UploadRef {
  workspaceId: string;
  assetId: string;
  uploadId: string;
}

/**
 * What a complete answers when the store refused to assemble the upload. An abort that won the
 * race removes the parts under the complete: versitygw then answers InvalidPart ("a part is
 * missing", 4 of 11 tries of a complete and an abort sent together), the local store aborted by
 * another process loses a part file mid-link. Telling the client to upload a part again would send
 * it after an upload that is gone, so that is INVALID_UPLOAD_ID.
 *
 * When the refusal arrives the abort may still be under way (neither the store nor the catalogue
 * says the upload ended yet), so "still open?" alone decides nothing. Parts are never taken from
 * an open upload, though, only replaced: a part that was listed before the assembly and is gone
 * now was taken by an abort. A refusal of parts that were never there stands as UPLOAD_FAILED.
 */
export async function assemblyRefusal(
  deps: AssetDependencies,
  ref: UploadRef,
  key: string,
  refusal: AppError,
  listedBefore: readonly StoredPart[],
  parts: readonly CompletedPart[],
): Promise<AppError> {
  const [record, listedNow] = await Promise.allSettled([
    deps.catalog.findUpload(ref.workspaceId, ref.uploadId),
    deps.store.listParts(key, ref.uploadId),
  ]);
  const endedInCatalogue = record.status === 'fulfilled' && record.value !== null && record.value.state !== 'open';
  const goneFromStore = listedNow.status === 'rejected' && isAppError(listedNow.reason) && listedNow.reason.appCode === 'INVALID_UPLOAD_ID';
  const partsTaken = listedNow.status === 'fulfilled' && namedPartsVanished(parts, listedBefore, listedNow.value);
  if (!endedInCatalogue && !goneFromStore && !partsTaken) return refusal;
  return new AppError('INVALID_UPLOAD_ID', `upload ${ref.uploadId} ended (it was aborted) while it was being completed`, {
    cause: refusal,
  });
}

/** Whether a part the complete named, and the store held before, is no longer held at all. */
function namedPartsVanished(parts: readonly CompletedPart[], before: readonly StoredPart[], now: readonly StoredPart[]): boolean {
  const heldBefore = new Map(before.map((part) => [part.partNumber, bareEtag(part.etag)]));
  const heldNow = new Set(now.map((part) => part.partNumber));
  return parts.some((part) => heldBefore.get(part.partNumber) === bareEtag(part.etag) && !heldNow.has(part.partNumber));
}
