import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { isAppError } from '../../errors.js';
import type { OrphanSweepReport } from '../store.js';
import type { BlobPins } from './blob-pins.js';
import { removeFlatFolder } from './files.js';
import { isMissing } from './fs-errors.js';
import { readJsonFile } from './json-file.js';
import { isRandomId, type Layout, newRandomId } from './layout.js';

/**
 * How long an entry must have stood unchanged before the sweep takes it for a crash leftover.
 * It must outlast every live operation that leaves an entry untouched: a part body that stalls
 * stays in tmp/ until HTTP_REQUEST_TIMEOUT_MS (1 h by default) cuts its request; a blob a commit
 * has just moved into blobs/ is named by its metadata within milliseconds. Retired blobs that
 * readers still hold are renewed by BlobPins, so they never look this old.
 */
export const DEFAULT_ORPHAN_AGE_MS = 2 * 3_600_000;

export interface SweepContext {
  readonly layout: Layout;
  readonly pins: BlobPins;
}

/**
 * Removes what crashes leave behind (see the crash points in complete.ts and objects.ts):
 *   - blobs/ entries no metadata file names: a commit cut between moving its staged folder into
 *     blobs/ and writing the metadata, a delete or a replacement cut before it retired the blob;
 *   - tmp/ entries: staged folders of cut completes, part bodies of cut requests, atomic writes
 *     never renamed, graveyards of retired blobs and upload folders whose removal was cut.
 * Only entries unchanged for `minAgeMs` are taken, by the later of their modification and status
 * change times (a rename changes the latter), so an operation in flight in this process or in
 * another one on the same folder is never harmed; blobs are retired through `pins`, so a reader in
 * this process keeps reading one it holds.
 */
export async function sweepOrphans(context: SweepContext, minAgeMs: number): Promise<OrphanSweepReport> {
  // The real clock, not the store's `now`: it is compared with file times.
  const cutoffMs = Date.now() - minAgeMs;
  const freed = new FreedSpace();
  const blobs = await sweepBlobs(context, cutoffMs, freed);
  const temp = await sweepTemp(context, cutoffMs, freed);
  const report = { removed: blobs.removed + temp, bytes: freed.bytes() };
  return blobs.skipped ? { ...report, skipped: blobs.skipped } : report;
}

/** The later of the two times a live operation moves: writes change both, renames the second. */
function lastChangeMs(info: Stats): number {
  return Math.max(info.mtimeMs, info.ctimeMs);
}

async function sweepBlobs(context: SweepContext, cutoffMs: number, freed: FreedSpace): Promise<{ removed: number; skipped?: string }> {
  const { layout, pins } = context;
  // The layout names one blob; their common parent holds them all.
  const blobRoot = dirname(layout.blobFile(newRandomId()));
  const blobIds = (await listFolder(blobRoot)).filter(isRandomId);
  // Each metadata file names one blob of its own, so with no more blobs than metadata files none
  // is unreferenced, and the metadata need not be read (the common case, at every start).
  if (blobIds.length === 0 || blobIds.length <= (await countMetaFiles(layout.metaRoot))) return { removed: 0 };
  // Aged first, read after: the metadata naming an aged blob was written long before this reads it.
  const aged: string[] = [];
  for (const blobId of blobIds) {
    const info = await lstatIfPresent(layout.blobFile(blobId));
    if (info && lastChangeMs(info) < cutoffMs) aged.push(blobId);
  }
  if (aged.length === 0) return { removed: 0 };
  let referenced: Set<string>;
  try {
    referenced = await referencedBlobs(layout.metaRoot);
  } catch (error) {
    // A damaged metadata file may name any blob: removing none is the only safe choice.
    if (isAppError(error)) return { removed: 0, skipped: `blobs: ${error.message}; no blob was removed` };
    throw error;
  }
  let removed = 0;
  for (const blobId of aged.filter((id) => !referenced.has(id))) {
    const location = layout.blobFile(blobId);
    const files = await freed.measure(location);
    if (!(await pins.retireIfPresent(blobId, location, layout.tempFile()))) continue;
    freed.add(files);
    removed += 1;
  }
  return { removed };
}

async function sweepTemp(context: SweepContext, cutoffMs: number, freed: FreedSpace): Promise<number> {
  const { layout, pins } = context;
  let removed = 0;
  for (const name of await listFolder(layout.tempFolder)) {
    const path = join(layout.tempFolder, name);
    const info = await lstatIfPresent(path);
    if (!info || lastChangeMs(info) >= cutoffMs || pins.holds(path)) continue;
    const files = await freed.measure(path);
    await removeFlatFolder(path);
    freed.add(files);
    removed += 1;
  }
  return removed;
}

const META_SUFFIX = '.json';
const blobName = z.object({ blob: z.string() });

async function countMetaFiles(metaRoot: string): Promise<number> {
  let count = 0;
  for await (const _file of metaFiles(metaRoot)) count += 1;
  return count;
}

/** Blob ids the metadata names; an AppError when a metadata file is damaged. */
async function referencedBlobs(metaRoot: string): Promise<Set<string>> {
  const referenced = new Set<string>();
  for await (const file of metaFiles(metaRoot)) {
    // Deleted since the folder was read: it names nothing any more.
    const meta = await readJsonFile(file, blobName, 'object metadata');
    if (meta) referenced.add(meta.blob);
  }
  return referenced;
}

async function* metaFiles(folder: string): AsyncIterable<string> {
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    // Emptied and removed meanwhile.
    if (isMissing(error)) return;
    throw error;
  }
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* metaFiles(path);
    else if (entry.isFile() && entry.name.endsWith(META_SUFFIX)) yield path;
  }
}

async function listFolder(folder: string): Promise<string[]> {
  try {
    return await readdir(folder);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

async function lstatIfPresent(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

interface FileFacts {
  inode: string;
  size: number;
  links: number;
}

/**
 * The space removing names frees: a file's bytes count once all its names are gone, so a segment
 * still linked from an open upload frees nothing, and two removed names of one file count once.
 */
class FreedSpace {
  readonly #removedNames = new Map<string, { size: number; links: number; names: number }>();

  /** The files under `path` (a file or a folder), read before it is removed. */
  async measure(path: string): Promise<FileFacts[]> {
    const info = await lstatIfPresent(path);
    if (!info) return [];
    if (!info.isDirectory()) return [{ inode: `${info.dev}:${info.ino}`, size: info.size, links: info.nlink }];
    const files: FileFacts[] = [];
    for (const name of await listFolder(path)) files.push(...(await this.measure(join(path, name))));
    return files;
  }

  add(files: readonly FileFacts[]): void {
    for (const file of files) {
      const seen = this.#removedNames.get(file.inode);
      if (seen) seen.names += 1;
      else this.#removedNames.set(file.inode, { size: file.size, links: file.links, names: 1 });
    }
  }

  bytes(): number {
    let total = 0;
    for (const file of this.#removedNames.values()) if (file.names >= file.links) total += file.size;
    return total;
  }
}
