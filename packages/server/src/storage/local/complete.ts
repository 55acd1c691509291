import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { AppError } from '../../errors.js';
import { multipartEtag } from '../multipart-etag.js';
import type { CompletedPart } from '../store.js';
import type { LocalContext } from './context.js';
import { retireFolder, streamToNewFile, type Chunks } from './files.js';
import { translateFsErrors } from './fs-errors.js';
import { commitObject } from './objects.js';
import { readOpenUpload, readPartFiles, withUploadLock, type PartFile } from './uploads.js';

/**
 * Assembles an upload into its object. Runs under the upload's lock, so of two racing completes
 * the second finds the upload gone (INVALID_UPLOAD_ID). The assembled file stays in tmp/ until
 * `commitObject` makes it visible in one step; the upload folder goes only after that.
 */
export async function completeUpload(
  context: LocalContext,
  key: string,
  uploadId: string,
  listed: readonly CompletedPart[],
): Promise<{ etag: string }> {
  const { layout } = context;
  return withUploadLock(context, uploadId, async () => {
    const manifest = await readOpenUpload(context, key, uploadId);
    const parts = checkCompletedParts(listed, await readPartFiles(context, uploadId), context.minPartSize);
    const etag = multipartEtag(parts.map((part) => part.md5));
    // Unreachable: part names only ever carry MD5 hex; the check keeps the type honest.
    if (etag === undefined) throw new AppError('S3_ERROR', 'storage failed: a part file name holds no MD5');
    const size = parts.reduce((total, part) => total + part.size, 0);
    const dataFile = layout.tempFile();
    try {
      await translateFsErrors('assembling the object', () => streamToNewFile(dataFile, concatenate(parts)));
      await commitObject(context, key, dataFile, { contentType: manifest.contentType, etag, size });
    } finally {
      await rm(dataFile, { force: true });
    }
    await translateFsErrors('closing the upload', () => retireFolder(layout, layout.uploadFolder(uploadId)));
    return { etag };
  });
}

/**
 * S3's checks, in S3's order, each failure naming S3's error: a non-empty list in strictly
 * ascending part order (InvalidPartOrder), every part uploaded with the ETag given (InvalidPart),
 * every part but the last at least `minPartSize` bytes (EntityTooSmall). Returns the parts to join.
 */
export function checkCompletedParts(
  listed: readonly CompletedPart[],
  stored: readonly PartFile[],
  minPartSize: number,
): PartFile[] {
  if (listed.length === 0) throw uploadFailed('MalformedXML: the part list is empty');
  listed.forEach((part, index) => {
    const previous = listed[index - 1];
    if (previous && part.partNumber <= previous.partNumber) {
      throw uploadFailed('InvalidPartOrder: part numbers must be listed in strictly ascending order, each once');
    }
  });
  const byNumber = new Map(stored.map((part) => [part.partNumber, part]));
  const chosen = listed.map((part) => {
    const found = byNumber.get(part.partNumber);
    if (!found || bareEtag(part.etag) !== found.md5) {
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

/** Callers may send ETags as S3 returns them (quoted) or bare. */
function bareEtag(etag: string): string {
  return etag.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
}

async function* concatenate(parts: readonly PartFile[]): Chunks {
  for (const part of parts) yield* createReadStream(part.path) as AsyncIterable<Buffer>;
}

function uploadFailed(reason: string): AppError {
  return new AppError('UPLOAD_FAILED', reason);
}
