import type { Response } from 'express';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';

/** A window's count for one key, after adding to it. */
export interface WorkCount {
  total: number;
  /** ms timestamp when the window, and the count, start over. */
  resetAt: number;
}

/**
 * A fixed-window counter that adds any amount in one step. express-rate-limit's stores add one
 * per call, and a signParts call of 10,000 URLs must weigh 10,000, in one Redis round trip.
 */
export interface WorkStore {
  add(key: string, amount: number): Promise<WorkCount>;
}

/** Counts in this process. Windows that ended are dropped once a window, so idle keys cost nothing. */
export function memoryWorkStore(windowMs: number, now: () => number = Date.now): WorkStore {
  const windows = new Map<string, WorkCount>();
  let sweepAt = now() + windowMs;
  return {
    add(key, amount) {
      const time = now();
      if (time >= sweepAt) {
        for (const [name, window] of windows) if (window.resetAt <= time) windows.delete(name);
        sweepAt = time + windowMs;
      }
      let window = windows.get(key);
      if (!window || window.resetAt <= time) {
        window = { total: 0, resetAt: time + windowMs };
        windows.set(key, window);
      }
      window.total += amount;
      return Promise.resolve({ total: window.total, resetAt: window.resetAt });
    },
  };
}

export interface SigningLimiterOptions {
  windowMs: number;
  /** Part URLs per window for one workspace. */
  urlsPerWorkspace: number;
  store: WorkStore;
}

export interface SigningLimiter {
  /** Counts `urls` for `workspaceId`; throws RATE_LIMITED (with Retry-After on `res`) past the budget. */
  consume(workspaceId: string, urls: number, res: Response): Promise<void>;
}

/**
 * The per-workspace budget of signed part URLs: the work a call asks for, where the call budget
 * counts one signParts of 10,000 parts like one of a single part. A call that would pass the
 * budget is refused whole, before it signs anything. A store that fails lets the call through,
 * as the call budget does: a broken Redis must not take the API down with it.
 */
export function createSigningLimiter(options: SigningLimiterOptions, logger: Logger): SigningLimiter {
  return {
    async consume(workspaceId, urls, res) {
      let count: WorkCount;
      try {
        count = await options.store.add(workspaceId, urls);
      } catch (error) {
        logger.error({ err: error }, 'rate limit store failed; signing allowed without counting');
        return;
      }
      if (count.total <= options.urlsPerWorkspace) return;
      const retryAfter = Math.max(1, Math.ceil((count.resetAt - Date.now()) / 1000));
      if (!res.headersSent) res.setHeader('Retry-After', String(retryAfter));
      throw new AppError(
        'RATE_LIMITED',
        `workspace ${workspaceId} may have at most ${options.urlsPerWorkspace} part URLs signed per ${options.windowMs / 1000} s; retry in ${retryAfter} s`,
      );
    },
  };
}
