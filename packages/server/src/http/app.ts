import express, { type Express, type Request, type Response } from 'express';
import helmet from 'helmet';
import { type AccessPolicy, allowAllPolicy } from '../auth/policy.js';
import type { Catalog, QuotaRules } from '../catalog/catalog.js';
import {
  DEFAULT_ALLOWED_FILE_TYPES,
  DEFAULT_REQUEST_LIMITS,
  DEFAULT_UPPY_SETTINGS,
  DEFAULT_WEBHOOK_SETTINGS,
  type RequestLimits,
  type UploadRules,
  type WebhookSettings,
} from '../config.js';
import { toAppError } from '../errors.js';
import { startEventServices } from '../events/event-services.js';
import type { AssetEventHook } from '../events/hook-consumer.js';
import { type Logger, silentLogger } from '../logger.js';
import { createDocsPage } from '../openapi/docs-page.js';
import { restRoutes } from '../openapi/index.js';
import { createRestRouter, REST_BASE_PATH } from '../rest/index.js';
import { appRouter } from '../router/index.js';
import { UPPY_BASE_PATH } from '../router/uppy.js';
import type { ObjectStore, SignedUrlEndpoint } from '../storage/store.js';
import { createCapabilityIssuer } from '../uppy/capability.js';
import { createUppyRouter } from '../uppy/routes.js';
import { registerAppDrain, registerAppStopper } from './app-resources.js';
import { apiCors } from './cors.js';
import { closeConnectionsWhileDraining, createDrainState, type DrainState } from './drain.js';
import { errorResponder, notFound } from './errors.js';
import { healthRoutes } from './health.js';
import {
  createWorkspaceLimiter,
  createWorkspaceSigningLimiter,
  ipRateLimit,
  type RateLimitOptions,
  refuseWhenRateLimited,
} from './rate-limit.js';
import { createRequestActivity } from './request-activity.js';
import { refuseOversizedRequest } from './request-bounds.js';
import { type AppDependencies, createRequestContext } from './request-context.js';
import { noteError } from './request-facts.js';
import { requestLogger } from './request-log.js';
import { createSignedUrlRoutes } from './transfer/signed-url-routes.js';
import { trpcHandler } from './trpc-handler.js';
import { createWebAppRouter } from './web-app.js';

export interface CreateAppOptions {
  store: ObjectStore;
  /** The asset catalogue (openCatalog): names, sizes, open uploads and quotas of every workspace. */
  catalog: Catalog;
  /** The default per-workspace quota; absent: none. */
  quotas?: QuotaRules;
  /** Who may use which workspace; defaults to letting everyone in (local development). */
  policy?: AccessPolicy;
  logger?: Logger;
  /** Allowed file types and size limit; defaults to the safe allowlist and no limit. */
  uploads?: UploadRules;
  /** Browser origins allowed to call the API; `*` (default) allows any, without credentials. */
  corsOrigins?: string[] | '*';
  /** Per-IP and per-workspace limits on /trpc and /s3; absent: no limits (tests, embedders). */
  rateLimits?: RateLimitOptions;
  /** Most calls per tRPC batch and part URLs per request; absent fields: DEFAULT_REQUEST_LIMITS. */
  requestLimits?: Partial<RequestLimits>;
  /** Shared with `listen` so readiness turns false when shutdown begins; one is made if absent. */
  drain?: DrainState;
  /** How long /readyz waits for the store; default 2 s. */
  readinessTimeoutMs?: number;
  /** A download whose bytes stop moving this long is cut; default 60 s. */
  downloadIdleTimeoutMs?: number;
  /** Express's `trust proxy` (hops or proxy addresses), for the client address behind a load balancer. */
  trustProxy?: number | string[];
  /** A built web app (apps/web/dist) to serve at /app, `/` redirecting there; absent: no page. */
  webRoot?: string;
  /**
   * Called for every event (asset.created, asset.deleted, upload.aborted, upload.expired) from the
   * outbox: at least once, in order, also for events of a process that crashed before calling it.
   * A throw or rejection retries the event (with backoff) before the next one.
   */
  onAssetEvent?: AssetEventHook;
  /**
   * The name under which this app's processes share onAssetEvent's position and lease; default
   * `app-hooks`. Two different apps embedding the service on one database need two names, or each
   * gets only part of the events.
   */
  onAssetEventConsumer?: string;
  /** How webhooks are delivered, and which targets they may have; absent fields: DEFAULT_WEBHOOK_SETTINGS, public targets only. */
  webhooks?: Partial<WebhookSettings>;
  /** Whether this process delivers webhooks; false when a separate dispatcher does. Default true. */
  dispatchWebhooks?: boolean;
  /** How often the outbox's readers look for what other instances wrote; default 500 ms. */
  eventPollIntervalMs?: number;
  /** Uppy's Companion S3 endpoint (`/uppy/<capability>/s3/...`); absent fields: the defaults below. */
  uppy?: UppyOptions;
}

