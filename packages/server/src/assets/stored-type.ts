import type { UploadRecord } from '../catalog/catalog.js';
import { AppError, isAppError } from '../errors.js';
import type { ObjectStore } from '../storage/store.js';
import { assertFileTypeAllowed } from '../upload-rules.js';
import type { AssetDependencies } from './deps.js';
import { SNIFF_BYTES, sniffType } from './sniff-type.js';
import { judgeType } from './type-verdict.js';

/**
 * Holds an assembled object's declared type to its first bytes, before its asset is recorded.
 * Returns the upload to record (with the detected type when the bytes name the same kind of file
 * more exactly). A disguised object is removed and its upload ended in the catalogue before the
 * refusal, so nothing of it stays and a retried complete finds no upload (INVALID_UPLOAD_ID). The
 * object goes first: a crash before the catalogue's write leaves an open upload with no object,
 * which a retry answers INVALID_UPLOAD_ID and the cleanup job expires; the other order could leave
 * an object that reconciliation would adopt as an asset.
 */
export async function checkStoredType(deps: AssetDependencies, upload: UploadRecord, size: number): Promise<UploadRecord> {
  if (deps.uploads.checkFileType === false || size === 0) return upload;
  const head = await readHead(deps.store, upload.key, Math.min(size, SNIFF_BYTES));
  const judged = judgeType(upload.fileType, await sniffType(head));
  if (judged.verdict === 'keep') return upload;
  if (judged.verdict === 'record') {
    const allowed = isAllowed(judged.fileType, deps);
    if (allowed) return { ...upload, fileType: judged.fileType };
    return refuse(deps, upload, `declared ${upload.fileType}, but the bytes are ${judged.fileType}, which may not be stored here`);
  }
  return refuse(deps, upload, judged.reason);
}

async function refuse(deps: AssetDependencies, upload: UploadRecord, reason: string): Promise<never> {
  await deps.store.deleteObject(upload.key);
  await deps.catalog.finishUpload(upload.workspaceId, upload.uploadId, 'aborted');
  throw new AppError('FILE_TYPE_MISMATCH', `${reason}; the upload was discarded`);
}

function isAllowed(fileType: string, deps: AssetDependencies): boolean {
  try {
    assertFileTypeAllowed(fileType, deps.uploads);
    return true;
  } catch (error) {
    if (isAppError(error) && error.appCode === 'FILE_TYPE_NOT_ALLOWED') return false;
    throw error;
  }
}

/** The object's first `length` bytes, through one ranged GET. */
async function readHead(store: ObjectStore, key: string, length: number): Promise<Buffer> {
  const { body } = await store.getObject(key, { range: { start: 0, end: length - 1 } });
  const chunks: Buffer[] = [];
  let read = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      read += chunk.length;
      // A store that served more than the range asked for is not read to its end.
      if (read >= length) break;
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, length);
}
