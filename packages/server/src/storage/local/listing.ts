import { readdir } from 'node:fs/promises';
import { AppError } from '../../errors.js';
import type { ListObjectsOptions, ObjectPage } from '../store.js';
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