export interface UppyOptions {
  /** HS256 secret of upload capabilities (32+ characters); absent: a random one, for this process only. */
  capabilitySecret?: string;
  /** Longest lifetime of a capability; default one day. */
  maxCapabilitySeconds?: number;
  /** Most bytes of one small-file form upload; default 100 MiB. MAX_UPLOAD_BYTES applies too. */
  formMaxBytes?: number;
  /** Base of the endpoints minted (PUBLIC_URL); absent: the origin each request came to. */
  publicUrl?: string;
}

/** tRPC bodies: a signParts of 10,000 part numbers or a complete of 10,000 parts fits. */
const TRPC_MAX_BODY_BYTES = 2 * 1024 * 1024;

const DEFAULT_READINESS_TIMEOUT_MS = 2_000;
const DEFAULT_DOWNLOAD_IDLE_TIMEOUT_MS = 60_000;

/** Assembles the HTTP surface: signed-URL routes of the store, /trpc, /s3 and health. */
export function createApp(options: CreateAppOptions): Express {
  const logger = options.logger ?? silentLogger;
  const drain = options.drain ?? createDrainState();
  const downloadIdleTimeoutMs = options.downloadIdleTimeoutMs ?? DEFAULT_DOWNLOAD_IDLE_TIMEOUT_MS;
  const webhooks: WebhookSettings = { ...DEFAULT_WEBHOOK_SETTINGS, allowedPrivateTargets: [], ...options.webhooks };
  const activity = createRequestActivity();
  const events = startEventServices(options.catalog, {
    yieldTo: activity,
    logger,
    webhooks: options.dispatchWebhooks === false ? false : webhooks,
    onAssetEvent: options.onAssetEvent,
    onAssetEventConsumer: options.onAssetEventConsumer,
    pollIntervalMs: options.eventPollIntervalMs,
  });
  const uppyCapabilities = createCapabilityIssuer({
    secret: options.uppy?.capabilitySecret,
    maxLifetimeSeconds: options.uppy?.maxCapabilitySeconds,
    publicUrl: options.uppy?.publicUrl,
  });
  const deps: AppDependencies = {
    store: options.store,
    catalog: options.catalog,
    quotas: options.quotas ?? {},
    downloadIdleTimeoutMs,
    policy: options.policy ?? allowAllPolicy,
    uploads: options.uploads ?? { allowedFileTypes: DEFAULT_ALLOWED_FILE_TYPES },
    logger,
    workspaceLimiter: options.rateLimits && createWorkspaceLimiter(options.rateLimits, logger),
    signingLimiter: options.rateLimits && createWorkspaceSigningLimiter(options.rateLimits, logger),
    events: events.feed,
    webhooks,
    uppyCapabilities,
  };
  const requestLimits = { ...DEFAULT_REQUEST_LIMITS, ...options.requestLimits };
  const createContext = (req: Request, res: Response) => createRequestContext(deps, req, res);
  const app = express();
  registerAppStopper(app, events.stop);
  registerAppDrain(app, drain);
  // Event streams never end by themselves: they end as shutdown begins, and their clients reconnect elsewhere.
  drain.onBegin(() => void events.feed.close());
  app.disable('x-powered-by');
  // API answers are not cacheable (see uncacheable below), so a validator would be hashing for
  // nobody: Express's ETag is a SHA-1 of every JSON body. Static files (the web app) and object
  // downloads set their own ETags.
  app.set('etag', false);
  if (options.trustProxy !== undefined) app.set('trust proxy', options.trustProxy);

  app.use(activity.track, requestLogger(logger), closeConnectionsWhileDraining(drain));

  // Probes come before everything that could refuse them: authorization and rate limits.
  app.use(
    healthRoutes({
      store: options.store,
      catalog: options.catalog,
      drain,
      readinessTimeoutMs: options.readinessTimeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS,
    }),
  );

  // The store's own URLs carry raw part bodies, so no body parser may run ahead of them; they
  // answer CORS from the bucket's rules, like S3, not from the API's allowlist.
  if (hasSignedUrls(options.store)) app.use(createSignedUrlRoutes(options.store, { downloadIdleTimeoutMs, logger }));

  // The API is called cross-origin by design; CORP must not stop a page from using its answers.
  const apiHeaders = [helmet({ crossOriginResourcePolicy: { policy: 'cross-origin' } }), apiCors(options.corsOrigins ?? '*'), uncacheable];
  // One limiter on both surfaces, so that splitting calls between them buys no extra budget.
  // Without limits there is nothing to count or refuse, and no layer is spent on it per request.
  const perIpLimit = options.rateLimits ? [ipRateLimit(options.rateLimits, logger)] : [];
  const restPerIpLimit = options.rateLimits ? [...perIpLimit, refuseWhenRateLimited] : [];

  app.use(
    '/trpc',
    apiHeaders,
    perIpLimit,
    trpcHandler({
      router: appRouter,
      maxBodySize: TRPC_MAX_BODY_BYTES,
      // A rate-limited client is refused first (the context throws), then an oversized request.
      createContext: async (req, res, info) => {
        const context = createContext(req, res);
        await refuseOversizedRequest(info, requestLimits);
        return context;
      },
      // The request log's closing line reports the code, and the error itself for 5xx.
      onError: ({ error, req }) => noteError(req.res!, toAppError(error)),
    }),
  );

  app.use(REST_BASE_PATH, apiHeaders, ...restPerIpLimit, createRestRouter(restRoutes, { logger, downloadIdleTimeoutMs, createContext }));

  // Uppy's Companion S3 protocol: the same procedures, authorized by the capability in the path.
  app.use(
    UPPY_BASE_PATH,
    apiHeaders,
    ...restPerIpLimit,
    createUppyRouter({
      issuer: uppyCapabilities,
      bucket: options.store.bucket,
      formMaxBytes: Math.min(
        options.uppy?.formMaxBytes ?? DEFAULT_UPPY_SETTINGS.formMaxBytes,
        deps.uploads.maxUploadBytes ?? Number.POSITIVE_INFINITY,
      ),
      createContext: (req, res, policy) => createRequestContext({ ...deps, policy }, req, res),
    }),
  );

  // The API reference page, rendered from the REST router's own OpenAPI document (issue #9).
  app.use('/docs', createDocsPage({ documentUrl: `${REST_BASE_PATH}/openapi.json` }));

  // The browser app (apps/web): its own CSP and cache headers, outside /trpc and /s3.
  if (options.webRoot) app.use(createWebAppRouter(options.webRoot));

  app.use(notFound);
  app.use(errorResponder());
  return app;
}

/**
 * API answers carry signed URLs and per-call state: no browser or proxy cache may keep them. A
 * download overrides this with its own caching headers.
 */
const uncacheable: express.RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

function hasSignedUrls(store: ObjectStore): store is ObjectStore & { signedUrls: SignedUrlEndpoint } {
  return store.signedUrls !== undefined;
}
