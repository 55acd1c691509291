import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from '../src/retry.js';
import { ChecksumAhead } from '../src/upload/checksum-ahead.js';
import { ChecksummedPartUrls, type PartToSign } from '../src/upload/checksummed-part-urls.js';
import { fileTypeFromName } from '../src/upload/mime.js';
import { choosePartSize, MAX_PARTS, partCount } from '../src/upload/part-size.js';
import { PartUrlSource } from '../src/upload/part-urls.js';
import { ProgressTracker, type UploadProgress } from '../src/upload/progress.js';
import { streamSource } from '../src/upload/stream-source.js';
import { MiB } from './support/data.js';

describe('choosePartSize', () => {
  it('defaults to 8 MiB and never goes below 5 MiB', () => {
    expect(choosePartSize(100 * MiB)).toBe(8 * MiB);
    expect(choosePartSize(100 * MiB, 1 * MiB)).toBe(5 * MiB);
    expect(choosePartSize(undefined)).toBe(8 * MiB);
  });

  it('grows parts in whole MiB so that a large file fits in 10 000 parts', () => {
    const size = 200 * 1024 * MiB; // 200 GiB
    const partSize = choosePartSize(size);
    expect(partSize % MiB).toBe(0);
    expect(partCount(size, partSize)).toBeLessThanOrEqual(MAX_PARTS);
    expect(partCount(size, partSize - MiB)).toBeGreaterThan(MAX_PARTS);
  });

  it('refuses what S3 cannot take: parts over 5 GiB, nonsense sizes', () => {
    expect(() => choosePartSize(60 * 1024 * 1024 * MiB)).toThrow(/5 GiB/);
    expect(() => choosePartSize(10, 0)).toThrow(/partSize/);
  });

  it('counts an empty file as one part', () => {
    expect(partCount(0, 5 * MiB)).toBe(1);
  });
});

