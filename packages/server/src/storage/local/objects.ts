import { open, rename, rm } from 'node:fs/promises';
import { addAbortSignal } from 'node:stream';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import type { GetObjectOptions, ObjectBody, ObjectInfo } from '../store.js';
import { resolveRange } from './byte-range.js';
import type { LocalContext } from './context.js';
import { writeFileAtomic } from './files.js';
import { isMissing, storageFailed, translateFsErrors } from './fs-errors.js';
import { readJsonFile } from './json-file.js';
import { newRandomId } from './layout.js';

const objectMeta = z.object({
  key: z.string(),
  contentType: z.string(),
  etag: z.string(),
  size: z.number().int().min(0),
  lastModified: z.iso.datetime(),
  /** The data file under blobs/; checked again by `layout.blobFile` before use. */
  blob: z.string(),
});

type ObjectMeta = z.infer<typeof objectMeta>;

/** Removing or replacing an object while readers open it can race; this many tries settle it. */
const OPEN_ATTEMPTS = 3;

function readMeta(context: LocalContext, key: string): Promise<ObjectMeta | undefined> {
  return readJsonFile(context.layout.metaFile(key), objectMeta, 'object metadata');
}

function toInfo(meta: ObjectMeta): ObjectInfo {
  return {
    key: meta.key,
    size: meta.size,
    contentType: meta.contentType,
    etag: meta.etag,
    lastModified: new Date(meta.lastModified),
  };
}

export async function headObject(context: LocalContext, key: string): Promise<ObjectInfo | null> {
  const meta = await readMeta(context, key);
  return meta ? toInfo(meta) : null;
}

/**
 * Opens the data file before streaming, so a delete or replacement after that point cannot cut
 * the read short (the open file outlives its name). A data file that vanished between reading the
 * metadata and opening it means the object just changed: read the metadata again.
 */
export async function getObject(context: LocalContext, key: string, options: GetObjectOptions = {}): Promise<ObjectBody> {
  for (let attempt = 0; attempt < OPEN_ATTEMPTS; attempt += 1) {
    const meta = await readMeta(context, key);
    if (!meta) throw new AppError('NOT_FOUND', `no object at ${key}`);
    const span = options.range ? resolveRange(options.range, meta.size) : undefined;
    let handle;
    try {
      handle = await open(context.layout.blobFile(meta.blob), 'r');
    } catch (error) {
      if (isMissing(error)) continue;
      throw storageFailed('opening the object', error);
    }
    const body = handle.createReadStream(span ? { start: span.start, end: span.end } : {});
    if (options.signal) addAbortSignal(options.signal, body);
    const contentLength = span ? span.end - span.start + 1 : meta.size;
    return span ? { ...toInfo(meta), body, contentLength, range: span } : { ...toInfo(meta), body, contentLength };
  }
  throw new AppError('S3_ERROR', `storage failed: the data of ${key} is missing`);
}

/**
 * Makes `dataFile` the object at `key`. The metadata file names the data file, and its rename is
 * the single commit point: before it readers see the old object (or none), after it the new one,
 * never a mix or a partial file. The replaced data file is removed afterwards.
 */
export async function commitObject(
  context: LocalContext,
  key: string,
  dataFile: string,
  info: { contentType: string; etag: string; size: number },
): Promise<void> {
  const { layout } = context;
  await context.locks.run(`object:${key}`, async () => {
    const previous = await readMeta(context, key);
    const blob = newRandomId();
    await translateFsErrors('storing the object', async () => {
      await rename(dataFile, layout.blobFile(blob));
      const meta: ObjectMeta = { key, ...info, lastModified: new Date(context.now()).toISOString(), blob };
      try {
        await writeFileAtomic(layout, layout.metaFile(key), JSON.stringify(meta));
      } catch (error) {
        await rm(layout.blobFile(blob), { force: true });
        throw error;
      }
      if (previous) await rm(layout.blobFile(previous.blob), { force: true });
    });
  });
}

/** Deleting a missing key succeeds, as in S3. Empty folders left under meta/ are harmless. */
export async function deleteObject(context: LocalContext, key: string): Promise<void> {
  const { layout } = context;
  await context.locks.run(`object:${key}`, async () => {
    const meta = await readMeta(context, key);
    if (!meta) return;
    await translateFsErrors('deleting the object', async () => {
      await rm(layout.metaFile(key), { force: true });
      await rm(layout.blobFile(meta.blob), { force: true });
    });
  });
}
