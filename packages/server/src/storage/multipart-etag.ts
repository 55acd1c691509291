import { createHash } from 'node:crypto';

/** `"abc"` and `abc` name the same part; S3 returns them quoted. */
export function quoteEtag(etag: string): string {
  const bare = etag.replace(/^"+|"+$/g, '');
  return `"${bare}"`;
}

/**
 * S3's ETag for an object assembled from parts: the MD5 of the parts' binary MD5s, then the part
 * count. `undefined` when a part ETag is not a plain MD5 (e.g. a store that uses other hashes).
 */
export function multipartEtag(partEtags: readonly string[]): string | undefined {
  const hash = createHash('md5');
  for (const etag of partEtags) {
    const hex = etag.replace(/^"+|"+$/g, '');
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) return undefined;
    hash.update(Buffer.from(hex, 'hex'));
  }
  return `"${hash.digest('hex')}-${partEtags.length}"`;
}
