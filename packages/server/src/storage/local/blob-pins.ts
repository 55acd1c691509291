import { rename, utimes } from 'node:fs/promises';
import { removeFlatFolder } from './files.js';
import { isMissing } from './fs-errors.js';

/** A blob some reader in this process is streaming; `location` follows the blob when it is retired. */
export interface BlobPin {
  readonly blobId: string;
  location: string;
  readers: number;
  /** Set once the blob was moved out of sight: the last reader removes it. */
  retired: boolean;
}

export interface BlobPinsOptions {
  /**
   * How often a retired blob that readers still hold has its times renewed. The orphan sweep takes
   * a temp entry untouched for its age as a crash leftover, and may run in another process (the
   * cleanup-uploads command) that cannot see this one's readers: a renewed entry never looks old.
   * Keep it well under the sweep's age.
   */
  refreshMs: number;
}

/**
 * Keeps the data of a replaced or deleted object readable for downloads already under way, as S3
 * does. A download opens an object's segment files one after another, not all at once (an object
 * may have 10,000), so it pins the blob for as long as it reads. Retiring a blob moves it out of
 * sight at once (one rename into tmp/, where a crash leaves it for the orphan sweep) and removes
 * it then, or when its last reader in this process is done.
 */
export class BlobPins {
  readonly #pins = new Map<string, BlobPin>();
  readonly #refreshMs: number;
  #refresher: NodeJS.Timeout | undefined;

  constructor(options: BlobPinsOptions) {
    this.#refreshMs = options.refreshMs;
  }

  pin(blobId: string, location: string): BlobPin {
    let pin = this.#pins.get(blobId);
    if (!pin) {
      pin = { blobId, location, readers: 0, retired: false };
      this.#pins.set(blobId, pin);
    }
    pin.readers += 1;
    return pin;
  }

  /** Never fails: a retired blob that cannot be removed now stays in tmp/ for the orphan sweep. */
  async unpin(pin: BlobPin): Promise<void> {
    pin.readers -= 1;
    if (pin.readers > 0) return;
    this.#pins.delete(pin.blobId);
    if (pin.retired) await removeFlatFolder(pin.location).catch(() => undefined);
  }

  /** Whether a reader in this process holds the blob now at `location` (its own place or its graveyard). */
  holds(location: string): boolean {
    for (const pin of this.#pins.values()) if (pin.location === location) return true;
    return false;
  }

  /**
   * Moves the blob at `location` to `graveyard` and removes it when no reader holds it. Readers are
   * looked up after the rename, so one that pinned the blob before sees the new location; one that
   * pins it later finds it missing and reads the object's metadata again.
   */
  async retire(blobId: string, location: string, graveyard: string): Promise<void> {
    await this.retireIfPresent(blobId, location, graveyard);
  }

  /** `retire`, telling whether this call moved the blob: false when another retire or sweep took it first. */
  async retireIfPresent(blobId: string, location: string, graveyard: string): Promise<boolean> {
    try {
      await rename(location, graveyard);
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
    const pin = this.#pins.get(blobId);
    if (pin) {
      pin.location = graveyard;
      pin.retired = true;
      // A rename keeps a folder's mtime: until renewed, the graveyard would look as old as the blob.
      await renew(graveyard);
      this.#keepRenewing();
      return true;
    }
    await removeFlatFolder(graveyard);
    return true;
  }

  /** One timer while retired blobs are held, none otherwise; it never keeps the process alive. */
  #keepRenewing(): void {
    if (this.#refresher) return;
    this.#refresher = setInterval(() => {
      const held = [...this.#pins.values()].filter((pin) => pin.retired);
      if (held.length === 0) {
        clearInterval(this.#refresher);
        this.#refresher = undefined;
        return;
      }
      for (const pin of held) void renew(pin.location);
    }, this.#refreshMs);
    this.#refresher.unref();
  }
}

/** Best effort: a graveyard whose last reader just removed it needs no renewal. */
async function renew(path: string): Promise<void> {
  const now = new Date();
  await utimes(path, now, now).catch(() => undefined);
}
