import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AppError, isAppError } from '../../errors.js';
import { type Chunks, streamToNewFile } from './files.js';
import { storageFailed } from './fs-errors.js';

/** S3's largest part. */
export const MAX_PART_SIZE = 5 * 1024 ** 3;

/** Refuses, before reading a byte, a body whose declared length is already too large. */
export function refuseDeclaredOversize(request: IncomingMessage, limit = MAX_PART_SIZE): void {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
}

/**
 * Streams a part's body into `file`, hashing it on the way so its ETag needs no second read, and
 * counting it so a body without (or lying about) Content-Length still cannot pass the limit. On
 * any failure, including the client going away mid-body, `file` is removed by `streamToNewFile`.
 */
export async function receivePart(request: IncomingMessage, file: string, limit = MAX_PART_SIZE): Promise<{ md5: string; size: number }> {
  const hash = createHash('md5');
  let size = 0;
  async function* measure(chunks: Chunks): Chunks {
    for await (const chunk of chunks) {
      size += chunk.length;
      if (size > limit) throw tooLarge(limit);
      hash.update(chunk);
      yield chunk;
    }
  }
  try {
    await streamToNewFile(file, request, measure);
  } catch (error) {
    // A vanished client is no store failure; the error only unwinds the request.
    if (isAppError(error) || request.destroyed) throw error;
    throw storageFailed('writing the part', error);
  }
  return { md5: hash.digest('hex'), size };
}

function tooLarge(limit: number): AppError {
  return new AppError('PAYLOAD_TOO_LARGE', `a part may have at most ${limit} bytes`);
}
