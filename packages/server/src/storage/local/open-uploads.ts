import { LRUCache } from 'lru-cache';
import type { ChecksumAlgorithm } from '../checksum.js';
import type { PartNumberSet } from './part-number-set.js';

/** What an open upload's folder holds, as this process last saw it. */
export interface OpenUpload {
  readonly manifest: { key: string; contentType: string; createdAt: string; checksumAlgorithm?: ChecksumAlgorithm | undefined };
  /**
   * Part numbers with a file in the folder, once known (set by the first part saved through this
   * process). Lets a part commit skip listing the folder unless it replaces an earlier part.
   */
  partNumbers?: PartNumberSet;
}

/** Enough for every upload a busy server has open at once; beyond it the oldest are read again. */
export const OPEN_UPLOADS_CAPACITY = 4096;

/**
 * The records of open uploads, kept in memory so that signing, part PUTs and listings do not read
 * and parse upload.json each time. Completing and aborting in this process forget an upload.
 *
 * An entry may outlive its folder when another process (the cleanup-uploads command) removes it.
 * That is safe because every operation that changes or reads an upload's folder touches the folder
 * itself and answers INVALID_UPLOAD_ID when it is gone (`forget` then drops the entry): a part
 * commit renames into it, listing and completing read it, aborting renames it, and the plain
 * check before signing looks for it. The check before a part's body is read is the only one
 * served from memory alone: a part for a just-removed upload is then written to tmp/ and refused
 * at its commit, as one that raced the removal always could be.
 */
export class OpenUploads {
  readonly #entries: LRUCache<string, OpenUpload>;
  /** Counts `forget` calls, so a read of upload.json that raced one is not cached. */
  #forgotten = 0;

  constructor(capacity = OPEN_UPLOADS_CAPACITY) {
    this.#entries = new LRUCache({ max: capacity });
  }

  /** The cached entry, or what `load` reads from disk (`undefined`: no such upload, not cached). */
  async get(uploadId: string, load: () => Promise<OpenUpload | undefined>): Promise<OpenUpload | undefined> {
    const cached = this.#entries.get(uploadId);
    if (cached) return cached;
    const forgottenBefore = this.#forgotten;
    const loaded = await load();
    // A complete or abort that finished while upload.json was being read must not be undone here.
    if (loaded && this.#forgotten === forgottenBefore) this.#entries.set(uploadId, loaded);
    return loaded;
  }

  remember(uploadId: string, entry: OpenUpload): void {
    this.#entries.set(uploadId, entry);
  }

  forget(uploadId: string): void {
    this.#forgotten += 1;
    this.#entries.delete(uploadId);
  }
}
