import { baseName } from './file-name.js';
import { fileTypeFromName } from './mime.js';
import { partCount, partLength } from './part-size.js';
import type { SourcePart, UploadSource } from './source.js';

/**
 * A Blob or File: parts are lazy slices, so a 2 GiB file picked in a browser (or opened with
 * `fs.openAsBlob`) is read from disk only while its parts are being sent.
 */
export function blobSource(blob: Blob): UploadSource {
  const name = (blob as { name?: unknown }).name;
  return {
    size: blob.size,
    fileType: blob.type || fileTypeFromName(typeof name === 'string' ? name : undefined),
    fileName: baseName(name),
    rereadable: true,
    async *parts(partSize: number): AsyncGenerator<SourcePart, void, undefined> {
      const count = partCount(blob.size, partSize);
      for (let partNumber = 1; partNumber <= count; partNumber++) {
        const start = (partNumber - 1) * partSize;
        const size = partLength(blob.size, partSize, partNumber);
        // The slice gets no type: a typed Blob body would add a Content-Type to the part PUT.
        yield { partNumber, size, read: async () => blob.slice(start, start + size) };
      }
    },
    close: async () => {},
  };
}
