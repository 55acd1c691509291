import { UploadError } from '../errors.js';

const MiB = 1024 * 1024;

/** S3's multipart limits, which every store of the service follows. */
export const MAX_PARTS = 10_000;
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * 1024 * MiB;
export const DEFAULT_PART_SIZE = 8 * MiB;

/**
 * The part size to use: the caller's wish (default 8 MiB), raised to S3's 5 MiB minimum (only
 * the last part may be smaller, and a single part is also the last), then grown in whole MiB
 * until the file fits in 10 000 parts. Streams of unknown length keep the wish and fail at part
 * 10 001; pass `size` to let them grow too.
 */
export function choosePartSize(totalSize: number | undefined, requested = DEFAULT_PART_SIZE): number {
  if (!Number.isFinite(requested) || requested <= 0) {
    throw new UploadError('INVALID_PARAMETER', `partSize must be a positive number of bytes, got ${requested}`);
  }
  let size = Math.max(Math.ceil(requested), MIN_PART_SIZE);
  if (totalSize !== undefined && Math.ceil(totalSize / size) > MAX_PARTS) {
    size = Math.ceil(totalSize / MAX_PARTS / MiB) * MiB;
  }
  if (size > MAX_PART_SIZE) {
    throw new UploadError(
      'INVALID_PARAMETER',
      `${totalSize} bytes need parts of ${size} bytes, over the 5 GiB limit of a part (at most ${MAX_PARTS} parts)`,
    );
  }
  return size;
}

/** Parts a known size splits into; an empty file is one empty part. */
export function partCount(totalSize: number, partSize: number): number {
  return Math.max(1, Math.ceil(totalSize / partSize));
}

/** Bytes in part `partNumber` (1-based) of a file of known size. */
export function partLength(totalSize: number, partSize: number, partNumber: number): number {
  return Math.max(0, Math.min(partSize, totalSize - (partNumber - 1) * partSize));
}
