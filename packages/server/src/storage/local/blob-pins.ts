import { rename } from 'node:fs/promises';
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

/**
 * Keeps the data of a replaced or deleted object readable for downloads already under way, as S3
 * does. A download opens an object's segment files one after another, not all at once (an object
 * may have 10,000), so it pins the blob for as long as it reads. Retiring a blob moves it out of
 * sight at once (one rename into tmp/, where a crash leaves it for the start-up sweep) and removes
 * it then, or when its last reader in this process is done.
 */
export class BlobPins {
  readonly #pins = new Map<string, BlobPin>();

  pin(blobId: string, location: string): BlobPin {
    let pin = this.#pins.get(blobId);
    if (!pin) {
      pin = { blobId, location, readers: 0, retired: false };
      this.#pins.set(blobId, pin);
    }
    pin.readers += 1;
    return pin;
  }

  /** Never fails: a retired blob that cannot be removed now stays in tmp/ for the start-up sweep. */
  async unpin(pin: BlobPin): Promise<void> {
    pin.readers -= 1;
    if (pin.readers > 0) return;
    this.#pins.delete(pin.blobId);
    if (pin.retired) await removeFlatFolder(pin.location).catch(() => undefined);
  }

  /**
   * Moves the blob at `location` to `graveyard` and removes it when no reader holds it. Readers are
   * looked up after the rename, so one that pinned the blob before sees the new location; one that
   * pins it later finds it missing and reads the object's metadata again.
   */
  async retire(blobId: string, location: string, graveyard: string): Promise<void> {
    try {
      await rename(location, graveyard);
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    const pin = this.#pins.get(blobId);
    if (pin) {
      pin.location = graveyard;
      pin.retired = true;
      return;
    }
    await removeFlatFolder(graveyard);
  }
}
