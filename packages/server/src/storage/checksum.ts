import { createHash } from 'node:crypto';

/**
 * Checksums as S3 defines them for multipart uploads. The one algorithm is SHA-256: browsers
 * compute it natively (WebCrypto), Node too, and S3, versitygw and MinIO verify it on each part.
 * A part's checksum is the base64 of its SHA-256; the object's is S3's COMPOSITE form, the
 * SHA-256 of the parts' binary digests, then `-<part count>`.
 */
export const CHECKSUM_ALGORITHMS = ['SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** The header a part PUT carries its checksum in, and a download the object's. */
export const SHA256_HEADER = 'x-amz-checksum-sha256';
export const CHECKSUM_TYPE_HEADER = 'x-amz-checksum-type';

/** Base64 of 32 bytes: 43 characters and one `=`. */
export const SHA256_BASE64 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** An object's checksum, as head, listings and downloads report it. */
export interface ObjectChecksum {
  algorithm: ChecksumAlgorithm;
  /** COMPOSITE: of the parts' checksums, so it holds as long as the parts are cut the same way. */
  type: 'COMPOSITE';
  /** `<base64 of SHA-256 over the part digests>-<part count>`, as S3 reports it. */
  value: string;
}

export function sha256Base64(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

/** S3's COMPOSITE SHA-256 of an object made of parts with these checksums, in part order. */
export function compositeSha256(partChecksums: readonly string[]): ObjectChecksum {
  const hash = createHash('sha256');
  for (const checksum of partChecksums) hash.update(Buffer.from(checksum, 'base64'));
  return { algorithm: 'SHA256', type: 'COMPOSITE', value: `${hash.digest('base64')}-${partChecksums.length}` };
}

const COMPOSITE_VALUE = /^[A-Za-z0-9+/]{43}=-\d{1,5}$/;

/** An S3 answer's `ChecksumSHA256` for a multipart object, when it is one. */
export function compositeFromS3(value: string | undefined): ObjectChecksum | undefined {
  return value !== undefined && COMPOSITE_VALUE.test(value) ? { algorithm: 'SHA256', type: 'COMPOSITE', value } : undefined;
}

/** How the catalogue keeps a checksum in one text column: `SHA256/COMPOSITE/<value>`. */
export function formatChecksum(checksum: ObjectChecksum): string {
  return `${checksum.algorithm}/${checksum.type}/${checksum.value}`;
}

export function parseChecksum(text: string | null | undefined): ObjectChecksum | undefined {
  if (!text) return undefined;
  const [algorithm, type, value] = text.split('/', 3);
  if (algorithm !== 'SHA256' || type !== 'COMPOSITE' || value === undefined) return undefined;
  // The value itself holds `/` (base64): everything after the second separator.
  return compositeFromS3(text.slice(`${algorithm}/${type}/`.length));
}
