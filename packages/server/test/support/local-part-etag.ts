import { createHash } from 'node:crypto';

/**
 * The local store's part ETag, unquoted, worked out here from the bytes: the first 128 bits of
 * their SHA-256 in hex. Written apart from the driver so a test catches the driver changing it.
 */
export function localPartEtagHex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest().subarray(0, 16).toString('hex');
}
