import { raceAbort } from '../abort.js';
import { type PartFacts, type PartUrls, renewalTime, type SignedParts, type SignedPartUrl } from './part-urls.js';

export interface PartToSign {
  partNumber: number;
  size: number;
  checksum: string;
}

export interface ChecksummedPartUrlsOptions {
  /** One `upload.signParts` call (with its retries) for parts with their sizes and checksums. */
  sign(parts: PartToSign[], signal: AbortSignal): Promise<SignedParts>;
  signal: AbortSignal;
  now?: () => number;
}

interface SignedUrl extends SignedPartUrl {
  checksum: string;
  renewAt: number;
}

/**
 * URLs of checksummed parts. Such a URL binds the part's SHA-256, so it can be signed only once
 * the part was read and hashed: nothing is signed ahead. Workers that ask within one turn of the
 * event loop share a `signParts` call, and a URL is kept for retries of the same bytes until it
 * nears its expiry.
 */
export class ChecksummedPartUrls implements PartUrls {
  private readonly entries = new Map<number, Promise<SignedUrl>>();
  private queue: Array<{ part: PartToSign; settle: (signed: Promise<SignedUrl>) => void }> = [];
  private readonly now: () => number;

  constructor(private readonly options: ChecksummedPartUrlsOptions) {
    this.now = options.now ?? Date.now;
  }

  async url(partNumber: number, part: PartFacts): Promise<SignedPartUrl> {
    const { checksum } = part;
    if (checksum === undefined) throw new Error(`part ${partNumber} has no checksum to sign`);
    const known = this.entries.get(partNumber);
    if (known) {
      const signed = await raceAbort(known, this.options.signal).catch(() => undefined);
      if (signed && signed.checksum === checksum && signed.renewAt > this.now()) return signed;
    }
    const entry = this.enqueue({ partNumber, size: part.size, checksum });
    this.entries.set(partNumber, entry);
    entry.catch(() => {
      if (this.entries.get(partNumber) === entry) this.entries.delete(partNumber);
    });
    return raceAbort(entry, this.options.signal);
  }

  invalidate(partNumber: number): void {
    this.entries.delete(partNumber);
  }

  private enqueue(part: PartToSign): Promise<SignedUrl> {
    return new Promise<Promise<SignedUrl>>((settle) => {
      this.queue.push({ part, settle });
      if (this.queue.length === 1) setTimeout(() => this.flush(), 0);
    }).then((signed) => signed);
  }

  private flush(): void {
    const waiting = this.queue;
    this.queue = [];
    const requestedAt = this.now();
    const batch = this.options.sign(
      waiting.map((entry) => entry.part),
      this.options.signal,
    );
    for (const { part, settle } of waiting) {
      settle(
        batch.then((signed) => {
          const found = signed.parts.find((candidate) => candidate.partNumber === part.partNumber);
          if (!found) throw new Error(`the service signed no URL for part ${part.partNumber}`);
          return { ...found, checksum: part.checksum, renewAt: renewalTime(requestedAt, signed.expiresIn) };
        }),
      );
    }
  }
}
