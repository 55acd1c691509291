import { isAbortError, sleep } from './abort.js';
import { isTransient } from './errors.js';

export interface RetryDelay {
  /** Wait before the first retry, in ms; doubled for every further one. Default 500. */
  initialMs?: number;
  /** Longest wait between two attempts, in ms. Default 20 000. */
  maxMs?: number;
}

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  delay: Required<RetryDelay>;
}

export const DEFAULT_RETRIES = 5;
export const DEFAULT_RETRY_DELAY: Required<RetryDelay> = { initialMs: 500, maxMs: 20_000 };

/**
 * Exponential backoff with "equal jitter": half the window is a sure wait, the other half is
 * random. Parts that failed together (a store hiccup) then come back spread out instead of
 * hitting the store again in one burst, and no retry follows the failure immediately.
 * A server's Retry-After wins when it asks for longer, within `maxMs`.
 */
export function backoffDelay(
  retry: number,
  delay: Required<RetryDelay>,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const window = Math.min(delay.maxMs, delay.initialMs * 2 ** retry);
  const jittered = window / 2 + random() * (window / 2);
  return Math.min(delay.maxMs, Math.max(jittered, retryAfterMs ?? 0));
}

/**
 * Runs an idempotent service call (sign, list, complete) again after transient failures.
 * Only for calls that may safely run twice: `upload.start` is never retried, since a lost answer
 * would leave an orphaned upload behind.
 */
export async function withRetries<T>(call: () => Promise<T>, policy: RetryPolicy, signal?: AbortSignal): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await call();
    } catch (error) {
      if (isAbortError(error) || signal?.aborted || retry >= policy.retries || !isTransient(error)) throw error;
      await sleep(backoffDelay(retry, policy.delay), signal);
    }
  }
}

/** Retry-After as seconds or as an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
