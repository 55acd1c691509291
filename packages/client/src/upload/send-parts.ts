import { raceAbort } from '../abort.js';
import type { RetryPolicy } from '../retry.js';
import { ChecksumAhead } from './checksum-ahead.js';
import { ChecksummedPartUrls } from './checksummed-part-urls.js';
import { checksumPart } from './part-checksum.js';
import type { RetryListener } from './part-retry.js';
import { MAX_PARTS, partCount, partLength } from './part-size.js';
import { PartUrlSource, type PartUrls, SIGN_FIRST_BATCH, SIGN_MAX_BATCH } from './part-urls.js';
import type { PauseGate } from './pause.js';
import { PrepareAhead } from './prepare-ahead.js';
import type { ProgressTracker } from './progress.js';
import { type SendPartContext, sendPart } from './send-part.js';
import type { PartOnServer, UploadRef, UploadService } from './service.js';
import type { PartPayload, SourcePart, UploadSource } from './source.js';

export interface SendPartsInput {
  service: UploadService;
  fetch: typeof globalThis.fetch;
  source: UploadSource;
  ref: UploadRef;
  partSize: number;
  /** Parts the server already has (a resumed upload); empty for a new one. */
  stored: ReadonlyMap<number, PartOnServer>;
  /** Each part is hashed as it is read and signed with its SHA-256, which the store holds it to. */
  checksums: boolean;
  concurrency: number;
  retry: RetryPolicy;
  streaming: boolean;
  /** Whole bodies go with XMLHttpRequest (browsers), for progress while they are on the wire. */
  xhr: boolean;
  progress: ProgressTracker;
  /** Paused, workers take no part and start no attempt, and the PUTs in flight are cut. */
  pause: PauseGate;
  onRetry: RetryListener | undefined;
  /** Fires on the caller's abort and on the first failure, stopping every worker and PUT. */
  signal: AbortSignal;
}

/** A part a worker can take at once: the stored one is kept, or these bytes are sent (with their checksum). */
type ReadyPart = { part: SourcePart; keep: true } | { part: SourcePart; keep: false; payload: PartPayload; checksum?: string };

/**
 * Checksummed parts of a stream waiting read, hashed and signed beside those being sent: one, so
 * that a worker finishing a PUT finds the next part ready, at one part's memory.
 */
const PREPARED_AHEAD = 1;

/** Parts of a file or Blob hashed ahead of the workers (their bytes dropped), and URLs per signing call. */
const HASHED_AHEAD = 32;
const URLS_PER_CALL = 16;

export interface SentParts {
  etags: Map<number, string>;
  /** Bytes in all parts: the object's size. */
  size: number;
}

/**
 * Sends every part the server does not have yet with `concurrency` workers. Each worker pulls
 * the next part from the source only when it is free, so at most `concurrency` parts are in
 * memory. The first failure aborts the others; this resolves or rejects only once every worker
 * (and so every PUT) has stopped.
 */
export async function sendParts(input: SendPartsInput, abortAll: (reason: unknown) => void): Promise<SentParts> {
  const { source, partSize, stored, signal } = input;
  const knownCount = source.size === undefined ? undefined : partCount(source.size, partSize);
  const expectedSize = (partNumber: number) => (source.size === undefined ? undefined : partLength(source.size, partSize, partNumber));
  // A stored part is kept only when its size is the one this part will have.
  const isStoredWhole = (partNumber: number, size: number | undefined) => {
    const part = stored.get(partNumber);
    return part !== undefined && (size === undefined || part.size === size);
  };

  const signer: PartUrls = input.checksums
    ? new ChecksummedPartUrls({ sign: (parts, batchSignal) => input.service.signChecksummed(input.ref, parts, batchSignal), signal })
    : new PartUrlSource({
        sign: (partNumbers, batchSignal) => input.service.signParts(input.ref, partNumbers, batchSignal),
        wanted: (partNumber) => !isStoredWhole(partNumber, expectedSize(partNumber)),
        lastPart: knownCount ?? MAX_PARTS,
        firstBatch: SIGN_FIRST_BATCH,
        maxBatch: SIGN_MAX_BATCH,
        lookahead: Math.min(2 * input.concurrency, SIGN_FIRST_BATCH / 2),
        countKnown: knownCount !== undefined,
        signal,
      });
  const context: SendPartContext = {
    fetch: input.fetch,
    signer,
    retry: input.retry,
    streaming: input.streaming,
    xhr: input.xhr,
    progress: input.progress,
    pause: input.pause,
    onRetry: input.onRetry,
    signal,
  };

  const etags = new Map<number, string>();
  let size = 0;

  // A stored part with a checksum is kept only if it holds this part's very bytes.
  const keptUnread = (part: SourcePart) =>
    isStoredWhole(part.partNumber, part.size) && !(input.checksums && stored.get(part.partNumber)?.checksum);
  // Inputs that can be read twice are hashed ahead, their URLs asked for in batches.
  const ahead =
    input.checksums && source.rereadable
      ? new ChecksumAhead({
          parts: source.parts(partSize),
          signer,
          needsChecksum: (part) => !keptUnread(part),
          ahead: HASHED_AHEAD,
          batch: URLS_PER_CALL,
          signal,
        })
      : undefined;

  const prepare = async (part: SourcePart): Promise<ReadyPart> => {
    if (keptUnread(part)) return { part, keep: true };
    const onServer = stored.get(part.partNumber);
    const known = ahead ? await ahead.checksumOf(part.partNumber) : undefined;
    if (known !== undefined && onServer?.size === part.size && onServer.checksum === known) return { part, keep: true };
    const payload = await raceAbort(part.read(), signal);
    if (!input.checksums) return { part, keep: false, payload };
    if (known !== undefined) return { part, keep: false, payload, checksum: known };
    const checksum = await raceAbort(checksumPart(payload), signal);
    if (onServer && onServer.size === part.size && onServer.checksum === checksum) return { part, keep: true };
    // Signed now, while other parts are on the wire: the worker that sends it finds its URL ready.
    signer.url(part.partNumber, { size: part.size, checksum }).catch(() => {});
    return { part, keep: false, payload, checksum };
  };
  // A stream is read once: its parts are hashed as workers take them, one ahead.
  const ready = new PrepareAhead(source.parts(partSize), prepare, input.checksums && !ahead ? PREPARED_AHEAD : 0);

  const worker = async () => {
    for (;;) {
      // Paused, no part is started (nor read, for a stream).
      await input.pause.whenRunning(signal);
      const next = await raceAbort(ready.next(), signal);
      if (next.done) return;
      const { part } = next.value;
      size += part.size;
      if (next.value.keep) {
        etags.set(part.partNumber, stored.get(part.partNumber)!.etag);
        input.progress.kept(part.partNumber, part.size);
        continue;
      }
      etags.set(part.partNumber, await sendPart(part.partNumber, next.value.payload, context, next.value.checksum));
    }
  };

  let failure: { error: unknown } | undefined;
  await Promise.all(
    Array.from({ length: input.concurrency }, () =>
      worker().catch((error: unknown) => {
        if (failure) return;
        failure = { error };
        abortAll(error);
      }),
    ),
  );
  if (failure) throw failure.error;
  return { etags, size };
}
