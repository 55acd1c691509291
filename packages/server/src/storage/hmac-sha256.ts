import { hash } from 'node:crypto';

const BLOCK_BYTES = 64;
const DIGEST_BYTES = 32;

/*
 * HMAC-SHA256 (RFC 2104) under one key for many messages. `createHmac` sets the key up again
 * for every message, and a Node crypto object costs more than hashing a signed URL's few hundred
 * bytes: the key's padded blocks are written once into reused buffers, and each message then
 * costs two one-shot SHA-256 calls. Tested equal to `createHmac` for any key and message.
 */

/** The key's inner and outer blocks (key XOR ipad, key XOR opad), each at the head of its buffer. */
function paddedKey(key: Uint8Array, innerBytes: number) {
  const block = Buffer.alloc(BLOCK_BYTES);
  block.set(key.length > BLOCK_BYTES ? hash('sha256', key, 'buffer') : key);
  const inner = Buffer.alloc(BLOCK_BYTES + innerBytes);
  const outer = Buffer.alloc(BLOCK_BYTES + DIGEST_BYTES);
  for (let index = 0; index < BLOCK_BYTES; index++) {
    inner[index] = block[index]! ^ 0x36;
    outer[index] = block[index]! ^ 0x5c;
  }
  return { inner, outer };
}

/** HMAC of `prefix + suffix`, hex, for many suffixes of at most `maxSuffixBytes` bytes (SigV4's string to sign). */
export function prefixedHmacSha256(key: Uint8Array, prefix: string, maxSuffixBytes: number): (suffix: string) => string {
  const prefixBytes = Buffer.from(prefix, 'utf8');
  const { inner, outer } = paddedKey(key, prefixBytes.length + maxSuffixBytes);
  prefixBytes.copy(inner, BLOCK_BYTES);
  const suffixAt = BLOCK_BYTES + prefixBytes.length;

  return (suffix) => {
    if (Buffer.byteLength(suffix, 'utf8') > maxSuffixBytes) throw new RangeError(`HMAC suffix longer than ${maxSuffixBytes} bytes`);
    const written = inner.write(suffix, suffixAt, 'utf8');
    hash('sha256', inner.subarray(0, suffixAt + written), 'buffer').copy(outer, BLOCK_BYTES);
    return hash('sha256', outer, 'hex');
  };
}

/** HMAC of any message (the local driver's signed text), as a Buffer. */
export function keyedHmacSha256(key: Uint8Array): (message: string) => Buffer {
  const padded = paddedKey(key, 512);
  const outer = padded.outer;
  let inner = padded.inner;
  return (message) => {
    const length = Buffer.byteLength(message, 'utf8');
    if (BLOCK_BYTES + length > inner.length) {
      const grown = Buffer.alloc(2 ** Math.ceil(Math.log2(BLOCK_BYTES + length)));
      inner.copy(grown, 0, 0, BLOCK_BYTES);
      inner = grown;
    }
    inner.write(message, BLOCK_BYTES, 'utf8');
    hash('sha256', inner.subarray(0, BLOCK_BYTES + length), 'buffer').copy(outer, BLOCK_BYTES);
    return hash('sha256', outer, 'buffer');
  };
}
