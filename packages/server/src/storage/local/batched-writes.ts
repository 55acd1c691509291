import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/**
 * Bytes gathered before one write. Network chunks arrive at 32-64 KiB, and writing each on its own
 * cost as much main-thread time as hashing them (one thread-pool round trip per chunk); handing the
 * chunks themselves to writev in batches kept them alive long enough to triple garbage collection.
 * Copying them into two reused buffers costs a memcpy and neither.
 */
const BATCH_BYTES = 512 * 1024;

/**
 * Writes a stream of chunks to `handle` from its start, a batch at a time: one buffer fills while
 * the other is being written. The caller closes `handle`.
 */
export class BatchingFileWriter extends Writable {
  readonly #handle: FileHandle;
  readonly #buffers: (Buffer | undefined)[] = [undefined, undefined];
  /** The write of each buffer, so it is not refilled before its bytes are on their way. */
  readonly #writes: (Promise<void> | undefined)[] = [undefined, undefined];
  #current = 0;
  #filled = 0;
  #position = 0;

  constructor(handle: FileHandle) {
    super();
    this.#handle = handle;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#take(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#flush()
      .then(() => Promise.all(this.#writes))
      .then(() => callback(), callback);
  }

  async #take(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      this.#buffers[this.#current] ??= Buffer.allocUnsafe(BATCH_BYTES);
      const buffer = this.#buffers[this.#current]!;
      const copied = chunk.copy(buffer, this.#filled, offset);
      this.#filled += copied;
      offset += copied;
      if (this.#filled === buffer.length) await this.#flush();
    }
  }

  /** Starts writing the current buffer, then waits until the other one may be filled. */
  async #flush(): Promise<void> {
    if (this.#filled === 0) return;
    const index = this.#current;
    const write = writeAll(this.#handle, this.#buffers[index]!, this.#filled, this.#position);
    // Awaited later (before reuse, or at the end); this only keeps a failure from going unhandled meanwhile.
    write.catch(() => undefined);
    this.#writes[index] = write;
    this.#position += this.#filled;
    this.#filled = 0;
    this.#current = 1 - index;
    await this.#writes[this.#current];
  }
}

/** Regular files are written whole or fail; looping covers the rare short write all the same. */
async function writeAll(handle: FileHandle, buffer: Buffer, length: number, position: number): Promise<void> {
  let written = 0;
  while (written < length) {
    const { bytesWritten } = await handle.write(buffer, written, length - written, position + written);
    written += bytesWritten;
  }
}
