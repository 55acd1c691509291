import { sleep } from '../abort.js';
import { backoffDelay, type RetryPolicy } from '../retry.js';
import type { PartUrls } from './part-urls.js';
import type { ProgressTracker } from './progress.js';
import { putPart } from './put-part.js';
import type { PartPayload } from './source.js';

export interface SendPartContext {
  fetch: typeof globalThis.fetch;
  signer: PartUrls;
  retry: RetryPolicy;
  streaming: boolean;
  progress: ProgressTracker;
  signal: AbortSignal;
}

/**
 * Sends one part until it is stored, and returns its ETag. Transient failures are retried with
 * backoff up to `retries` times; any other refusal fails at once, since sending it again cannot
 * help. A URL may have expired: a 403 gets one fresh URL without using up a retry, and so does
 * a second network failure in a row, because some S3 servers answer an expired URL by
 * refusing the body and resetting the connection, which fetch reports as a network error.
 */
export async function sendPart(partNumber: number, payload: PartPayload, context: SendPartContext, checksum?: string): Promise<string> {
  let retries = 0;
  let resigned = false;
  let networkFailures = 0;
  const size = payload instanceof Blob ? payload.size : payload.byteLength;
  for (;;) {
    const { url, headers } = await context.signer.url(partNumber, checksum === undefined ? { size } : { size, checksum });
    const result = await putPart({
      fetch: context.fetch,
      url,
      ...(headers ? { headers } : {}),
      partNumber,
      payload,
      streaming: context.streaming,
      signal: context.signal,
      onSent: (bytes) => context.progress.sent(partNumber, bytes),
    });
    if (result.ok) return result.etag;
    if (result.action === 'resign' && !resigned) {
      resigned = true;
      context.signer.invalidate(partNumber);
      continue;
    }
    if (result.action === 'retry' && retries < context.retry.retries) {
      const networkFailure = result.error.code === 'NETWORK_ERROR';
      if (networkFailure && networkFailures > 0 && !resigned) {
        resigned = true;
        context.signer.invalidate(partNumber);
      }
      networkFailures = networkFailure ? networkFailures + 1 : 0;
      await sleep(backoffDelay(retries, context.retry.delay, result.retryAfterMs), context.signal);
      retries++;
      continue;
    }
    if (result.action === 'retry') result.error.message += ` (gave up after ${retries + 1} attempts)`;
    throw result.error;
  }
}
