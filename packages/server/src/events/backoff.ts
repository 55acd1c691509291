/*
 * How long a failed webhook delivery waits before its next attempt: exponential from a base,
 * doubling each attempt, up to a cap, with jitter so that the deliveries of one outage (a
 * receiver down for a minute fails hundreds at once) do not all come back in the same instant.
 */

export interface BackoffRules {
  /** The wait after the first failed attempt, before jitter. */
  baseMs: number;
  /** No wait is longer than this. */
  maxMs: number;
  /**
   * `full`: anywhere from 0 to the exponential wait (spreads a herd the most);
   * `equal`: at least half of it (never retries at once).
   */
  jitter: 'full' | 'equal';
}

/** The exponential wait after `failedAttempts` failures (1 for the first), without jitter. */
export function exponentialDelay(failedAttempts: number, rules: Pick<BackoffRules, 'baseMs' | 'maxMs'>): number {
  const doublings = Math.max(0, failedAttempts - 1);
  // 2 ** 1100 is Infinity: capped before it can overflow into NaN arithmetic.
  return Math.min(rules.maxMs, rules.baseMs * 2 ** Math.min(doublings, 64));
}

/** The wait before the next attempt; `random` is [0, 1) (Math.random unless a test fixes it). */
export function backoffDelay(failedAttempts: number, rules: BackoffRules, random: () => number = Math.random): number {
  const ceiling = exponentialDelay(failedAttempts, rules);
  if (rules.jitter === 'full') return Math.floor(random() * ceiling);
  const half = ceiling / 2;
  return Math.floor(half + random() * half);
}
