import { callListener } from './listener.js';

export interface UploadProgress {
  /** Bytes sent so far (including parts a resumed upload already had). Never goes down. */
  loaded: number;
  /** Total bytes, when known: always for Blobs, bytes and files; for streams once they ended. */
  total?: number;
  /** The part whose bytes moved `loaded`; absent on the final report. */
  part?: number;
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
    const before = this.sentByPart.get(partNumber) ?? 0;
    if (bytes <= before) return;
    this.sentByPart.set(partNumber, bytes);
    this.loaded += bytes - before;
    this.emit(partNumber);
  }

  /** A stream's length, once it ended. */
  setTotal(total: number): void {
    this.total = total;
  }

  /** The last report: everything is stored, `loaded === total`. */
  finish(): void {
    this.emit(undefined);
  }

  /** Bytes of part `partNumber` that `loaded` counts: its best attempt so far. */
  counted(partNumber: number): number {
    return this.sentByPart.get(partNumber) ?? 0;
  }

  private emit(partNumber: number | undefined): void {
    if (!this.listener) return;
    const progress: UploadProgress = { loaded: this.loaded };
    if (this.total !== undefined) progress.total = this.total;
    if (partNumber !== undefined) progress.part = partNumber;
    callListener(this.listener, progress);
  }
}