describe('backoffDelay', () => {
  const delay = { initialMs: 100, maxMs: 1000 };

  it('doubles the window per retry, waits at least half of it, and stays under the cap', () => {
    expect(backoffDelay(0, delay, undefined, () => 0)).toBe(50);
    expect(backoffDelay(0, delay, undefined, () => 1)).toBe(100);
    expect(backoffDelay(2, delay, undefined, () => 0)).toBe(200);
    expect(backoffDelay(10, delay, undefined, () => 1)).toBe(1000);
  });

  it('honours a longer Retry-After, within the cap', () => {
    expect(backoffDelay(0, delay, 700, () => 0)).toBe(700);
    expect(backoffDelay(0, delay, 60_000, () => 0)).toBe(1000);
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('ProgressTracker', () => {
  it('keeps the best count of each part, so a retried part never moves `loaded` back', () => {
    const reports: UploadProgress[] = [];
    const tracker = new ProgressTracker((progress) => reports.push(progress), 30);
    tracker.sent(1, 10);
    tracker.sent(2, 6);
    tracker.sent(2, 2); // part 2 failed and is being sent again
    tracker.sent(2, 10);
    tracker.sent(3, 10);
    tracker.finish();
    expect(reports.map((report) => report.loaded)).toEqual([10, 16, 20, 30, 30]);
    expect(reports.at(-1)).toEqual({ loaded: 30, total: 30 });
  });

  it('reports a throwing listener without breaking the upload', async () => {
    const errors: unknown[] = [];
    const onError = (error: unknown) => errors.push(error);
    process.on('uncaughtException', onError);
    try {
      const tracker = new ProgressTracker(() => {
        throw new Error('listener bug');
      }, 1);
      expect(() => tracker.sent(1, 1)).not.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(errors).toEqual([new Error('listener bug')]);
  });
});

describe('fileTypeFromName', () => {
  it('knows common extensions in any case, and only types the default allowlist accepts', () => {
    expect(fileTypeFromName('Photo.JPG')).toBe('image/jpeg');
    expect(fileTypeFromName('/tmp/a.b/report.pdf')).toBe('application/pdf');
    expect(fileTypeFromName('C:\\docs\\notes.txt')).toBe('text/plain');
    expect(fileTypeFromName('page.html')).toBeUndefined();
    expect(fileTypeFromName('.bashrc')).toBeUndefined();
    expect(fileTypeFromName('README')).toBeUndefined();
  });
});

describe('streamSource', () => {
  const collect = async (chunks: Uint8Array[], partSize: number, size?: number) => {
    const source = streamSource(Readable.from(chunks.map((chunk) => Buffer.from(chunk))), { size });
    const parts: Array<{ partNumber: number; bytes: number[] }> = [];
    for await (const part of source.parts(partSize)) {
      parts.push({ partNumber: part.partNumber, bytes: [...((await part.read()) as Uint8Array)] });
    }
    return parts;
  };

  it('cuts chunks of any size into parts of exactly partSize, then a short last part', async () => {
    const parts = await collect([new Uint8Array([1, 2, 3]), new Uint8Array([4]), new Uint8Array([5, 6, 7, 8, 9])], 4);
    expect(parts).toEqual([
      { partNumber: 1, bytes: [1, 2, 3, 4] },
      { partNumber: 2, bytes: [5, 6, 7, 8] },
      { partNumber: 3, bytes: [9] },
    ]);
  });

  it('makes one empty part of an empty stream, and no empty tail after a whole last part', async () => {
    expect(await collect([], 4)).toEqual([{ partNumber: 1, bytes: [] }]);
    expect(await collect([new Uint8Array([1, 2, 3, 4])], 4)).toEqual([{ partNumber: 1, bytes: [1, 2, 3, 4] }]);
  });

  it('holds a stream to its declared size', async () => {
    await expect(collect([new Uint8Array(5)], 4, 4)).rejects.toThrow(/longer than its declared size/);
    await expect(collect([new Uint8Array(3)], 4, 4)).rejects.toThrow(/ended after 3 of its declared 4 bytes/);
  });

  it('refuses a stream of strings', async () => {
    const source = streamSource(Readable.from(['text']) as unknown as AsyncIterable<Uint8Array>);
    await expect(source.parts(4).next()).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
  });
});

describe('PartUrlSource', () => {
  const fakeSigner = (options: {
    lastPart: number;
    wanted?: (n: number) => boolean;
    expiresIn?: number;
    now?: () => number;
    firstBatch?: number;
    maxBatch?: number;
    countKnown?: boolean;
    /** The most part numbers the fake server takes in one call (MAX_PARTS_PER_REQUEST). */
    serverLimit?: number;
    /** Awaited before each call answers: the call's time on the wire. */
    pause?: () => Promise<void>;
    /** A call fails while this says so: the service down. */
    fail?: () => boolean;
    signal?: AbortSignal;
  }) => {
    const batches: number[][] = [];
    /** For each batch, how many other calls were in flight when it was asked for. */
    const inFlightAtStart: number[] = [];
    let inFlight = 0;
    const signer = new PartUrlSource({
      sign: async (numbers) => {
        if (options.fail?.()) throw new Error('service down');
        if (options.serverLimit !== undefined && numbers.length > options.serverLimit) {
          throw Object.assign(new Error('too many part numbers'), { code: 'REQUEST_TOO_LARGE' });
        }
        const call = batches.push(numbers);
        inFlightAtStart.push(inFlight);
        inFlight += 1;
        try {
          await options.pause?.();
        } finally {
          inFlight -= 1;
        }
        return { parts: numbers.map((n) => ({ partNumber: n, url: `u${n}#${call}` })), expiresIn: options.expiresIn ?? 3600 };
      },
      wanted: options.wanted ?? (() => true),
      lastPart: options.lastPart,
      firstBatch: options.firstBatch ?? 100,
      maxBatch: options.maxBatch ?? 100,
      lookahead: 8,
      countKnown: options.countKnown,
      signal: options.signal ?? new AbortController().signal,
      now: options.now,
    });
    return { signer, batches, inFlightAtStart };
  };

  it('signs 250 parts in three batches, the next one ahead of need', async () => {
    const { signer, batches } = fakeSigner({ lastPart: 250 });
    for (let n = 1; n <= 250; n++) expect((await signer.url(n)).url).toMatch(new RegExp(`^u${n}#`));
    expect(batches.map((batch) => [batch[0], batch.at(-1), batch.length])).toEqual([
      [1, 100, 100],
      [101, 200, 100],
      [201, 250, 50],
    ]);
  });

  it('grows its windows: 10,000 parts in 9 calls, each twice the one before up to 2,000, none signed twice', async () => {
    const { signer, batches } = fakeSigner({ lastPart: 10_000, maxBatch: 2_000 });
    for (let n = 1; n <= 10_000; n++) await signer.url(n);
    expect(batches.map((batch) => batch.length)).toEqual([100, 200, 400, 800, 1600, 2000, 2000, 2000, 900]);
    expect(new Set(batches.flat()).size).toBe(10_000);
  });

  it('keeps the next window in flight beside the one in use when the count is known, never more than two calls at once', async () => {
    const { signer, batches, inFlightAtStart } = fakeSigner({
      lastPart: 10_000,
      maxBatch: 2_000,
      countKnown: true,
      pause: () => new Promise((resolve) => setTimeout(resolve, 5)),
    });
    const first = signer.url(1);
    // The second window is asked for before the first one answered.
    expect(batches.map((batch) => [batch[0], batch.length])).toEqual([
      [1, 100],
      [101, 200],
    ]);
    await first;
    let next = 1;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next <= 10_000) {
          const partNumber = next++;
          expect((await signer.url(partNumber)).url).toMatch(new RegExp(`^u${partNumber}#`));
        }
      }),
    );
    expect(batches.map((batch) => batch.length)).toEqual([100, 200, 400, 800, 1600, 2000, 2000, 2000, 900]);
    expect(new Set(batches.flat()).size).toBe(10_000);
    expect(Math.max(...inFlightAtStart)).toBe(1);
  });

  it('signs only its lookahead ahead when the count is not known (a stream)', async () => {
    const { signer, batches } = fakeSigner({ lastPart: 10_000, maxBatch: 2_000 });
    await signer.url(1);
    await signer.url(2);
    expect(batches.map((batch) => batch.length)).toEqual([100]);
  });

  it('re-signs the URLs that went stale during a long wait in one window, not one call per part', async () => {
    let now = 0;
    const { signer, batches } = fakeSigner({ lastPart: 300, maxBatch: 400, now: () => now });
    for (let n = 1; n <= 10; n++) await signer.url(n);
    expect(batches.map((batch) => batch.length)).toEqual([100]);
    now = 2 * 3600_000; // every URL signed so far is past its time
    for (let n = 11; n <= 300; n++) expect((await signer.url(n)).url).not.toMatch(/#1$/);
    // Parts 11-100 went stale together and are signed again with the next window's parts.
    expect(batches.slice(1).map((batch) => [batch[0], batch.length])).toEqual([
      [11, 200],
      [211, 90],
    ]);
  });

  it('shrinks its windows to 100 when the server takes fewer part numbers per request', async () => {
    const { signer, batches } = fakeSigner({ lastPart: 700, maxBatch: 2_000, serverLimit: 100 });
    for (let n = 1; n <= 700; n++) expect((await signer.url(n)).url).toMatch(new RegExp(`^u${n}#`));
    expect(batches.every((batch) => batch.length <= 100)).toBe(true);
    expect(new Set(batches.flat()).size).toBe(700);
  });

  it('skips parts a resumed upload has, but signs one when it is asked for', async () => {
    const { signer, batches } = fakeSigner({ lastPart: 10, wanted: (n) => n % 2 === 0 });
    await signer.url(2);
    expect(batches).toEqual([[2, 4, 6, 8, 10]]);
    await signer.url(3);
    expect(batches.at(-1)).toEqual([3]);
  });

  it('re-signs a URL near its expiry, and one that was invalidated', async () => {
    let now = 0;
    const { signer, batches } = fakeSigner({ lastPart: 3, expiresIn: 3600, now: () => now });
    expect((await signer.url(1)).url).toBe('u1#1');
    now = 3600_000 - 60_000; // a minute before expiry: too late to start a PUT
    expect((await signer.url(1)).url).toBe('u1#2');
    signer.invalidate(2);
    expect((await signer.url(2)).url).toBe('u2#3');
    // The other URLs of the batch were as stale: signed again in the same call.
    expect(batches).toEqual([[1, 2, 3], [1, 2, 3], [2]]);
  });

  it('gives no URL from its batch to a part invalidated while that batch was on the way', async () => {
    let answer!: () => void;
    const { signer, batches } = fakeSigner({ lastPart: 3, pause: () => new Promise<void>((resolve) => (answer = resolve)) });
    const first = signer.url(1);
    signer.invalidate(2);
    answer();
    expect((await first).url).toBe('u1#1');
    // Part 2 was dropped mid-flight (a refused PUT): it is signed afresh, not handed batch 1's URL.
    const second = signer.url(2);
    answer();
    expect((await second).url).toBe('u2#2');
    expect(batches).toEqual([[1, 2, 3], [2]]);
  });

  it('refuses a URL it holds once the upload is aborted', async () => {
    const controller = new AbortController();
    const { signer } = fakeSigner({ lastPart: 3, signal: controller.signal });
    expect((await signer.url(1)).url).toBe('u1#1');
    controller.abort();
    await expect(signer.url(2)).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('forgets a failed batch so that the next call asks again', async () => {
    let fail = true;
    const { signer } = fakeSigner({ lastPart: 2, fail: () => fail });
    await expect(signer.url(1)).rejects.toThrow('service down');
    fail = false;
    await expect(signer.url(1)).resolves.toMatchObject({ url: 'u1#1' });
  });
});

describe('ChecksummedPartUrls', () => {
  const fakeSigner = (options: { expiresIn?: number; now?: () => number; fail?: () => boolean } = {}) => {
    const batches: PartToSign[][] = [];
    const signer = new ChecksummedPartUrls({
      sign: async (parts) => {
        if (options.fail?.()) throw new Error('service down');
        batches.push(parts);
        return {
          parts: parts.map((part) => ({
            partNumber: part.partNumber,
            url: `u${part.partNumber}#${batches.length}`,
            headers: { sum: part.checksum },
          })),
          expiresIn: options.expiresIn ?? 3600,
        };
      },
      signal: new AbortController().signal,
      now: options.now,
    });
    return { signer, batches };
  };

  it('signs nothing ahead, and parts asked for in one turn share one call, each with its size and checksum', async () => {
    const { signer, batches } = fakeSigner();
    const urls = await Promise.all([1, 2, 3].map((n) => signer.url(n, { size: 10 * n, checksum: `c${n}` })));
    expect(urls).toMatchObject([1, 2, 3].map((n) => ({ url: `u${n}#1`, headers: { sum: `c${n}` } })));
    expect(batches).toEqual([[1, 2, 3].map((n) => ({ partNumber: n, size: 10 * n, checksum: `c${n}` }))]);
  });

  it('keeps a URL for a retry of the same bytes, signs again for other bytes, near expiry and after invalidate', async () => {
    let now = 0;
    const { signer, batches } = fakeSigner({ now: () => now });
    expect((await signer.url(1, { size: 5, checksum: 'a' })).url).toBe('u1#1');
    expect((await signer.url(1, { size: 5, checksum: 'a' })).url).toBe('u1#1');
    expect((await signer.url(1, { size: 5, checksum: 'b' })).url).toBe('u1#2');
    now = 3600_000 - 60_000;
    expect((await signer.url(1, { size: 5, checksum: 'b' })).url).toBe('u1#3');
    signer.invalidate(1);
    expect((await signer.url(1, { size: 5, checksum: 'b' })).url).toBe('u1#4');
    expect(batches).toHaveLength(4);
  });

  it('forgets a failed call so that the next one asks again, and refuses a part without a checksum', async () => {
    let fail = true;
    const { signer } = fakeSigner({ fail: () => fail });
    await expect(signer.url(1, { size: 5, checksum: 'a' })).rejects.toThrow('service down');
    fail = false;
    await expect(signer.url(1, { size: 5, checksum: 'a' })).resolves.toMatchObject({ url: 'u1#1' });
    await expect(signer.url(2, { size: 5 })).rejects.toThrow('no checksum');
  });
});

describe('ChecksumAhead', () => {
  const partsOf = (count: number, reads: number[]) =>
    (async function* () {
      for (let partNumber = 1; partNumber <= count; partNumber++) {
        yield {
          partNumber,
          size: 4,
          read: async () => {
            reads.push(partNumber);
            return new Uint8Array([partNumber, 0, 0, 0]);
          },
        };
      }
    })();
  const recordingSigner = () => {
    const asked: number[][] = [];
    let turn: number[] | undefined;
    const signer = {
      url: async (partNumber: number) => {
        if (!turn) {
          turn = [];
          asked.push(turn);
          queueMicrotask(() => {
            turn = undefined;
          });
        }
        turn.push(partNumber);
        return { url: `u${partNumber}` };
      },
      invalidate: () => {},
    };
    return { signer, asked };
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

  it('hashes at most `ahead` parts beyond what workers asked for, and asks for URLs a batch at a time', async () => {
    const reads: number[] = [];
    const { signer, asked } = recordingSigner();
    const ahead = new ChecksumAhead({
      parts: partsOf(20, reads),
      signer,
      needsChecksum: () => true,
      ahead: 6,
      batch: 3,
      signal: new AbortController().signal,
    });
    await settle();
    expect(reads).toEqual([1, 2, 3, 4, 5, 6]);
    expect(asked).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const expected = createHash('sha256')
      .update(new Uint8Array([2, 0, 0, 0]))
      .digest('base64');
    expect(await ahead.checksumOf(2)).toBe(expected);
    await settle();
    expect(reads).toHaveLength(8);
  });

  it('asks at once for the URL of a part a worker waits for, and skips parts kept unread', async () => {
    const reads: number[] = [];
    const { signer, asked } = recordingSigner();
    const ahead = new ChecksumAhead({
      parts: partsOf(4, reads),
      signer,
      needsChecksum: (part) => part.partNumber !== 2,
      ahead: 10,
      batch: 100,
      signal: new AbortController().signal,
    });
    await ahead.checksumOf(3);
    await settle();
    expect(reads).toEqual([1, 3, 4]);
    expect(asked.flat().sort()).toEqual([1, 3, 4]);
  });
});
