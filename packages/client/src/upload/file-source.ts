import { UploadError } from '../errors.js';
import { baseName } from './file-name.js';
import { fileTypeFromName } from './mime.js';
import { partCount, partLength } from './part-size.js';
import type { SourcePart, UploadSource } from './source.js';

/** The little of `node:fs/promises` this module uses, typed here so browser builds need no Node types. */
interface FileHandleLike {
  stat(): Promise<{ size: number; isFile(): boolean }>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}
interface FsPromisesLike {
  open(path: string, flags: 'r'): Promise<FileHandleLike>;
}

/**
 * The module name sits in a variable so that browser bundlers do not try to resolve or bundle
 * it: the Node file system is loaded only when a caller actually uploads a path.
 */
const FS_MODULE = 'node:fs/promises';

/** A file on disk (Node): parts are read with positioned reads when they are about to be sent. */
export async function fileSource(path: string): Promise<UploadSource> {
  const fs = await loadFs();
  const handle = await fs.open(path, 'r').catch((error: unknown) => {
    throw new UploadError('INVALID_PARAMETER', `cannot open ${path}: ${(error as Error).message}`, { cause: error });
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await close();
    throw new UploadError('INVALID_PARAMETER', `${path} is not a regular file`);
  }
  const size = stats.size;
  return {
    size,
    fileType: fileTypeFromName(path),
    fileName: baseName(path),
    rereadable: true,
    async *parts(partSize: number): AsyncGenerator<SourcePart, void, undefined> {
      const count = partCount(size, partSize);
      for (let partNumber = 1; partNumber <= count; partNumber++) {
        const position = (partNumber - 1) * partSize;
        const length = partLength(size, partSize, partNumber);
        yield { partNumber, size: length, read: () => readFully(handle, position, length, path) };
      }
    },
    close,
  };
}

async function loadFs(): Promise<FsPromisesLike> {
  try {
    return (await import(/* @vite-ignore */ /* webpackIgnore: true */ FS_MODULE)) as FsPromisesLike;
  } catch (error) {
    throw new UploadError('INVALID_PARAMETER', 'uploading a file path needs Node; in a browser pass a File or Blob', {
      cause: error,
    });
  }
}

/** `read` may return fewer bytes than asked; loop until the part is whole. */
async function readFully(handle: FileHandleLike, position: number, length: number, path: string): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(bytes, filled, length - filled, position + filled);
    if (bytesRead === 0) throw new UploadError('INVALID_PARAMETER', `${path} got shorter while it was being uploaded`);
    filled += bytesRead;
  }
  return bytes;
}
