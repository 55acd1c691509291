import { partCount, partLength } from './part-size.js';
import type { SourcePart, UploadSource } from './source.js';

/** Bytes already in memory: parts are views into them, never copies. */
export function bytesSource(bytes: Uint8Array<ArrayBuffer>): UploadSource {
  return {
    size: bytes.byteLength,
    fileType: undefined,
    fileName: undefined,
    rereadable: true,
    async *parts(partSize: number): AsyncGenerator<SourcePart, void, undefined> {
      const count = partCount(bytes.byteLength, partSize);
      for (let partNumber = 1; partNumber <= count; partNumber++) {
        const start = (partNumber - 1) * partSize;
        const size = partLength(bytes.byteLength, partSize, partNumber);
        yield { partNumber, size, read: async () => bytes.subarray(start, start + size) };
      }
    },
    close: async () => {},
  };
}
