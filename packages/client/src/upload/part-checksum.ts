import type { PartPayload } from './source.js';

/** The part of node:crypto used here, reached without an import so that browser bundles need no Node. */
interface NodeCrypto {
  createHash(algorithm: 'sha256'): { update(data: Uint8Array): { digest(encoding: 'base64'): string } };
}

/**
 * Node's own hash where there is one: `process.getBuiltinModule` (Node 20.16 and 22.3 on) hands out
 * node:crypto without an import. It hashes on the calling thread at about half the CPU of
 * WebCrypto's digest, which copies the part and hands it to the thread pool: on a client and
 * server sharing two cores the difference was most of the checksum's cost.
 */
function nodeCrypto(): NodeCrypto | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
}

const node = nodeCrypto();

/**
 * SHA-256 is native everywhere the client runs: node:crypto in Node, WebCrypto in browsers, which
 * offer it only in secure contexts (https, localhost); elsewhere parts go without checksums.
 */
export function canChecksum(): boolean {
  return node !== undefined || typeof globalThis.crypto?.subtle?.digest === 'function';
}

/**
 * Base64 SHA-256 of a part, as S3's `x-amz-checksum-sha256` spells it. A Blob slice is read for it
 * and its bytes dropped again: the PUT sends the slice, which browsers stream from the file. A
 * file changed in between no longer matches, and the store refuses it.
 */
export async function checksumPart(payload: PartPayload): Promise<string> {
  const bytes = payload instanceof Blob ? new Uint8Array(await payload.arrayBuffer()) : payload;
  if (node) return node.createHash('sha256').update(bytes).digest('base64');
  return toBase64(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes)));
}

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}
