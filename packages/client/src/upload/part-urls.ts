import { raceAbort, throwIfAborted } from '../abort.js';

export interface SignedParts {
  /** `headers` (the checksum, on S3) must go with the PUT as they are. */
  parts: ReadonlyArray<{ partNumber: number; url: string; headers?: Record<string, string> }>;
  /** Seconds the URLs stay valid. */
  expiresIn: number;
}

/** A part's URL and the headers its PUT must send. */
export interface SignedPartUrl {
  url: string;
  headers?: Record<string, string>;
}

/** What a part is, for a signer that binds it into its URL. */
export interface PartFacts {
  size: number;
  /** Base64 SHA-256, for uploads with checksummed parts. */
  checksum?: string;
}

/** Where a worker gets a part's URL from, and tells of one the store refused. */
export interface PartUrls {
  url(partNumber: number, part: PartFacts): Promise<SignedPartUrl>;
  invalidate(partNumber: number): void;
}

/** Renew with a margin: a part PUT may take minutes on a slow link after it got its URL. */
export function renewalTime(requestedAt: number, expiresIn: number): number {
  const lifetimeMs = expiresIn * 1000;
  return requestedAt + lifetimeMs - Math.min(5 * 60_000, lifetimeMs / 4);
}

export interface PartUrlSourceOptions {
  /** One `upload.signParts` call (with its retries). */
  sign(partNumbers: number[], signal: AbortSignal): Promise<SignedParts>;
  /** Part numbers worth signing ahead: not the ones a resumed upload already has. */
  wanted(partNumber: number): boolean;
  /** The highest part number there can be (the count when known, else 10 000). */
  lastPart: number;
  /** Part numbers of the first `signParts` call; each later one asks for twice as many as the one before, up to `maxBatch`. */
  firstBatch: number;
  maxBatch: number;
  /** How far ahead of the part being sent the next batch is signed, so workers never wait for it. */
  lookahead: number;
  /**
   * Whether `lastPart` is the upload's real count: then the next window is asked for as soon as a
   * part of the newest one is, so two calls overlap (the server signs one while this side reads
   * the other) and fast workers never wait a whole call per window. An upload of unknown length
   * signs only `lookahead` ahead, as most of such a window could be for parts that never come.
   */
  countKnown?: boolean;
  signal: AbortSignal;
  now?: () => number;
}

interface SignedUrl extends SignedPartUrl {
  /** ms timestamp after which the URL is re-signed rather than used. */
  renewAt: number;
}

/**
 * The first call's part numbers: enough to keep any sensible concurrency busy while the next is
 * signed, in one answer of about 50 KB. Each call costs a few milliseconds whatever its size, so
 * later calls double, up to SIGN_MAX_BATCH (an answer of about 1 MB): 10 000 parts take 9 calls,
 * not 100. URLs signed far ahead that expire before their part goes are signed again, a window at
 * a time (see `url`).
 */
export const SIGN_FIRST_BATCH = 100;
export const SIGN_MAX_BATCH = 2_000;
/** The fewest part numbers per request a server may be set to accept (MAX_PARTS_PER_REQUEST): windows shrink to it when one is refused as too large. */
const SMALLEST_SERVER_LIMIT = 100;

/** The URLs one batch call answered, by part number. */
type Batch = Promise<ReadonlyMap<number, SignedUrl>>;

/**
 * Hands out part URLs, signing them in batches ahead of need instead of one request per part.
 * A URL near its expiry is re-signed before use, and `invalidate` drops a URL the store refused
 * (403 on an old URL) so the next `url()` signs it afresh.
 *
 * An answered URL is handed out from a plain map, with no promise or abort listener of its own:
 * a 10,000-part upload asks for 10,000 URLs in a few dozen milliseconds, and one promise chain
 * per part was a third of the client's signing time in garbage collection.
 */
export class PartUrlSource implements PartUrls {
  /** URLs answered and not dropped since. */
  private readonly signed = new Map<number, SignedUrl>();
  /** Part numbers asked for whose batch has not answered, each with its batch. */
  private readonly inFlight = new Map<number, Batch>();
  private readonly now: () => number;
  private nextBatch: number;
  private maxBatch: number;
  /** The first part number of the newest window asked for, and the highest part number any window covers. */
  private newestWindowFrom = Number.POSITIVE_INFINITY;
  private signedThrough = 0;

  constructor(private readonly options: PartUrlSourceOptions) {
    this.now = options.now ?? Date.now;
    this.nextBatch = options.firstBatch;
    this.maxBatch = options.maxBatch;
  }

