import { sleep } from '../abort.js';
import { backoffDelay, type RetryPolicy } from '../retry.js';
import { callListener } from './listener.js';
import type { PartRetry, RetryListener } from './part-retry.js';
import type { PartUrls } from './part-urls.js';
import type { PauseGate } from './pause.js';
import type { ProgressTracker } from './progress.js';
import { putPart } from './put-part.js';
import type { PartPayload } from './source.js';

export interface SendPartContext {
  fetch: typeof globalThis.fetch;
  signer: PartUrls;
  retry: RetryPolicy;
  streaming: boolean;
  /** Whole bodies go with XMLHttpRequest (browsers), for progress while they are on the wire. */
  xhr: boolean;
  progress: ProgressTracker;
  pause: PauseGate;
  onRetry: RetryListener | undefined;
  signal: AbortSignal;
}

/**
 * Sends one part until it is stored, and returns its ETag. Transient failures are retried with
 * backoff up to `retries` times; any other refusal fails at once, since sending it again cannot
 * help. A URL may have expired: a 403 gets one fresh URL without using up a retry, and so does
 * a second network failure in a row, because some S3 servers answer an expired URL by
 * refusing the body and resetting the connection, which fetch reports as a network error.
 * A pause cuts the attempt on the wire; the part waits for the resume and goes again, its URL
 * signed afresh by the signer when it expired meanwhile, without using up a retry either.
 */
export async function sendPart(partNumber: number, payload: PartPayload, context: SendPartContext, checksum?: string): Promise<string> {
  let retries = 0;
  let resigned = false;
  let networkFailures = 0;
  let attempt = 1;
  const size = payload instanceof Blob ? payload.size : payload.byteLength;
  const again = (retry: Omit<PartRetry, 'partNumber' | 'attempt' | 'resending'>) => {
    attempt++;
    callListener(context.onRetry, { partNumber, attempt, resending: context.progress.counted(partNumber), ...retry });
  };
  for (;;) {
    await context.pause.whenRunning(context.signal);
    const { url, headers } = await context.signer.url(partNumber, checksum === undefined ? { size } : { size, checksum });
    const result = await putPart({
      fetch: context.fetch,
      url,
      ...(headers ? { headers } : {}),
      partNumber,
      payload,
      streaming: context.streaming,
      xhr: context.xhr,
      signal: context.signal,
      pause: context.pause.signal,
      onSent: (bytes) => context.progress.sent(partNumber, bytes),
    });
    if (result.ok) return result.etag;
    if (result.action === 'paused') {
      again({ reason: 'paused', delayMs: 0 });
      continue;
    }
    if (result.action === 'resign' && !resigned) {
      resigned = true;
      context.signer.invalidate(partNumber);
      again({ reason: 'expired', error: result.error, delayMs: 0 });
      continue;
    }
    if (result.action === 'retry' && retries < context.retry.retries) {
      const networkFailure = result.error.code === 'NETWORK_ERROR';
      if (networkFailure && networkFailures > 0 && !resigned) {
        resigned = true;
        context.signer.invalidate(partNumber);
      }
      networkFailures = networkFailure ? networkFailures + 1 : 0;
      const delayMs = backoffDelay(retries, context.retry.delay, result.retryAfterMs);
      again({ reason: 'failed', error: result.error, delayMs });
      await sleep(delayMs, context.signal);
      retries++;
      continue;
    }
    if (result.action === 'retry') result.error.message += ` (gave up after ${retries + 1} attempts)`;
    throw result.error;
  }
}
