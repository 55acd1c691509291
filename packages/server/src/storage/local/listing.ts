import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../errors.js';
import type { ListObjectsOptions, ObjectPage, ObjectSummary, WalkObjectsOptions } from '../store.js';
import type { LocalContext } from './context.js';
import { isMissing, storageFailed } from './fs-errors.js';
import { headObject } from './objects.js';

const META_SUFFIX = '.json';

/**
 * Lists the metadata files of one folder in name order. The cursor is the last key of the page
 * before, so a listing stays correct while objects are added or deleted between pages.
 */
export async function listObjects(context: LocalContext, prefix: string, options: ListObjectsOptions): Promise<ObjectPage> {
  if (options.cursor !== undefined && !options.cursor.startsWith(prefix)) {
    throw new AppError('INVALID_PARAMETER', 'cursor: not a cursor of this listing');
  }
  let names: string[];
  try {
    names = await readdir(context.layout.metaFolder(prefix));
  } catch (error) {
    if (isMissing(error)) return { objects: [] };
    throw storageFailed('listing objects', error);
  }
  const keys = names
    .filter((name) => name.endsWith(META_SUFFIX))
    .map((name) => prefix + name.slice(0, -META_SUFFIX.length))
    .filter((key) => options.cursor === undefined || key > options.cursor)
    .sort();
  const pageKeys = keys.slice(0, options.limit);
  // An object deleted between readdir and reading its metadata is simply not listed.
  const infos = await Promise.all(pageKeys.map((key) => headObject(context, key)));
  const objects = infos.filter((info) => info !== null);
  return keys.length > options.limit ? { objects, nextCursor: pageKeys.at(-1) } : { objects };
}

/**
 * Every object in key order, depth first through meta/. A folder's keys all start with
 * `<name>/`, a file's key is its name without `.json`, so sorting a folder's entries by those
 * strings and descending in that order yields the keys sorted as one list. Folders that hold only
 * keys up to `afterKey` are not read at all.
 */
export async function* walkObjects(context: LocalContext, options: WalkObjectsOptions = {}): AsyncIterable<ObjectSummary> {
  yield* walkFolder(context, context.layout.metaRoot, '', options.afterKey);
}

async function* walkFolder(
  context: LocalContext,
  folder: string,
  prefix: string,
  afterKey: string | undefined,
): AsyncIterable<ObjectSummary> {
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    // A folder emptied and removed while the walk runs held nothing more to list.
    if (isMissing(error)) return;
    throw storageFailed('listing objects', error);
  }
  const children = entries
    .flatMap((entry) => {
      if (entry.isDirectory()) return [{ name: entry.name, folder: true, start: `${prefix}${entry.name}/` }];
      if (entry.isFile() && entry.name.endsWith(META_SUFFIX)) {
        return [{ name: entry.name, folder: false, start: prefix + entry.name.slice(0, -META_SUFFIX.length) }];
      }
      return [];
    })
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  for (const child of children) {
    if (!child.folder) {
      if (afterKey !== undefined && child.start <= afterKey) continue;
      // Deleted since the folder was read: not listed.
      const info = await headObject(context, child.start);
      if (info) yield { key: info.key, size: info.size, etag: info.etag, lastModified: info.lastModified };
      continue;
    }
    // Every key under the folder is at most afterKey when afterKey sorts after the folder's prefix without starting with it.
    if (afterKey !== undefined && child.start <= afterKey && !afterKey.startsWith(child.start)) continue;
    yield* walkFolder(context, join(folder, child.name), child.start, afterKey);
  }
}
