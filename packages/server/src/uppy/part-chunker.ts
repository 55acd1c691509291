import { AppError } from '../errors.js';

/**
 * Cuts a byte stream into parts of exactly `partSize` bytes (the last one shorter), so a file sent
 * in one body can be stored as a multipart upload while at most about one part is held in memory:
 * the next chunk is read only when the consumer asks for the next part (backpressure). An empty
 * stream is one empty part, so an empty file still makes an object. More than `limit` bytes in all
 * is PAYLOAD_TOO_LARGE as soon as the byte past it arrives.
 */
export async function* cutIntoParts(chunks: AsyncIterable<Uint8Array>, partSize: number, limit: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let total = 0;
  let parts = 0;
  for await (const chunk of chunks) {
    total += chunk.byteLength;
    if (total > limit) throw new AppError('PAYLOAD_TOO_LARGE', `the file is larger than ${limit} bytes, the most this path takes`);
    pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    pendingBytes += chunk.byteLength;
    while (pendingBytes >= partSize) {
      const joined = Buffer.concat(pending, pendingBytes);
      const rest = joined.subarray(partSize);
      // The rest is copied out so the part's buffer is not kept alive by it.
      pending = rest.byteLength > 0 ? [Buffer.from(rest)] : [];
      pendingBytes = rest.byteLength;
      parts += 1;
      yield joined.subarray(0, partSize);
    }
  }
  if (pendingBytes > 0 || parts === 0) yield Buffer.concat(pending, pendingBytes);
}
