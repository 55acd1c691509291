import { rmSync, unlinkSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BatchingFileWriter } from './batched-writes.js';
import { fsErrorCode } from './fs-errors.js';
import type { Layout } from './layout.js';
import { forEachInSlices } from './slices.js';

export type Chunks = AsyncIterable<Buffer>;

/**
 * Writes a small file so readers see the old content or the new, never a half-written one:
 * write beside it in tmp/ (same filesystem), then rename over it.
 */
export async function writeFileAtomic(layout: Layout, path: string, data: string, mode = 0o644): Promise<void> {
  const temp = layout.tempFile();
  try {
    await writeFile(temp, data, { flag: 'wx', mode });
    await mkdir(dirname(path), { recursive: true });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Streams `source` (through `through`, which may inspect or refuse chunks) into a new file at
 * `path`, in batched writes. The file is opened before the pipeline starts, so when the pipeline
 * fails (a client gone mid-body, a size limit) the file surely exists to be removed: nothing
 * half-written stays behind.
 */
export async function streamToNewFile(
  path: string,
  source: Readable | Chunks,
  through: (chunks: Chunks) => Chunks = (chunks) => chunks,
): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await pipeline(source, through, new BatchingFileWriter(handle));
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
}

/**
 * Removes a folder so that nobody ever sees it half-deleted: one rename takes it out of sight
 * (the atomic step), then the contents go at leisure.
 */
export async function retireFolder(layout: Layout, folder: string): Promise<void> {
  const graveyard = layout.tempFile();
  await rename(folder, graveyard);
  await removeFlatFolder(graveyard);
}

/**
 * Removes a folder of plain files (an upload's parts, an object's segments: up to 10,000), or a
 * single file. fs.rm's recursive walk stats every entry before removing it; this unlinks each
 * name straight away and leaves anything unexpected (a subfolder) to fs.rm.
 */
export async function removeFlatFolder(path: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(path);
  } catch (error) {
    const code = fsErrorCode(error);
    if (code === 'ENOENT') return;
    if (code !== 'ENOTDIR') throw error;
    names = [];
  }
  await forEachInSlices(names, (name) => {
    const entry = join(path, name);
    try {
      unlinkSync(entry);
    } catch {
      rmSync(entry, { recursive: true, force: true });
    }
  });
  await rm(path, { recursive: true, force: true });
}
