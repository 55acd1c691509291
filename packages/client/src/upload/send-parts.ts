import { raceAbort } from '../abort.js';
import type { RetryPolicy } from '../retry.js';
import { ChecksummedPartUrls } from './checksummed-part-urls.js';
import { checksumPart } from './part-checksum.js';
import { MAX_PARTS, partCount, partLength } from './part-size.js';
import { PartUrlSource, type PartUrls, SIGN_BATCH_SIZE } from './part-urls.js';
import type { ProgressTracker } from './progress.js';
import { sendPart } from './send-part.js';
import type { PartOnServer, UploadRef, UploadService } from './service.js';
import type { UploadSource } from './source.js';

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
  progress: ProgressTracker;
  /** Fires on the caller's abort and on the first failure, stopping every worker and PUT. */
  signal: AbortSignal;
}

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
        batchSize: SIGN_BATCH_SIZE,
        lookahead: Math.min(2 * input.concurrency, SIGN_BATCH_SIZE / 2),
        signal,
      });
  const context = { fetch: input.fetch, signer, retry: input.retry, streaming: input.streaming, progress: input.progress, signal };

  const etags = new Map<number, string>();
  let size = 0;
  const parts = source.parts(partSize);

  const worker = async () => {
    for (;;) {
      const next = await raceAbort(parts.next(), signal);
      if (next.done) return;
      const part = next.value;
      size += part.size;
      const onServer = stored.get(part.partNumber);
      const keep = () => {
        etags.set(part.partNumber, onServer!.etag);
        input.progress.sent(part.partNumber, part.size);
      };
      // A stored part with a checksum is kept only if it holds this part's very bytes.
      if (isStoredWhole(part.partNumber, part.size) && !(input.checksums && onServer?.checksum)) {
        keep();
        continue;
      }
      const payload = await raceAbort(part.read(), signal);
      if (!input.checksums) {
        etags.set(part.partNumber, await sendPart(part.partNumber, payload, context));
        continue;
      }
      const checksum = await raceAbort(checksumPart(payload), signal);
      if (onServer && onServer.size === part.size && onServer.checksum === checksum) {
        keep();
        continue;
      }
      etags.set(part.partNumber, await sendPart(part.partNumber, payload, context, checksum));
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