  async url(partNumber: number): Promise<SignedPartUrl> {
    throwIfAborted(this.options.signal);
    const batch = this.isKnown(partNumber) ? this.inFlight.get(partNumber) : this.signBatchFrom(partNumber, true);
    this.prefetch(partNumber + this.options.lookahead);
    if (this.options.countKnown && partNumber >= this.newestWindowFrom) this.prefetch(this.signedThrough + 1);
    const signed = batch ? await this.answerOf(batch, partNumber) : this.signed.get(partNumber)!;
    if (signed.renewAt > this.now()) return signed;
    // Near its expiry (a long pause, a slow link): this URL and every other one past its time are
    // signed again together, a window from here, rather than one call per part.
    this.dropDueForRenewal();
    return this.answerOf(this.signBatchFrom(partNumber, true), partNumber);
  }

  invalidate(partNumber: number): void {
    this.signed.delete(partNumber);
    this.inFlight.delete(partNumber);
  }

  private async answerOf(batch: Batch, partNumber: number): Promise<SignedUrl> {
    const signed = (await raceAbort(batch, this.options.signal)).get(partNumber);
    if (!signed) throw new Error(`the service signed no URL for part ${partNumber}`);
    return signed;
  }

  private isKnown(partNumber: number): boolean {
    return this.signed.has(partNumber) || this.inFlight.has(partNumber);
  }

  private dropDueForRenewal(): void {
    const now = this.now();
    for (const [partNumber, signed] of this.signed) {
      if (signed.renewAt <= now) this.signed.delete(partNumber);
    }
  }

  /** Starts the batch that will cover `partNumber`, unless it is signed or on its way. */
  private prefetch(partNumber: number): void {
    const next = this.nextWanted(partNumber);
    if (next !== undefined && !this.isKnown(next)) void this.signBatchFrom(next, false);
  }

  /**
   * Signs `from` and the next wanted, not yet signed part numbers, up to a batch. The part asked
   * for is always in it (`force`), even if `wanted` says a resumed upload already has it: a
   * stored part whose size is wrong is sent again.
   */
  private signBatchFrom(from: number, force: boolean): Batch {
    const size = this.nextBatch;
    this.nextBatch = Math.min(this.maxBatch, size * 2);
    const numbers: number[] = force ? [from] : [];
    for (let n = force ? from + 1 : from; n <= this.options.lastPart && numbers.length < size; n++) {
      if (this.options.wanted(n) && !this.isKnown(n)) numbers.push(n);
    }
    if (numbers.length === 0) return Promise.reject(new Error(`part ${from} is out of range`));
    return this.signBatch(numbers);
  }

  private signBatch(numbers: number[]): Batch {
    const requestedAt = this.now();
    this.newestWindowFrom = numbers[0]!;
    this.signedThrough = Math.max(this.signedThrough, numbers.at(-1)!);
    const batch: Batch = this.signInWindows(numbers).then((answers) => {
      const renewAt = renewalTime(requestedAt, Math.min(...answers.map((answer) => answer.expiresIn)));
      const urls = new Map<number, SignedUrl>();
      for (const answer of answers) for (const part of answer.parts) urls.set(part.partNumber, { ...part, renewAt });
      // A part invalidated while its batch was on the way keeps no URL from it.
      for (const n of numbers) {
        if (this.inFlight.get(n) !== batch) continue;
        this.inFlight.delete(n);
        const signed = urls.get(n);
        if (signed) this.signed.set(n, signed);
      }
      return urls;
    });
    for (const n of numbers) this.inFlight.set(n, batch);
    // A failed batch is forgotten so that the next url() asks again; a prefetch that nobody
    // awaited yet must not surface as an unhandled rejection.
    batch.catch(() => {
      for (const n of numbers) if (this.inFlight.get(n) === batch) this.inFlight.delete(n);
    });
    return batch;
  }

  /**
   * One call; a server set to take fewer part numbers per request (MAX_PARTS_PER_REQUEST, never
   * below 100) refuses a large window as REQUEST_TOO_LARGE: windows then stay at that smallest
   * limit, and this one is asked for in pieces of it.
   */
  private async signInWindows(numbers: number[]): Promise<SignedParts[]> {
    try {
      return [await this.options.sign(numbers, this.options.signal)];
    } catch (error) {
      if (numbers.length <= SMALLEST_SERVER_LIMIT || (error as { code?: unknown }).code !== 'REQUEST_TOO_LARGE') throw error;
      this.maxBatch = SMALLEST_SERVER_LIMIT;
      this.nextBatch = SMALLEST_SERVER_LIMIT;
      const pieces: number[][] = [];
      for (let index = 0; index < numbers.length; index += SMALLEST_SERVER_LIMIT)
        pieces.push(numbers.slice(index, index + SMALLEST_SERVER_LIMIT));
      return Promise.all(pieces.map((piece) => this.options.sign(piece, this.options.signal)));
    }
  }

  private nextWanted(from: number): number | undefined {
    for (let n = from; n <= this.options.lastPart; n++) if (this.options.wanted(n)) return n;
    return undefined;
  }
}
