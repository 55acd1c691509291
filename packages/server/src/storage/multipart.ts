import { createHash } from 'node:crypto';
import { AppError } from '../errors.js';
import { MAX_PART_BYTES } from '../schemas.js';
import type { CompletedPart } from './store.js';

/*
 * The rules of S3's multipart uploads that both drivers follow, so that they answer alike: the
 * local store because it emulates S3, the S3 driver because S3-compatible servers differ.
 */

/** S3's largest part: a body over it is refused before or while it is read. */
export const MAX_PART_SIZE = MAX_PART_BYTES;

/** A part body over the limit: S3's largest part, or the length its URL was signed for. */
export function partTooLarge(limit: number): AppError {
  return new AppError('PAYLOAD_TOO_LARGE', `a part may have at most ${limit} bytes`);
}

/** Like S3 with a signed Content-Length: a body of another length fails the signature. */
export function partLengthMismatch(contentLength: number): AppError {
  return new AppError('INVALID_SIGNATURE', `this URL accepts a body of exactly ${contentLength} bytes`);
}

/** Like S3's BadDigest: the body's bytes are not the ones the URL was signed for. */
export function checksumMismatch(): AppError {
  return new AppError('CHECKSUM_MISMATCH', "the part's bytes do not match the SHA-256 its URL was signed with: altered or cut in transit");
}

/** `"abc"` and `abc` name the same part; S3 returns them quoted. */
export function quoteEtag(etag: string): string {
  return `"${bareEtag(etag)}"`;
}

/** The ETag as two of the same part compare: without quotes or surrounding space. */
export function bareEtag(etag: string): string {
  return etag.trim().replace(/^"+|"+$/g, '');
}

/**
 * S3's ETag for an object assembled from parts: the MD5 of the parts' binary ETags (on S3 their
 * MD5s; on the local store 128 bits of their SHA-256), then the part count. `undefined` when a
 * part ETag is not 32 hex characters (e.g. a store that uses other hashes).
 */
export function multipartEtag(partEtags: readonly string[]): string | undefined {
  const hash = createHash('md5');
  for (const etag of partEtags) {
    const hex = bareEtag(etag);
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) return undefined;
    hash.update(Buffer.from(hex, 'hex'));
  }
  return `"${hash.digest('hex')}-${partEtags.length}"`;
}

/**
 * S3's first checks of the list a complete names, in S3's order: not empty (MalformedXML), part
 * numbers strictly ascending, each once (InvalidPartOrder). Decided here rather than left to the
 * server: S3 answers MalformedXML to an empty list, which reads like a driver bug, and servers
 * differ on which error wins when parts are out of order (versitygw may report EntityTooSmall).
 */
export function assertPartList(parts: readonly CompletedPart[]): void {
  if (parts.length === 0) throw new AppError('UPLOAD_FAILED', 'MalformedXML: an upload needs at least one part to complete');
  for (let index = 1; index < parts.length; index++) {
    if (parts[index]!.partNumber <= parts[index - 1]!.partNumber) {
      throw new AppError(
        'UPLOAD_FAILED',
        `InvalidPartOrder: part numbers must be listed in strictly ascending order, each once (part ${parts[index]!.partNumber})`,
      );
    }
  }
}
