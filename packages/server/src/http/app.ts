import { createExpressMiddleware } from '@trpc/server/adapters/express';
import cors from 'cors';
import express, { type Express } from 'express';
import { allowAllPolicy, type AccessPolicy } from '../auth/policy.js';
import { toAppError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { createRestRouter } from '../rest/index.js';
import { appRouter } from '../router/index.js';
import type { ObjectStore } from '../storage/store.js';
import { createRequestContext, type AppDependencies } from './context.js';
import { errorResponder, notFound } from './errors.js';

export interface CreateAppOptions {
  store: ObjectStore;
  /** Who may use which workspace; defaults to letting everyone in (local development). */
  policy?: AccessPolicy;
  logger?: Logger;
}

/** Assembles the HTTP surface: signed-URL routes of the store, /trpc, /s3 and health. */
export function createApp(options: CreateAppOptions): Express {
  const deps: AppDependencies = {
    store: options.store,
    policy: options.policy ?? allowAllPolicy,
    logger: options.logger ?? silentLogger,
  };
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // The store's own routes read raw part bodies, so no body parser may run ahead of them.
  if (deps.store.signedUrlRoutes) app.use(deps.store.signedUrlRoutes);

  const apiCors = cors({ exposedHeaders: ['Content-Length', 'Content-Range', 'ETag', 'Content-Disposition'] });

  app.use(
    '/trpc',
    apiCors,
    createExpressMiddleware({
      router: appRouter,
      createContext: ({ req, res }) => createRequestContext(deps, req, res),
      onError: ({ error }) => {
        const appError = toAppError(error);
        if (appError.status >= 500) deps.logger.error({ err: error.cause ?? error, code: appError.appCode }, error.message);
      },
    }),
  );

  app.use('/s3', apiCors, createRestRouter(deps));

  app.use(notFound);
  app.use(errorResponder(deps.logger));
  return app;
}
