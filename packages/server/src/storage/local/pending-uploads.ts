import { readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { PendingUpload } from '../store.js';
import type { LocalContext } from './context.js';
import { isMissing, storageFailed } from './fs-errors.js';
import { readJsonFile } from './json-file.js';
import { isRandomId, newRandomId } from './layout.js';

const manifestDates = z.object({ key: z.string(), createdAt: z.iso.datetime(), contentType: z.string().optional() });

/**
 * Open uploads by the `createdAt` of their record (the driver's clock, like S3's Initiated).
 * Folders that vanish while the listing runs were finished meanwhile and are skipped; so are
 * damaged records, which are left for a person to look at rather than deleted blind.
 */
export async function* listPendingUploads(context: LocalContext, initiatedBefore: Date): AsyncIterable<PendingUpload> {
  const { layout } = context;
  // The layout names one upload's folder; their common parent holds them all.
  const uploadsFolder = dirname(layout.uploadFolder(newRandomId()));
  let names: string[];
  try {
    names = await readdir(uploadsFolder);
  } catch (error) {
    if (isMissing(error)) return;
    throw storageFailed('listing uploads', error);
  }
  for (const uploadId of names.filter(isRandomId)) {
    const manifest = await readJsonFile(layout.manifestFile(uploadId), manifestDates, 'the upload record').catch(() => undefined);
    if (!manifest) continue;
    const initiated = new Date(manifest.createdAt);
    if (initiated >= initiatedBefore) continue;
    yield manifest.contentType === undefined
      ? { key: manifest.key, uploadId, initiated }
      : { key: manifest.key, uploadId, initiated, contentType: manifest.contentType };
  }
}
