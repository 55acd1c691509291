import type { RequestHandler, Response } from 'express';
import { MemoryStore, type Options, rateLimit, type Store } from 'express-rate-limit';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createSigningLimiter, memoryWorkStore, type SigningLimiter, type WorkStore } from './rate-limit-work.js';
import { requestFacts } from './request-facts.js';

/** Which counter a store is for; a shared store (Redis) keeps each under its own key prefix. */
export type LimitName = 'ip' | 'workspace';

export interface RateLimitOptions {
  windowMs: number;
  /** Requests per window from one client address; 0 switches the limit off. */
  perIp: number;
  /** Procedure calls per window naming one workspace; 0 switches the limit off. */
  perWorkspace: number;
  /** Part URLs signed per window for one workspace; 0 or absent switches the limit off. */
  signedUrlsPerWorkspace?: number;
  /** Counters shared by every instance (Redis); absent: counted in this process. */
  createStore?: (name: LimitName) => Store;
  /** The signed-URL counter shared by every instance (Redis); absent: counted in this process. */
  createWorkStore?: (name: 'signed-urls', windowMs: number) => WorkStore;
}

/**
 * Counts every request to the API per client address (IPv6 by /56, so one host cannot dodge it by
 * rotating addresses). An exceeded limit is only noted here: REST refuses with `{ error, code }`
 * (`refuseWhenRateLimited`), tRPC from its context so the answer keeps tRPC's shape.
 */
export function ipRateLimit(options: RateLimitOptions, logger: Logger): RequestHandler {
  if (options.perIp === 0) return (_req, _res, next) => next();
  return rateLimit({
    windowMs: options.windowMs,
    limit: options.perIp,
    store: options.createStore?.('ip') ?? new MemoryStore(),
    // The IETF draft's RateLimit and RateLimit-Policy headers; Retry-After comes with a refusal.
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // A broken Redis must not take the API down with it: count nothing, serve, and log.
    passOnStoreError: true,
    logger,
    handler: (_req, res, next) => {
      const retryAfter = res.getHeader('Retry-After') ?? '60';
      requestFacts(res).rateLimited = new AppError('RATE_LIMITED', `too many requests from this address; retry in ${retryAfter} s`);
      next();
    },
  });
}

/** The REST half of the per-IP limit: 429 `{ error, code: 'RATE_LIMITED' }` before any work. */
export const refuseWhenRateLimited: RequestHandler = (_req, res, next) => {
  const refusal = requestFacts(res).rateLimited;
  next(refusal);
};

export interface WorkspaceLimiter {
  /** Counts one call for `workspaceId`; throws RATE_LIMITED (with Retry-After on `res`) past the limit. */
  consume(workspaceId: string, res: Response): Promise<void>;
}

/**
 * The per-workspace budget, counted once a procedure has validated and authorized its
 * workspaceId: a caller cannot dodge it by leaving the field out (then the call fails validation
 * and only the per-IP limit counted it), and cannot spend another tenant's budget by naming a
 * workspace it may not use.
 */
export function createWorkspaceLimiter(options: RateLimitOptions, logger: Logger): WorkspaceLimiter | undefined {
  if (options.perWorkspace === 0) return undefined;
  const store = options.createStore?.('workspace') ?? new MemoryStore();
  // Both stores of express-rate-limit read only `windowMs` from the middleware's options.
  void Promise.resolve(store.init?.({ windowMs: options.windowMs } as Options)).catch((error: unknown) =>
    logger.error({ err: error }, 'rate limit store failed to start'),
  );
  // MemoryStore answers with its own mutable record: calls of one tRPC batch that count in the same
  // tick would all read the final total. Taking turns lets each read its own count; the memory
  // store does no I/O, so turns cost nothing. Redis answers with fresh values and needs no turns.
  let turn: Promise<unknown> = Promise.resolve();
  const increment = (key: string): Promise<{ totalHits: number; resetTime: Date | undefined }> => {
    if (!store.localKeys) return Promise.resolve(store.increment(key));
    const counted = turn.then(async () => {
      const { totalHits, resetTime } = await store.increment(key);
      return { totalHits, resetTime };
    });
    turn = counted.catch(() => undefined);
    return counted;
  };
  return {
    async consume(workspaceId, res) {
      let hits: Awaited<ReturnType<typeof increment>>;
      try {
        hits = await increment(workspaceId);
      } catch (error) {
        logger.error({ err: error }, 'rate limit store failed; request allowed without counting');
        return;
      }
      if (hits.totalHits <= options.perWorkspace) return;
      const resetAt = hits.resetTime?.getTime() ?? Date.now() + options.windowMs;
      const retryAfter = Math.max(1, Math.ceil((resetAt - Date.now()) / 1000));
      if (!res.headersSent) res.setHeader('Retry-After', String(retryAfter));
      throw new AppError('RATE_LIMITED', `too many requests for workspace ${workspaceId}; retry in ${retryAfter} s`);
    },
  };
}

/** The per-workspace budget of signed part URLs, or undefined when it is off. */
export function createWorkspaceSigningLimiter(options: RateLimitOptions, logger: Logger): SigningLimiter | undefined {
  const urlsPerWorkspace = options.signedUrlsPerWorkspace ?? 0;
  if (urlsPerWorkspace === 0) return undefined;
  const store = options.createWorkStore?.('signed-urls', options.windowMs) ?? memoryWorkStore(options.windowMs);
  return createSigningLimiter({ windowMs: options.windowMs, urlsPerWorkspace, store }, logger);
}
