import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { BlobPin, BlobPins } from './blob-pins.js';
import { isMissing } from './fs-errors.js';

/** One stored piece of an object; `file` is absent when the blob itself is the data file (old format). */
export interface Segment {
  file?: string;
  size: number;
}

/** As fs.createReadStream reads. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Streams bytes `start`..`start + length - 1` of the concatenation of `segments`, opening each
 * segment file only when the read reaches it (an object may have 10,000) and closing it after.
 * The blob is pinned while the stream lives, so a replacement or delete cannot remove files it has
 * yet to open (see BlobPins). Resolves `undefined` when the first file to read is missing: the
 * object changed after its metadata was read, and the caller reads the metadata again.
 */
export async function openSegmentReader(
  pins: BlobPins,
  blob: { id: string; location: string },
  segments: readonly Segment[],
  start: number,
  length: number,
): Promise<Readable | undefined> {
  const pin = pins.pin(blob.id, blob.location);
  const position = locate(segments, start);
  let first: FileHandle | undefined;
  try {
    // An empty read serves no bytes, so it has nothing to prove present.
    if (length > 0) first = await openSegment(pin, segments[position.index]!);
  } catch (error) {
    await pins.unpin(pin);
    if (isMissing(error)) return undefined;
    throw error;
  }
  return new SegmentReader(pins, pin, segments, position, length, first);
}

/** Where byte `offset` of the object lies: the segment holding it and the offset inside it. */
export function locate(segments: readonly Segment[], offset: number): { index: number; offset: number } {
  let index = 0;
  let rest = offset;
  // Zero-length segments hold no byte, so a position is never left pointing at one.
  while (index < segments.length - 1 && rest >= segments[index]!.size) {
    rest -= segments[index]!.size;
    index += 1;
  }
  return { index, offset: rest };
}

function segmentPath(location: string, segment: Segment): string {
  return segment.file === undefined ? location : join(location, segment.file);
}

/** A retire may move the blob between building the path and opening it; then its new place is tried. */
async function openSegment(pin: BlobPin, segment: Segment): Promise<FileHandle> {
  const location = pin.location;
  try {
    return await open(segmentPath(location, segment), 'r');
  } catch (error) {
    if (isMissing(error) && pin.location !== location) return open(segmentPath(pin.location, segment), 'r');
    throw error;
  }
}

class SegmentReader extends Readable {
  readonly #pins: BlobPins;
  readonly #pin: BlobPin;
  readonly #segments: readonly Segment[];
  #index: number;
  #offset: number;
  #remaining: number;
  #handle: FileHandle | undefined;
  /** The read in flight; destroying waits for it before closing the file it uses. */
  #reading: Promise<void> | undefined;

  constructor(
    pins: BlobPins,
    pin: BlobPin,
    segments: readonly Segment[],
    position: { index: number; offset: number },
    length: number,
    first: FileHandle | undefined,
  ) {
    super({ highWaterMark: CHUNK_BYTES });
    this.#pins = pins;
    this.#pin = pin;
    this.#segments = segments;
    this.#index = position.index;
    this.#offset = position.offset;
    this.#remaining = length;
    this.#handle = first;
  }

  override _read(): void {
    this.#reading = this.#nextChunk().then(
      (chunk) => {
        this.#reading = undefined;
        if (!this.destroyed) this.push(chunk);
      },
      (error: unknown) => {
        this.#reading = undefined;
        this.destroy(error as Error);
      },
    );
  }

  async #nextChunk(): Promise<Buffer | null> {
    if (this.#remaining === 0) return null;
    let segment = this.#segments[this.#index];
    while (segment && this.#offset >= segment.size) {
      await this.#closeFile();
      this.#index += 1;
      this.#offset = 0;
      segment = this.#segments[this.#index];
    }
    // Unreachable while sizes add up, which reading the metadata checks.
    if (!segment) throw new Error('an object is longer than its segments');
    this.#handle ??= await openSegment(this.#pin, segment);
    const wanted = Math.min(CHUNK_BYTES, this.#remaining, segment.size - this.#offset);
    const buffer = Buffer.allocUnsafe(wanted);
    const { bytesRead } = await this.#handle.read(buffer, 0, wanted, this.#offset);
    if (bytesRead === 0) throw new Error('an object segment file is shorter than its metadata says');
    this.#offset += bytesRead;
    this.#remaining -= bytesRead;
    return bytesRead === wanted ? buffer : buffer.subarray(0, bytesRead);
  }

  async #closeFile(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const settle = async () => {
      await this.#reading;
      try {
        await this.#closeFile();
      } finally {
        await this.#pins.unpin(this.#pin);
      }
    };
    settle().then(
      () => callback(error),
      (closeError: unknown) => callback(error ?? (closeError as Error)),
    );
  }
}
