import { linkSync, renameSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, isAppError } from '../../errors.js';
import { compositeSha256, type ObjectChecksum } from '../checksum.js';
import { assertPartList, bareEtag, multipartEtag } from '../multipart.js';
import type { CompletedPart } from '../store.js';
import type { LocalContext } from './context.js';
import { diskFailure, fsErrorCode, translateFsErrors } from './fs-errors.js';
import { segmentFileName } from './layout.js';
import { commitObject, type StagedData } from './objects.js';
import { forEachInSlices } from './slices.js';
import { type PartFile, readOpenUpload, readPartFiles, retireUploadFolder, withUploadLock } from './uploads.js';

/**
 * Turns an upload into its object without copying a byte: the chosen part files become the
 * object's segments. Runs under the upload's lock, so of two racing completes the second finds the
 * upload gone (INVALID_UPLOAD_ID).
 *
 * Each part is hard-linked (not moved) into a folder in tmp/, which `commitObject` turns into the
 * object in one step. Until then the upload keeps every part, so a complete that fails or is cut
 * by a crash leaves it as it was, ready to be completed again (the staged folder is swept as a
 * temp leftover). The upload folder goes only after the commit, and removing it drops just the
 * upload's names of the files: the object's own names keep the data.
 */
export async function completeUpload(
  context: LocalContext,
  key: string,
  uploadId: string,
  listed: readonly CompletedPart[],
): Promise<{ etag: string; checksum?: ObjectChecksum }> {
  const { layout } = context;
  return withUploadLock(context, uploadId, async () => {
    const manifest = await readOpenUpload(context, key, uploadId);
    const parts = checkCompletedParts(listed, await readPartFiles(context, uploadId), context.minPartSize);
    const checksum = manifest.checksumAlgorithm ? objectChecksum(parts) : undefined;
    const etag = multipartEtag(parts.map((part) => part.etagHex));
    // Unreachable: part names only ever carry 32 hex characters; the check keeps the type honest.
    if (etag === undefined) throw diskFailure('a part file name holds no ETag');
    const size = parts.reduce((total, part) => total + part.size, 0);
    const staged: StagedData = {
      folder: layout.tempFile(),
      segments: parts.map((part) => ({ file: segmentFileName(part.partNumber), size: part.size })),
    };
    try {
      await translateFsErrors('assembling the object', () => stageSegments(staged.folder, parts));
      await commitObject(context, key, staged, { contentType: manifest.contentType, etag, size, ...(checksum ? { checksum } : {}) });
    } finally {
      // Gone already after a commit (it became the blob); a leftover of a failure otherwise.
      await rm(staged.folder, { recursive: true, force: true });
    }
    await translateFsErrors('closing the upload', () =>
      // Another process removing the folder after the commit changes nothing: the object stands.
      retireUploadFolder(context, uploadId).catch((error: unknown) => {
        if (!isAppError(error) || error.appCode !== 'INVALID_UPLOAD_ID') throw error;
      }),
    );
    return checksum ? { etag, checksum } : { etag };
  });
}

/** Every part of a checksummed upload was verified as it arrived; one without a checksum predates that. */
function objectChecksum(parts: readonly PartFile[]): ObjectChecksum {
  const missing = parts.find((part) => part.checksum === undefined);
  if (missing) throw uploadFailed(`InvalidPart: part ${missing.partNumber} was stored without the checksum its upload requires`);
  return compositeSha256(parts.map((part) => part.checksum!));
}

async function stageSegments(folder: string, parts: readonly PartFile[]): Promise<void> {
  await mkdir(folder);
  await forEachInSlices(parts, (part) => adoptPart(part.path, join(folder, segmentFileName(part.partNumber))));
}

/** File systems without hard links (FAT, some network shares) refuse them with these codes. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * A second name for a part file, in O(1) whatever its size. Where hard links are unsupported the
 * part is moved instead, which is as cheap but leaves the upload without it if the complete then
 * fails: a retried complete names a missing part (InvalidPart) and the client uploads it again.
 */
function adoptPart(partFile: string, segmentFile: string): void {
  try {
    linkSync(partFile, segmentFile);
  } catch (error) {
    if (!NO_HARD_LINKS.has(fsErrorCode(error) ?? '')) throw error;
    renameSync(partFile, segmentFile);
  }
}

/**
 * S3's checks, in S3's order, each failure naming S3's error: a non-empty list in strictly
 * ascending part order (InvalidPartOrder), every part uploaded with the ETag given (InvalidPart),
 * every part but the last at least `minPartSize` bytes (EntityTooSmall). Returns the parts to join.
 */
export function checkCompletedParts(listed: readonly CompletedPart[], stored: readonly PartFile[], minPartSize: number): PartFile[] {
  assertPartList(listed);
  const byNumber = new Map(stored.map((part) => [part.partNumber, part]));
  const chosen = listed.map((part) => {
    const found = byNumber.get(part.partNumber);
    const checksumDiffers = part.checksum !== undefined && part.checksum !== found?.checksum;
    if (!found || bareEtag(part.etag).toLowerCase() !== found.etagHex || checksumDiffers) {
      throw uploadFailed(`InvalidPart: part ${part.partNumber} was not uploaded or its ETag does not match`);
    }
    return found;
  });
  chosen.slice(0, -1).forEach((part) => {
    if (part.size < minPartSize) {
      throw uploadFailed(
        `EntityTooSmall: part ${part.partNumber} has ${part.size} bytes; every part but the last needs at least ${minPartSize}`,
      );
    }
  });
  return chosen;
}

function uploadFailed(reason: string): AppError {
  return new AppError('UPLOAD_FAILED', reason);
}
