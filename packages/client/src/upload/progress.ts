import { callListener } from './listener.js';

export interface UploadProgress {
  /** Bytes sent so far (including parts a resumed upload already had). Never goes down. */
  loaded: number;
  /** Total bytes, when known: always for Blobs, bytes and files; for streams once they ended. */
  total?: number;
  /** The part whose bytes moved `loaded`; absent on the final report. */
  part?: number;
  /**
   * True on the report of a part the server already had (a resumed upload): its bytes count to
   * `loaded` without going over the wire, so a speed shown should not count them.
   */
  kept?: true;
}

export type ProgressListener = (progress: UploadProgress) => void;

/**
 * Turns per-attempt byte counts into one monotone total. A retried part starts counting from
 * zero again; the tracker keeps each part's best count, so `loaded` only moves when an attempt
 * gets further than every attempt before it, and it ends exactly at the sum of the parts.
 */
export class ProgressTracker {
  private readonly sentByPart = new Map<number, number>();
  private loaded = 0;

  constructor(
    private readonly listener: ProgressListener | undefined,
    private total: number | undefined,
  ) {}

  /** `bytes` of part `partNumber` went out in the current attempt. */
  sent(partNumber: number, bytes: number): void {
    if (this.count(partNumber, bytes)) this.emit(partNumber, false);
  }

  /** Part `partNumber` is stored already (a resume): all its bytes count, none went out. */
  kept(partNumber: number, size: number): void {
    if (this.count(partNumber, size)) this.emit(partNumber, true);
  }

  /** A stream's length, once it ended. */
  setTotal(total: number): void {
    this.total = total;
  }

  /** The last report: everything is stored, `loaded === total`. */
  finish(): void {
    this.emit(undefined, false);
  }

  /** Bytes of part `partNumber` that `loaded` counts: its best attempt so far. */
  counted(partNumber: number): number {
    return this.sentByPart.get(partNumber) ?? 0;
  }

  /** True when `bytes` is the part's best count so far, which `loaded` now holds. */
  private count(partNumber: number, bytes: number): boolean {
    const before = this.sentByPart.get(partNumber) ?? 0;
    if (bytes <= before) return false;
    this.sentByPart.set(partNumber, bytes);
    this.loaded += bytes - before;
    return true;
  }

  private emit(partNumber: number | undefined, kept: boolean): void {
    if (!this.listener) return;
    const progress: UploadProgress = { loaded: this.loaded };
    if (this.total !== undefined) progress.total = this.total;
    if (partNumber !== undefined) progress.part = partNumber;
    if (kept) progress.kept = true;
    callListener(this.listener, progress);
  }
}
