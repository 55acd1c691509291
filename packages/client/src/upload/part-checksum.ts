import type { PartPayload } from './source.js';

/**
 * WebCrypto's SHA-256: native in browsers and in Node (where it runs off the main thread), so a
 * part's checksum costs a fraction of its upload. Browsers offer it only in secure contexts
 * (https, localhost); elsewhere parts go without checksums.
 */
export function canChecksum(): boolean {
  return typeof globalThis.crypto?.subtle?.digest === 'function';
}

/**
 * Base64 SHA-256 of a part, as S3's `x-amz-checksum-sha256` spells it. A Blob slice is read for it
 * and its bytes dropped again: the PUT sends the slice, which browsers stream from the file. A
 * file changed in between no longer matches, and the store refuses it.
 */
export async function checksumPart(payload: PartPayload): Promise<string> {
  const bytes = payload instanceof Blob ? await payload.arrayBuffer() : payload;
  return toBase64(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes)));
}

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}
