import { Router } from 'express';
import { toAppError } from '../errors.js';
import { checkReadyWithin } from '../storage/not-ready.js';
import type { ObjectStore } from '../storage/store.js';
import type { DrainState } from './drain.js';

export interface HealthOptions {
  store: ObjectStore;
  drain: DrainState;
  /** How long /readyz waits for the store before it answers 503. */
  readinessTimeoutMs: number;
}

/**
 * `/healthz`: the process runs and answers (liveness: restart me if this fails).
 * `/readyz`: the store answers too and we are not shutting down (readiness: route traffic to me).
 * A store outage must fail readiness only, or every instance would be restarted in a loop for
 * something a restart cannot fix. Both sit outside authorization and rate limits.
 */
export function healthRoutes(options: HealthOptions): Router {
  const router = Router();
  const checkStore = singleFlight(() => checkReadyWithin((check) => options.store.checkReady(check), options.readinessTimeoutMs));

  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    if (options.drain.draining) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    try {
      await checkStore();
      res.json({ status: 'ready', store: options.store.kind });
    } catch (error) {
      const appError = toAppError(error);
      res.status(503).json({ status: 'unavailable', store: options.store.kind, error: appError.message, code: appError.appCode });
    }
  });

  return router;
}

/** Probes that arrive while a check runs share its answer, so a probe storm makes one store call. */
function singleFlight(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= task().finally(() => {
      running = undefined;
    });
    return running;
  };
}
