import { LRUCache } from 'lru-cache';
import type { Catalog, UploadRecord } from './catalog.js';

/** Open uploads remembered; a signing of any other upload reads the database as before. */
const DEFAULT_MAX_ENTRIES = 10_000;

/**
 * Remembers the open uploads `findUpload` read, so that signing a part (one lookup per call, most
 * of its time in PGlite's WebAssembly) reads the database once per upload instead of once per
 * part. Only for a catalogue that no other process writes (PGlite: its folder is locked to this
 * process): every change to an upload's state goes through this object's own methods, which drop
 * the entry, so an answer is never staler than the database. A PostgreSQL catalogue is shared by
 * every API instance, and one instance's complete would not reach another's memory: it gets none.
 *
 * Only open uploads are kept: an unknown, finished or foreign upload id is read from the database
 * each time (INVALID_UPLOAD_ID), so made-up ids never take a place in the cache.
 */
export function withOpenUploadCache(catalog: Catalog, options: { maxEntries?: number } = {}): Catalog {
  const open = new LRUCache<string, UploadRecord>({ max: options.maxEntries ?? DEFAULT_MAX_ENTRIES });
  // Bumped around every change: a lookup that began before a change, and read the row as it was,
  // must not store what it read after the change dropped the entry.
  let changes = 0;
  const entryOf = (workspaceId: string, uploadId: string) => `${workspaceId}\u0000${uploadId}`;
  const changing = async <T>(workspaceId: string, uploadId: string, change: () => Promise<T>): Promise<T> => {
    const entry = entryOf(workspaceId, uploadId);
    changes++;
    open.delete(entry);
    try {
      return await change();
    } finally {
      changes++;
      open.delete(entry);
    }
  };

  return {
    ...catalog,
    findUpload: async (workspaceId, uploadId) => {
      const entry = entryOf(workspaceId, uploadId);
      const known = open.get(entry);
      if (known) return { ...known };
      const before = changes;
      const found = await catalog.findUpload(workspaceId, uploadId);
      if (found?.state === 'open' && changes === before) open.set(entry, { ...found });
      return found;
    },
    reserve: (workspaceId, uploadId, bytes, rules) =>
      changing(workspaceId, uploadId, () => catalog.reserve(workspaceId, uploadId, bytes, rules)),
    recordCompleted: (upload, completed) => changing(upload.workspaceId, upload.uploadId, () => catalog.recordCompleted(upload, completed)),
    finishUpload: (workspaceId, uploadId, state, actor) =>
      changing(workspaceId, uploadId, () => catalog.finishUpload(workspaceId, uploadId, state, actor)),
    close: async () => {
      open.clear();
      await catalog.close();
    },
  };
}
