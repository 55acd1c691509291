import { raceAbort } from '../abort.js';
import { checksumPart } from './part-checksum.js';
import type { PartUrls } from './part-urls.js';
import type { SourcePart } from './source.js';

export interface ChecksumAheadOptions {
  /** A pass over the source of its own: the workers read each part again to send it. */
  parts: AsyncIterator<SourcePart>;
  /** Where URLs are asked for: asked in one turn, they are signed in one call. */
  signer: PartUrls;
  /** False for a part the workers keep without reading it (stored, with no checksum to compare). */
  needsChecksum(part: SourcePart): boolean;
  /** How many parts beyond the furthest one a worker asked for are hashed at most. */
  ahead: number;
  /** How many hashed parts wait for their URLs before these are asked for together. */
  batch: number;
  signal: AbortSignal;
}

interface Pending {
  promise: Promise<string>;
  resolve(checksum: string): void;
  reject(error: unknown): void;
}

/**
 * Hashes the parts of an input that can be read twice (a file, a Blob, bytes) ahead of the
 * workers, one part at a time, and asks for their URLs `batch` at a time. A checksummed part's URL
 * can be signed only once the part is hashed, and a signing call costs client and server some
 * milliseconds of CPU whatever its size: one call a part made checksums cost a third of an
 * upload's speed on two cores, a call per `batch` parts a few percent. The bytes are dropped once
 * hashed; memory grows by one part.
 */
export class ChecksumAhead {
  private readonly checksums = new Map<number, Pending>();
  private readonly unsigned: Array<{ partNumber: number; size: number; checksum: string }> = [];
  /** The furthest part number a worker asked about. */
  private front = 0;
  private wake: (() => void) | undefined;
  private failure: { error: unknown } | undefined;

  constructor(private readonly options: ChecksumAheadOptions) {
    options.signal.addEventListener('abort', () => this.wake?.(), { once: true });
    void this.run().catch((error: unknown) => this.fail(error));
  }

  /** The part's checksum once hashed; its URL is asked for now if it was waiting for a batch. */
  checksumOf(partNumber: number): Promise<string> {
    if (partNumber > this.front) {
      this.front = partNumber;
      this.wake?.();
    }
    if (this.unsigned.some((part) => part.partNumber === partNumber)) this.askForUrls();
    return raceAbort(this.pending(partNumber).promise, this.options.signal);
  }

  private async run(): Promise<void> {
    const { parts, signal } = this.options;
    for (;;) {
      const next = await parts.next();
      if (next.done || signal.aborted) break;
      const part = next.value;
      if (!this.options.needsChecksum(part)) continue;
      while (part.partNumber > this.front + this.options.ahead && !signal.aborted) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
      if (signal.aborted) break;
      const checksum = await checksumPart(await part.read());
      this.pending(part.partNumber).resolve(checksum);
      this.unsigned.push({ partNumber: part.partNumber, size: part.size, checksum });
      // A worker already waits for this part, or a batch is full.
      if (part.partNumber <= this.front || this.unsigned.length >= this.options.batch) this.askForUrls();
    }
    this.askForUrls();
  }

  /** Asked in one turn, so the signer makes one call of them. */
  private askForUrls(): void {
    for (const part of this.unsigned.splice(0)) {
      this.options.signer.url(part.partNumber, { size: part.size, checksum: part.checksum }).catch(() => {});
    }
  }

  private pending(partNumber: number): Pending {
    let entry = this.checksums.get(partNumber);
    if (!entry) {
      let resolve!: (checksum: string) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<string>((ok, fail) => {
        resolve = ok;
        reject = fail;
      });
      promise.catch(() => {});
      entry = { promise, resolve, reject };
      this.checksums.set(partNumber, entry);
      if (this.failure) reject(this.failure.error);
    }
    return entry;
  }

  private fail(error: unknown): void {
    this.failure = { error };
    for (const entry of this.checksums.values()) entry.reject(error);
  }
}
