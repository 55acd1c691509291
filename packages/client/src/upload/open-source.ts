import { UploadError } from '../errors.js';
import { blobSource } from './blob-source.js';
import { bytesSource } from './bytes-source.js';
import { fileSource } from './file-source.js';
import type { UploadSource } from './source.js';
import { type ByteStream, streamSource } from './stream-source.js';

/**
 * What `client.upload` accepts: a Blob or File, bytes in memory, a Node Readable (or any async
 * iterable of bytes), a web ReadableStream, or (in Node) the path of a file.
 */
export type UploadData = Blob | Uint8Array | ArrayBuffer | ByteStream | string;

/** Picks the reader for an input; only a file path loads anything Node-specific. */
export async function openSource(data: UploadData, options: { size?: number } = {}): Promise<UploadSource> {
  if (typeof data === 'string') return fileSource(data);
  if (typeof Blob !== 'undefined' && data instanceof Blob) return blobSource(data);
  if (data instanceof ArrayBuffer) return bytesSource(new Uint8Array(data));
  if (data instanceof Uint8Array) return bytesSource(ownBytes(data));
  if (isStream(data)) return streamSource(data, options);
  throw new UploadError(
    'INVALID_PARAMETER',
    'upload data must be a Blob, File, Uint8Array, ArrayBuffer, ReadableStream, Node Readable or a file path',
  );
}

/** fetch cannot send views of a SharedArrayBuffer; those are copied, everything else is used as it is. */
function ownBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

function isStream(data: object): data is ByteStream {
  return typeof (data as { getReader?: unknown }).getReader === 'function' || Symbol.asyncIterator in data;
}
