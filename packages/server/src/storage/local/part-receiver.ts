import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { isAppError } from '../../errors.js';
import { MAX_PART_SIZE, partTooLarge } from '../multipart.js';
import { type Chunks, streamToNewFile } from './files.js';
import { storageFailed } from './fs-errors.js';

/**
 * Streams a part's body into `file`, hashing it on the way so its ETag needs no second read, and
 * counting it so a body longer than its declared length still cannot pass the limit. On any
 * failure, including the sender going away mid-body, `file` is removed by `streamToNewFile`.
 */
export async function receivePart(body: Readable, file: string, limit = MAX_PART_SIZE): Promise<{ md5: string; size: number }> {
  const hash = createHash('md5');
  let size = 0;
  async function* measure(chunks: Chunks): Chunks {
    for await (const chunk of chunks) {
      size += chunk.length;
      if (size > limit) throw partTooLarge(limit);
      hash.update(chunk);
      yield chunk;
    }
  }
  try {
    await streamToNewFile(file, body, measure);
  } catch (error) {
    // A vanished sender is no store failure; the error only unwinds the request.
    if (isAppError(error) || body.destroyed) throw error;
    throw storageFailed('writing the part', error);
  }
  return { md5: hash.digest('hex'), size };
}
