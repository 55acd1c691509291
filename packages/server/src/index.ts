export { createPolicy } from './auth/index.js';
export { createJwtPolicy } from './auth/jwt-policy.js';
export { type MintTokenOptions, mintToken } from './auth/mint-token.js';
export { type AccessPolicy, allowAllPolicy, type CallerInfo } from './auth/policy.js';
export type { AssetRecord, Catalog, MigrationReport, QuotaRules, UploadRecord, WorkspaceUsage } from './catalog/catalog.js';
export type { CatalogConfig } from './catalog/config.js';
export type { EventPosition, StoredEvent } from './catalog/event-log.js';
export { CatalogInUseError } from './catalog/folder-lock.js';
export { openCatalog } from './catalog/index.js';
export { openPgliteCatalog } from './catalog/pglite.js';
export { openPostgresCatalog } from './catalog/postgres.js';
export { type CatalogSyncOptions, type CatalogSyncReport, syncCatalog } from './catalog/sync.js';
export {
  type Config,
  ConfigError,
  DEFAULT_ALLOWED_FILE_TYPES,
  DEFAULT_WEBHOOK_SETTINGS,
  type EventConfig,
  loadConfig,
  showSetting,
  type UploadRules,
  type UppyConfig,
  type WebhookConfig,
  type WebhookSettings,
} from './config.js';
export { AppError, type ErrorCode, errorCodes } from './errors.js';
export {
  type AssetEvent,
  type AssetEventOf,
  type AssetEventType,
  assetEvent,
} from './events/asset-event.js';
export { type EventServices, type EventServicesOptions, startEventServices } from './events/event-services.js';
export type { AssetEventHook } from './events/hook-consumer.js';
export { startWebhookDispatcher, type WebhookDispatcher, type WebhookDispatcherOptions } from './events/webhook-dispatcher.js';
export { type CreateAppOptions, createApp, type UppyOptions } from './http/app.js';
export { closeApp } from './http/app-resources.js';
export { createDrainState, type DrainState } from './http/drain.js';
export type { RateLimitOptions } from './http/rate-limit.js';
export { connectRedisLimitStores, type RedisLimitStores } from './http/rate-limit-redis.js';
export { type ListenOptions, listen, type RunningServer } from './http/server.js';
export { createSignedUrlRoutes, type SignedUrlRoutesOptions } from './http/transfer/signed-url-routes.js';
export { type TrpcHandlerOptions, trpcHandler } from './http/trpc-handler.js';
export { createLogger, type Logger, silentLogger, wantsPrettyLogs } from './logger.js';
export { DEFAULT_CORS_RULES } from './router/bucket.js';
export { type AppRouter, appRouter } from './router/index.js';
export { createStore } from './storage/index.js';
export { createLocalStore, type LocalStore, type LocalStoreOptions } from './storage/local/index.js';
export { StoreNotReadyError } from './storage/not-ready.js';
export { createS3Store, type S3StoreOptions } from './storage/s3/index.js';
export { assertStoreReachable } from './storage/startup-check.js';
export type {
  ObjectInfo,
  ObjectStore,
  ObjectSummary,
  OrphanSweepReport,
  PartGrant,
  PendingUpload,
  SignedUrlEndpoint,
  StoredPart,
  WalkObjectsOptions,
} from './storage/store.js';
export { type AbortStaleReport, abortStaleUploads } from './uploads-cleanup/abort-stale.js';
export { type CleanupReport, runCleanup } from './uploads-cleanup/run-cleanup.js';
export { type CleanupJob, startCleanupJob } from './uploads-cleanup/schedule.js';
export { type MintUppyCapabilityOptions, mintUppyCapability } from './uppy/mint.js';
