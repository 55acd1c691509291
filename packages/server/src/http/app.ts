import { createExpressMiddleware } from '@trpc/server/adapters/express';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { allowAllPolicy, type AccessPolicy } from '../auth/policy.js';
import { DEFAULT_ALLOWED_FILE_TYPES, type UploadRules } from '../config.js';
import { toAppError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { createRestRouter } from '../rest/index.js';
import { appRouter } from '../router/index.js';
import type { ObjectStore } from '../storage/store.js';
import { createRequestContext, type AppDependencies } from './context.js';
import { apiCors } from './cors.js';
import { errorResponder, notFound } from './errors.js';

export interface CreateAppOptions {
  store: ObjectStore;
  /** Who may use which workspace; defaults to letting everyone in (local development). */
  policy?: AccessPolicy;
  logger?: Logger;
  /** Allowed file types and size limit; defaults to the safe allowlist and no limit. */
  uploads?: UploadRules;
  /** Browser origins allowed to call the API; `*` (default) allows any, without credentials. */
  corsOrigins?: string[] | '*';
}

/** tRPC bodies: a signParts of 10,000 part numbers or a complete of 10,000 parts fits. */
const TRPC_MAX_BODY_BYTES = 2 * 1024 * 1024;

/** Assembles the HTTP surface: signed-URL routes of the store, /trpc, /s3 and health. */
export function createApp(options: CreateAppOptions): Express {
  const deps: AppDependencies = {
    store: options.store,
    policy: options.policy ?? allowAllPolicy,
    uploads: options.uploads ?? { allowedFileTypes: DEFAULT_ALLOWED_FILE_TYPES },
    logger: options.logger ?? silentLogger,
  };
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // The store's own routes read raw part bodies, so no body parser may run ahead of them; they
  // answer CORS from the bucket's rules, like S3, not from the API's allowlist.
  if (deps.store.signedUrlRoutes) app.use(deps.store.signedUrlRoutes);

  // The API is called cross-origin by design; CORP must not stop a page from using its answers.
  const apiHeaders = [helmet({ crossOriginResourcePolicy: { policy: 'cross-origin' } }), apiCors(options.corsOrigins ?? '*')];

  app.use(
    '/trpc',
    apiHeaders,
    createExpressMiddleware({
      router: appRouter,
      maxBodySize: TRPC_MAX_BODY_BYTES,
      createContext: ({ req, res }) => createRequestContext(deps, req, res),
      onError: ({ error }) => {
        const appError = toAppError(error);
        if (appError.status >= 500) deps.logger.error({ err: error.cause ?? error, code: appError.appCode }, error.message);
      },
    }),
  );

  app.use('/s3', apiHeaders, createRestRouter(deps));

  app.use(notFound);
  app.use(errorResponder(deps.logger));
  return app;
}
