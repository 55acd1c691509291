import type { PartPayload } from './source.js';

/**
 * WebCrypto's SHA-256: native in browsers and in Node (where it runs off the main thread), so a
 * part's checksum costs a fraction of its upload. Browsers offer it only in secure contexts
 * (https, localhost); elsewhere parts go without checksums.
 */
export function canChecksum(): boolean {
  return typeof globalThis.crypto?.subtle?.digest === 'function';
}

export interface ChecksummedPart {
  /** The bytes that were hashed: exactly these are sent, so a file changing meanwhile cannot slip through. */
  bytes: Uint8Array<ArrayBuffer>;
  /** Base64 SHA-256, as S3's `x-amz-checksum-sha256` spells it. */
  checksum: string;
}

export async function checksumPart(payload: PartPayload): Promise<ChecksummedPart> {
  const bytes = payload instanceof Blob ? new Uint8Array(await payload.arrayBuffer()) : payload;
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  return { bytes, checksum: toBase64(digest) };
}

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}
