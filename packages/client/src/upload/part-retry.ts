import type { UploadError } from '../errors.js';

/**
 * Why a part is sent again: `failed` (a transient failure, `error` says which, after a backoff),
 * `expired` (the store refused its URL, which is signed afresh at once), `paused` (`pause()` cut
 * it while on the wire; it goes again once `resume()` is called).
 */
export type PartRetryReason = 'failed' | 'expired' | 'paused';

/**
 * A part about to be sent again. Progress never goes back for it: `loaded` already counts
 * `resending` bytes of this part, and holds still until the new attempt has sent more.
 */
export interface PartRetry {
  partNumber: number;
  /** The attempt that comes next: 2 for the first retry. Re-signing and pausing count too, without using up `retries`. */
  attempt: number;
  reason: PartRetryReason;
  /** What the last attempt ended with; absent for a pause. */
  error?: UploadError;
  /** Milliseconds until the next attempt starts: the backoff, 0 for a fresh URL; a paused part waits for `resume()` instead (0). */
  delayMs: number;
  /** Bytes of this part that `loaded` counts already and that go out again. */
  resending: number;
}

export type RetryListener = (retry: PartRetry) => void;
