import { hash } from 'node:crypto';

const BLOCK_BYTES = 64;
const DIGEST_BYTES = 32;

/**
 * HMAC-SHA256 (RFC 2104) of `prefix + suffix` under one key, for many suffixes of at most
 * `maxSuffixBytes` bytes each.
 *
 * `createHmac` sets the key up again for every message, and a Node crypto object costs more than
 * the hashing of a string to sign; SigV4 signs thousands of such strings with one key. The key's
 * padded blocks and the prefix are written once into reused buffers, and each message then costs
 * two one-shot SHA-256 calls. Callers check the result against the SDK's own signature.
 */
export function prefixedHmacSha256(key: Uint8Array, prefix: string, maxSuffixBytes: number): (suffix: string) => string {
  const block = Buffer.alloc(BLOCK_BYTES);
  block.set(key.length > BLOCK_BYTES ? hash('sha256', key, 'buffer') : key);
  const prefixBytes = Buffer.from(prefix, 'utf8');
  const inner = Buffer.alloc(BLOCK_BYTES + prefixBytes.length + maxSuffixBytes);
  const outer = Buffer.alloc(BLOCK_BYTES + DIGEST_BYTES);
  for (let index = 0; index < BLOCK_BYTES; index++) {
    inner[index] = block[index]! ^ 0x36;
    outer[index] = block[index]! ^ 0x5c;
  }
  prefixBytes.copy(inner, BLOCK_BYTES);
  const suffixAt = BLOCK_BYTES + prefixBytes.length;

  return (suffix) => {
    if (Buffer.byteLength(suffix, 'utf8') > maxSuffixBytes) throw new RangeError(`HMAC suffix longer than ${maxSuffixBytes} bytes`);
    const written = inner.write(suffix, suffixAt, 'utf8');
    hash('sha256', inner.subarray(0, suffixAt + written), 'buffer').copy(outer, BLOCK_BYTES);
    return hash('sha256', outer, 'hex');
  };
}
