import { accessSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { CHECKSUM_ALGORITHMS } from '../checksum.js';
import type { CreateUploadOptions, OpenUploadFacts, StoredPart } from '../store.js';
import type { LocalContext } from './context.js';
import { retireFolder, writeFileAtomic } from './files.js';
import { isMissing, translateFsErrors } from './fs-errors.js';
import { readJsonFile } from './json-file.js';
import { newRandomId, type PartFileFacts, parsePartFileName } from './layout.js';
import type { OpenUpload } from './open-uploads.js';
import { PartNumberSet } from './part-number-set.js';

const uploadManifest = z.object({
  key: z.string(),
  contentType: z.string(),
  createdAt: z.iso.datetime(),
  /** Absent in records written before checksums, and for uploads started without one. */
  checksumAlgorithm: z.enum(CHECKSUM_ALGORITHMS).optional(),
});

export type UploadManifest = z.infer<typeof uploadManifest>;

/** A stored part with what completing needs besides what listParts shows. */
export interface PartFile extends StoredPart {
  etagHex: string;
  path: string;
}

/**
 * Everything that changes one upload's folder runs under its lock, so a part commit, a complete
 * and an abort of the same upload never interleave.
 */
export function withUploadLock<T>(context: LocalContext, uploadId: string, task: () => Promise<T>): Promise<T> {
  return context.locks.run(`upload:${uploadId}`, task);
}

export async function createUpload(
  context: LocalContext,
  key: string,
  contentType: string,
  options: CreateUploadOptions = {},
): Promise<{ uploadId: string }> {
  const { layout } = context;
  layout.metaFile(key); // refuses, before anything is written, a key this driver could not store
  const uploadId = newRandomId();
  const manifest: UploadManifest = { key, contentType, createdAt: new Date(context.now()).toISOString() };
  if (options.checksumAlgorithm) manifest.checksumAlgorithm = options.checksumAlgorithm;
  await translateFsErrors('starting the upload', async () => {
    await mkdir(layout.uploadFolder(uploadId));
    await writeFileAtomic(layout, layout.manifestFile(uploadId), JSON.stringify(manifest));
  });
  // A new folder has no parts, so its first part commit needs no listing either.
  context.openUploads.remember(uploadId, { manifest, partNumbers: new PartNumberSet() });
  return { uploadId };
}

/**
 * The upload's record when `uploadId` is an unfinished upload of exactly `key`. Completed and
 * aborted uploads have no folder any more, so they are as unknown as ids never issued. Served from
 * memory when this process has seen the upload (see OpenUploads for why that stays correct).
 */
export async function readOpenUpload(context: LocalContext, key: string, uploadId: string): Promise<UploadManifest> {
  return (await openUpload(context, key, uploadId)).manifest;
}

/**
 * For callers that act on the answer alone (signing part URLs): a cached record may outlive its
 * folder when another process (the cleanup-uploads command) removed it, so the folder is checked
 * too, with one access call rather than a read and parse of the record. The call is synchronous:
 * one metadata syscall on a local disk takes microseconds, while a trip through the thread pool
 * and its promise cost this hot path (every part URL signed) more than the rest of the check.
 */
export async function assertUploadOpen(context: LocalContext, key: string, uploadId: string): Promise<OpenUploadFacts> {
  const { manifest } = await openUpload(context, key, uploadId);
  await translateFsErrors('checking the upload', async () => {
    try {
      accessSync(context.layout.manifestFile(uploadId));
    } catch (error) {
      if (isMissing(error)) throw closedUpload(context, uploadId);
      throw error;
    }
  });
  return manifest.checksumAlgorithm ? { checksumAlgorithm: manifest.checksumAlgorithm } : {};
}

async function openUpload(context: LocalContext, key: string, uploadId: string): Promise<OpenUpload> {
  const manifestFile = context.layout.manifestFile(uploadId);
  const entry = await context.openUploads.get(uploadId, async () => {
    const manifest = await readJsonFile(manifestFile, uploadManifest, 'the upload record');
    return manifest && { manifest };
  });
  if (!entry || entry.manifest.key !== key) throw unknownUpload();
  return entry;
}

/** The upload's folder is gone (completed, aborted, or removed by another process). */
function closedUpload(context: LocalContext, uploadId: string): AppError {
  context.openUploads.forget(uploadId);
  return unknownUpload();
}

function unknownUpload(): AppError {
  return new AppError('INVALID_UPLOAD_ID', 'upload not found');
}

/** The folder's entries; INVALID_UPLOAD_ID when the folder is gone. */
async function listUploadFolder(context: LocalContext, uploadId: string): Promise<string[]> {
  try {
    return await readdir(context.layout.uploadFolder(uploadId));
  } catch (error) {
    if (isMissing(error)) throw closedUpload(context, uploadId);
    throw error;
  }
}

/**
 * The upload's parts by number, always read from the folder so that they are right after a crash
 * or a restart. Names carry size and ETag, so only these files are looked at: a part number with
 * two files (a crash between a re-upload's rename and the removal of the old file; the newer one
 * counts), and files named before sizes were part of the name.
 */
export async function readPartFiles(context: LocalContext, uploadId: string): Promise<PartFile[]> {
  const folder = context.layout.uploadFolder(uploadId);
  return translateFsErrors('listing parts', async () => {
    const byNumber = new Map<number, PartFile[]>();
    for (const name of await listUploadFolder(context, uploadId)) {
      const parsed = parsePartFileName(name);
      if (!parsed) continue;
      const path = join(folder, name);
      const size = parsed.size ?? (await stat(path)).size;
      const part: PartFile = { partNumber: parsed.partNumber, etag: `"${parsed.etagHex}"`, size, etagHex: parsed.etagHex, path };
      if (parsed.sha256 !== undefined) part.checksum = parsed.sha256;
      const files = byNumber.get(parsed.partNumber);
      if (files) files.push(part);
      else byNumber.set(parsed.partNumber, [part]);
    }
    const parts: PartFile[] = [];
    for (const files of byNumber.values()) parts.push(files.length === 1 ? files[0]! : await newestOf(files));
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  });
}

async function newestOf(files: PartFile[]): Promise<PartFile> {
  const times = await Promise.all(files.map(async (file) => (await stat(file.path)).mtimeMs));
  let newest = 0;
  times.forEach((time, index) => {
    if (time >= times[newest]!) newest = index;
  });
  return files[newest]!;
}

export async function listParts(context: LocalContext, key: string, uploadId: string): Promise<StoredPart[]> {
  return withUploadLock(context, uploadId, async () => {
    await readOpenUpload(context, key, uploadId);
    const parts = await readPartFiles(context, uploadId);
    return parts.map(({ partNumber, etag, size, checksum }) =>
      checksum === undefined ? { partNumber, etag, size } : { partNumber, etag, size, checksum },
    );
  });
}

/**
 * Moves a fully received part from tmp/ into the upload, replacing any earlier upload of the same
 * part number. The upload is checked again under its lock: it may have been completed or aborted
 * while the body was arriving, and then the part is refused rather than left in a dead folder.
 * When another process removed the folder, the rename into it fails, with the same answer.
 *
 * The part numbers already in the folder are remembered per upload (listed once per upload when
 * this process did not create it), so only re-uploading a part number lists the folder to find
 * the older file: not every part, which would make an upload of n parts cost n² reads.
 */
export async function savePart(
  context: LocalContext,
  key: string,
  uploadId: string,
  partNumber: number,
  receivedFile: string,
  received: PartFileFacts,
): Promise<void> {
  const { layout } = context;
  await withUploadLock(context, uploadId, async () => {
    const upload = await openUpload(context, key, uploadId);
    const target = layout.partFile(uploadId, partNumber, received);
    await translateFsErrors('storing the part', async () => {
      const partNumbers = upload.partNumbers ?? (await partNumbersOnDisk(context, uploadId));
      upload.partNumbers = partNumbers;
      try {
        await rename(receivedFile, target);
      } catch (error) {
        if (isMissing(error)) throw closedUpload(context, uploadId);
        throw error;
      }
      if (partNumbers.has(partNumber)) await removeOlderFiles(context, uploadId, partNumber, basename(target));
      partNumbers.add(partNumber);
    });
  });
}

async function partNumbersOnDisk(context: LocalContext, uploadId: string): Promise<PartNumberSet> {
  const numbers = new PartNumberSet();
  for (const name of await listUploadFolder(context, uploadId)) {
    const parsed = parsePartFileName(name);
    if (parsed) numbers.add(parsed.partNumber);
  }
  return numbers;
}

async function removeOlderFiles(context: LocalContext, uploadId: string, partNumber: number, keep: string): Promise<void> {
  const folder = context.layout.uploadFolder(uploadId);
  for (const name of await listUploadFolder(context, uploadId)) {
    if (name !== keep && parsePartFileName(name)?.partNumber === partNumber) await rm(join(folder, name), { force: true });
  }
}

export async function abortUpload(context: LocalContext, key: string, uploadId: string): Promise<void> {
  await withUploadLock(context, uploadId, async () => {
    await readOpenUpload(context, key, uploadId);
    await translateFsErrors('aborting the upload', () => retireUploadFolder(context, uploadId));
  });
}

/** Removes a completed or aborted upload; INVALID_UPLOAD_ID when another process did already. */
export async function retireUploadFolder(context: LocalContext, uploadId: string): Promise<void> {
  context.openUploads.forget(uploadId);
  try {
    await retireFolder(context.layout, context.layout.uploadFolder(uploadId));
  } catch (error) {
    if (isMissing(error)) throw unknownUpload();
    throw error;
  }
}
