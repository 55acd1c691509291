import { rename, rm } from 'node:fs/promises';
import { addAbortSignal } from 'node:stream';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { resolveRange } from '../byte-range.js';
import { CHECKSUM_ALGORITHMS, type ObjectChecksum } from '../checksum.js';
import type { GetObjectOptions, ObjectBody, ObjectInfo } from '../store.js';
import type { LocalContext } from './context.js';
import { writeFileAtomic } from './files.js';
import { diskFailure, storageFailed, translateFsErrors } from './fs-errors.js';
import { readJsonFile } from './json-file.js';
import { isSegmentFileName, newRandomId } from './layout.js';
import { openSegmentReader, type Segment } from './segment-reader.js';

const objectMeta = z.object({
  key: z.string(),
  contentType: z.string(),
  etag: z.string(),
  size: z.number().int().min(0),
  lastModified: z.iso.datetime(),
  /** Objects assembled from checksummed parts: S3's COMPOSITE SHA-256. */
  checksum: z.object({ algorithm: z.enum(CHECKSUM_ALGORITHMS), type: z.literal('COMPOSITE'), value: z.string() }).optional(),
  /** The object's data under blobs/; checked again by `layout.blobFile` before use. */
  blob: z.string(),
  /**
   * The files in the blob folder whose concatenation, in this order, is the object. Absent in
   * metadata written before objects had segments: then `blob` is the one data file.
   */
  segments: z.array(z.object({ file: z.string().refine(isSegmentFileName), size: z.number().int().min(0) })).optional(),
});

type ObjectMeta = z.infer<typeof objectMeta>;

/** What heads and listings need: the segment list (10,000 entries for some objects) is not checked. */
const objectInfoMeta = objectMeta.omit({ segments: true });

/** Data ready to become an object: a folder in tmp/ holding `segments`, in order. */
export interface StagedData {
  folder: string;
  segments: { file: string; size: number }[];
}

/** Removing or replacing an object while readers open it can race; this many tries settle it. */
const OPEN_ATTEMPTS = 3;

async function readMeta(context: LocalContext, key: string): Promise<ObjectMeta | undefined> {
  const meta = await readJsonFile(context.layout.metaFile(key), objectMeta, 'object metadata');
  if (meta?.segments && meta.segments.reduce((total, segment) => total + segment.size, 0) !== meta.size) {
    throw diskFailure('object metadata is damaged');
  }
  return meta;
}

/** What to read for an object, in order; an old-format object is its one blob file. */
function segmentsOf(meta: ObjectMeta): Segment[] {
  return meta.segments ?? [{ size: meta.size }];
}

function toInfo(meta: z.infer<typeof objectInfoMeta>): ObjectInfo {
  return {
    key: meta.key,
    size: meta.size,
    contentType: meta.contentType,
    etag: meta.etag,
    lastModified: new Date(meta.lastModified),
    ...(meta.checksum ? { checksum: meta.checksum } : {}),
  };
}

export async function headObject(context: LocalContext, key: string): Promise<ObjectInfo | null> {
  const meta = await readJsonFile(context.layout.metaFile(key), objectInfoMeta, 'object metadata');
  return meta ? toInfo(meta) : null;
}

/**
 * Streams the object's segments, or the part of them a range asks for. The first file to read is
 * opened before this returns, and the blob stays pinned while the body is read, so a delete or a
 * replacement after that point cannot cut the read short. A first file that vanished between
 * reading the metadata and opening it means the object just changed: read the metadata again.
 */
export async function getObject(context: LocalContext, key: string, options: GetObjectOptions = {}): Promise<ObjectBody> {
  for (let attempt = 0; attempt < OPEN_ATTEMPTS; attempt += 1) {
    const meta = await readMeta(context, key);
    if (!meta) throw new AppError('NOT_FOUND', `no object at ${key}`);
    const span = options.range ? resolveRange(options.range, meta.size) : undefined;
    const start = span?.start ?? 0;
    const contentLength = span ? span.end - span.start + 1 : meta.size;
    const blob = { id: meta.blob, location: context.layout.blobFile(meta.blob) };
    let body: Awaited<ReturnType<typeof openSegmentReader>>;
    try {
      body = await openSegmentReader(context.pins, blob, segmentsOf(meta), start, contentLength);
    } catch (error) {
      throw storageFailed('opening the object', error);
    }
    if (!body) continue;
    if (options.signal) addAbortSignal(options.signal, body);
    return span ? { ...toInfo(meta), body, contentLength, range: span } : { ...toInfo(meta), body, contentLength };
  }
  throw diskFailure(`the data of ${key} is missing`);
}

/**
 * Makes the staged data the object at `key`. The staged folder becomes the object's blob in one
 * rename; the metadata file names the blob and its segments, and the metadata's rename is the
 * single commit point: before it readers see the old object (or none), after it the new one,
 * never a mix or a partial object. The replaced blob is retired afterwards.
 */
export async function commitObject(
  context: LocalContext,
  key: string,
  data: StagedData,
  info: { contentType: string; etag: string; size: number; checksum?: ObjectChecksum },
): Promise<void> {
  const { layout } = context;
  await context.locks.run(`object:${key}`, async () => {
    const previous = await readMeta(context, key);
    const blob = newRandomId();
    await translateFsErrors('storing the object', async () => {
      await rename(data.folder, layout.blobFile(blob));
      const meta: ObjectMeta = {
        key,
        ...info,
        lastModified: new Date(context.now()).toISOString(),
        blob,
        segments: data.segments,
      };
      try {
        await writeFileAtomic(layout, layout.metaFile(key), JSON.stringify(meta));
      } catch (error) {
        await rm(layout.blobFile(blob), { recursive: true, force: true });
        throw error;
      }
      if (previous) await retireBlob(context, previous.blob);
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
      await retireBlob(context, meta.blob);
    });
  });
}

/** Removes a blob no metadata names any more: a folder of segments, or an old single data file. */
function retireBlob(context: LocalContext, blobId: string): Promise<void> {
  const { layout } = context;
  return context.pins.retire(blobId, layout.blobFile(blobId), layout.tempFile());
}
