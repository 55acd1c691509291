import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import type { StoredPart } from '../store.js';
import type { LocalContext } from './context.js';
import { retireFolder, writeFileAtomic } from './files.js';
import { isMissing, translateFsErrors } from './fs-errors.js';
import { readJsonFile } from './json-file.js';
import { newRandomId, parsePartFileName } from './layout.js';

const uploadManifest = z.object({
  key: z.string(),
  contentType: z.string(),
  createdAt: z.iso.datetime(),
});

export type UploadManifest = z.infer<typeof uploadManifest>;

/** A stored part with what completing needs besides what listParts shows. */
export interface PartFile extends StoredPart {
  md5: string;
  path: string;
}

/**
 * Everything that changes one upload's folder runs under its lock, so a part commit, a complete
 * and an abort of the same upload never interleave.
 */
export function withUploadLock<T>(context: LocalContext, uploadId: string, task: () => Promise<T>): Promise<T> {
  return context.locks.run(`upload:${uploadId}`, task);
}

export async function createUpload(context: LocalContext, key: string, contentType: string): Promise<{ uploadId: string }> {
  const { layout } = context;
  layout.metaFile(key); // refuses, before anything is written, a key this driver could not store
  const uploadId = newRandomId();
  const manifest: UploadManifest = { key, contentType, createdAt: new Date(context.now()).toISOString() };
  await translateFsErrors('starting the upload', async () => {
    await mkdir(layout.uploadFolder(uploadId));
    await writeFileAtomic(layout, layout.manifestFile(uploadId), JSON.stringify(manifest));
  });
  return { uploadId };
}

/**
 * The upload's record when `uploadId` is an unfinished upload of exactly `key`. Completed and
 * aborted uploads have no folder any more, so they are as unknown as ids never issued.
 */
export async function readOpenUpload(context: LocalContext, key: string, uploadId: string): Promise<UploadManifest> {
  const manifest = await readJsonFile(context.layout.manifestFile(uploadId), uploadManifest, 'the upload record');
  if (!manifest || manifest.key !== key) throw new AppError('INVALID_UPLOAD_ID', 'upload not found');
  return manifest;
}

/**
 * The upload's parts by number. A part number normally has one file; after a crash between a
 * re-upload's rename and the removal of the old file there may be two, and the newer one counts.
 */
export async function readPartFiles(context: LocalContext, uploadId: string): Promise<PartFile[]> {
  const folder = context.layout.uploadFolder(uploadId);
  return translateFsErrors('listing parts', async () => {
    let names: string[];
    try {
      names = await readdir(folder);
    } catch (error) {
      if (isMissing(error)) throw new AppError('INVALID_UPLOAD_ID', 'upload not found');
      throw error;
    }
    const newest = new Map<number, { part: PartFile; mtimeMs: number }>();
    for (const name of names) {
      const parsed = parsePartFileName(name);
      if (!parsed) continue;
      const path = join(folder, name);
      const info = await stat(path);
      const seen = newest.get(parsed.partNumber);
      if (seen && seen.mtimeMs > info.mtimeMs) continue;
      const part = { partNumber: parsed.partNumber, etag: `"${parsed.md5}"`, size: info.size, md5: parsed.md5, path };
      newest.set(parsed.partNumber, { part, mtimeMs: info.mtimeMs });
    }
    return [...newest.values()].map(({ part }) => part).sort((a, b) => a.partNumber - b.partNumber);
  });
}

export async function listParts(context: LocalContext, key: string, uploadId: string): Promise<StoredPart[]> {
  return withUploadLock(context, uploadId, async () => {
    await readOpenUpload(context, key, uploadId);
    const parts = await readPartFiles(context, uploadId);
    return parts.map(({ partNumber, etag, size }) => ({ partNumber, etag, size }));
  });
}

/**
 * Moves a fully received part from tmp/ into the upload, replacing any earlier upload of the same
 * part number. The upload is checked again under its lock: it may have been completed or aborted
 * while the body was arriving, and then the part is refused rather than left in a dead folder.
 */
export async function savePart(
  context: LocalContext,
  key: string,
  uploadId: string,
  partNumber: number,
  receivedFile: string,
  md5: string,
): Promise<void> {
  const { layout } = context;
  await withUploadLock(context, uploadId, async () => {
    await readOpenUpload(context, key, uploadId);
    const target = layout.partFile(uploadId, partNumber, md5);
    await translateFsErrors('storing the part', async () => {
      await rename(receivedFile, target);
      const folder = layout.uploadFolder(uploadId);
      for (const name of await readdir(folder)) {
        if (name !== basename(target) && parsePartFileName(name)?.partNumber === partNumber) {
          await rm(join(folder, name), { force: true });
        }
      }
    });
  });
}

export async function abortUpload(context: LocalContext, key: string, uploadId: string): Promise<void> {
  await withUploadLock(context, uploadId, async () => {
    await readOpenUpload(context, key, uploadId);
    await translateFsErrors('aborting the upload', () => retireFolder(context.layout, context.layout.uploadFolder(uploadId)));
  });
}
