import { Router } from 'express';
import type { Catalog } from '../catalog/catalog.js';
import { AppError, toAppError } from '../errors.js';
import { checkReadyWithin } from '../storage/not-ready.js';
import type { ObjectStore } from '../storage/store.js';
import type { DrainState } from './drain.js';

export interface HealthOptions {
  store: ObjectStore;
  catalog: Catalog;
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
  const checkCatalog = singleFlight(() => withDeadline(options.catalog.checkReady(), options.readinessTimeoutMs));

  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    if (options.drain.draining) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    const names = { store: options.store.kind, catalog: options.catalog.kind };
    try {
      await Promise.all([checkStore(), checkCatalog()]);
      res.json({ status: 'ready', ...names });
    } catch (error) {
      const appError = toAppError(error);
      res.status(503).json({ status: 'unavailable', ...names, error: appError.message, code: appError.appCode });
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

/** A database that does not answer at all (a partition) fails the probe at its deadline, not the orchestrator's. */
function withDeadline(check: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new AppError('CATALOG_UNAVAILABLE', `the asset catalogue did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([check, deadline]).finally(() => clearTimeout(timer));
}
