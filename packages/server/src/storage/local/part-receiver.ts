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
  /** Also report the body's SHA-256 (a checksummed upload), for the caller to compare. */
  sha256?: boolean;
}

/** A part's ETag is this many bytes of its SHA-256, in hex: the 32 characters of an MD5's shape. */
const ETAG_BYTES = 16;

/**
 * Streams a part's body into `file`, hashing it on the way so its ETag (and checksum) need no
 * second read, and counting it so a body longer than its declared length still cannot pass the
 * limit. On any failure, including the sender going away mid-body, `file` is removed by `streamToNewFile`.
 *
 * One hash serves both: the ETag is the first 128 bits of the part's SHA-256. S3 promises no MD5
 * in an ETag (its encrypted objects have none), and a part ETag only has to come back at complete;
 * an object's stays S3's `"<MD5 of the part ETags>-<count>"`. MD5 cost twice SHA-256's CPU on CPUs
 * with SHA extensions, and a checksummed part needed SHA-256 anyway.
 */
export async function receivePart(body: Readable, file: string, options: ReceiveOptions = {}): Promise<PartFileFacts> {
  const limit = options.limit ?? MAX_PART_SIZE;
  const hash = createHash('sha256');
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
  const digest = hash.digest();
  const received: PartFileFacts = { etagHex: digest.subarray(0, ETAG_BYTES).toString('hex'), size };
  if (options.sha256) received.sha256 = digest.toString('base64');
  return received;
}
