import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { isAppError } from '../../errors.js';
import { MAX_PART_SIZE, partTooLarge } from '../multipart.js';
import { type Chunks, streamToNewFile } from './files.js';
import { storageFailed } from './fs-errors.js';
import type { PartFileFacts } from './layout.js';

export interface ReceiveOptions {
  /** Largest body accepted: S3's part limit, or the length the URL was signed for. */
  limit?: number;
  /** Also hash the body with SHA-256 (a checksummed upload), for the caller to compare. */
  sha256?: boolean;
}

/**
 * Streams a part's body into `file`, hashing it on the way so its ETag (and checksum) need no
 * second read, and counting it so a body longer than its declared length still cannot pass the
 * limit. On any failure, including the sender going away mid-body, `file` is removed by `streamToNewFile`.
 */
export async function receivePart(body: Readable, file: string, options: ReceiveOptions = {}): Promise<PartFileFacts> {
  const limit = options.limit ?? MAX_PART_SIZE;
  const hash = createHash('md5');
  const sha256 = options.sha256 ? createHash('sha256') : undefined;
  let size = 0;
  async function* measure(chunks: Chunks): Chunks {
    for await (const chunk of chunks) {
      size += chunk.length;
      if (size > limit) throw partTooLarge(limit);
      hash.update(chunk);
      sha256?.update(chunk);
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
  const received: PartFileFacts = { md5: hash.digest('hex'), size };
  if (sha256) received.sha256 = sha256.digest('base64');
  return received;
}
