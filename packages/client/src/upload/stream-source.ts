import { UploadError } from '../errors.js';
import { baseName } from './file-name.js';
import { fileTypeFromName } from './mime.js';
import { MAX_PARTS } from './part-size.js';
import type { SourcePart, UploadSource } from './source.js';

/** A Node Readable, any async iterable of bytes, or a web ReadableStream. */
export type ByteStream = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

export interface StreamSourceOptions {
  /** The stream's length, when the caller knows it: progress gets a total, parts may grow. */
  size?: number;
}

/**
 * A stream is read strictly in order into part-sized buffers. Reading is pulled by the
 * uploader (a part is filled only when a worker asks for it), so the stream's own backpressure
 * holds it back while all workers are busy and memory stays near `concurrency x partSize`.
 */
export function streamSource(input: ByteStream, options: StreamSourceOptions = {}): UploadSource {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const path = (input as { path?: unknown }).path;

  const chunks = async function* (): AsyncGenerator<Uint8Array, void, undefined> {
    if (!isReadableStream(input)) {
      // for-await closes (destroys) a Node Readable when the consumer stops early.
      yield* input;
      return;
    }
    // Not every browser can iterate a ReadableStream with for-await; its reader works everywhere.
    reader = input.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  };

  return {
    size: options.size,
    fileType: fileTypeFromName(typeof path === 'string' ? path : undefined),
    fileName: baseName(path),
    rereadable: false,
    parts: (partSize) => streamParts(chunks(), partSize, options.size),
    close: async () => {
      if (isReadableStream(input)) await reader?.cancel().catch(() => {});
      else (input as { destroy?: () => void }).destroy?.();
    },
  };
}

async function* streamParts(
  chunks: AsyncIterable<unknown>,
  partSize: number,
  declaredSize: number | undefined,
): AsyncGenerator<SourcePart, void, undefined> {
  let partNumber = 1;
  let total = 0;
  // Allocated when the first byte of a part arrives, so an empty stream allocates nothing.
  let buffer: Uint8Array<ArrayBuffer> | undefined;
  let filled = 0;

  const takePart = (): SourcePart => {
    if (partNumber > MAX_PARTS) {
      throw new UploadError(
        'INVALID_PARAMETER',
        `the stream is longer than ${MAX_PARTS} parts of ${partSize} bytes; pass its \`size\` or a larger \`partSize\``,
      );
    }
    const bytes = buffer ? buffer.subarray(0, filled) : new Uint8Array(0);
    const part: SourcePart = { partNumber, size: bytes.byteLength, read: async () => bytes };
    partNumber++;
    buffer = undefined;
    filled = 0;
    return part;
  };

  for await (const chunk of chunks) {
    if (!(chunk instanceof Uint8Array)) {
      throw new UploadError('INVALID_PARAMETER', 'the stream must yield bytes (Uint8Array or Buffer), not strings or objects');
    }
    total += chunk.byteLength;
    if (declaredSize !== undefined && total > declaredSize) {
      throw new UploadError('INVALID_PARAMETER', `the stream is longer than its declared size of ${declaredSize} bytes`);
    }
    for (let offset = 0; offset < chunk.byteLength; ) {
      buffer ??= new Uint8Array(partSize);
      const length = Math.min(partSize - filled, chunk.byteLength - offset);
      buffer.set(chunk.subarray(offset, offset + length), filled);
      filled += length;
      offset += length;
      if (filled === partSize) yield takePart();
    }
  }
  if (declaredSize !== undefined && total !== declaredSize) {
    throw new UploadError('INVALID_PARAMETER', `the stream ended after ${total} of its declared ${declaredSize} bytes`);
  }
  // The short last part, or the one empty part of an empty stream.
  if (filled > 0 || partNumber === 1) yield takePart();
}

function isReadableStream(input: ByteStream): input is ReadableStream<Uint8Array> {
  return typeof (input as { getReader?: unknown }).getReader === 'function';
}
