import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assertStoreReachable,
  ConfigError,
  connectRedisLimitStores,
  createApp,
  createDrainState,
  createLogger,
  createPolicy,
  createStore,
  listen,
  loadConfig,
  startCleanupJob,
  wantsPrettyLogs,
  type Config,
  type Logger,
  type RedisLimitStores,
} from '@s3-service/server';

/** A cold start against AWS (DNS, TLS, the credential chain) may take longer than one probe may. */
const STARTUP_CHECK_MS = 10_000;
/** After the grace period the sockets are cut; this much more is allowed for closing the rest. */
const EXIT_MARGIN_MS = 5_000;

/** Reads the configuration, checks the store, serves the API and drains on SIGTERM: nothing else. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, pretty: wantsPrettyLogs(config.env, process.stdout.isTTY === true) });
  let boundUrl = '';
  const store = await createStore(config.storage, { publicUrl: () => config.publicUrl ?? boundUrl });
  await assertStoreReachable(store, config.storage, Math.max(config.readinessTimeoutMs, STARTUP_CHECK_MS));
  const redis = config.rateLimits.redisUrl ? await connectRedis(config.rateLimits.redisUrl, logger) : undefined;
  const drain = createDrainState();
  const app = createApp({
    store,
    logger,
    policy: createPolicy(config.auth),
    uploads: config.uploads,
    corsOrigins: config.apiCorsOrigins,
    drain,
    rateLimits: { ...config.rateLimits, createStore: redis?.createStore },
    readinessTimeoutMs: config.readinessTimeoutMs,
    downloadIdleTimeoutMs: config.downloadIdleTimeoutMs,
    trustProxy: config.http.trustProxy,
    webRoot: webAppRoot(),
  });
  const running = await listen(app, {
    host: config.host,
    port: config.port,
    drain,
    shutdownGraceMs: config.http.shutdownGraceMs,
    headersTimeoutMs: config.http.headersTimeoutMs,
    requestTimeoutMs: config.http.requestTimeoutMs,
    keepAliveTimeoutMs: config.http.keepAliveTimeoutMs,
  });
  boundUrl = reachableUrl(running.url);
  const cleanup =
    config.uploadCleanup.intervalMinutes > 0 ? startCleanupJob(store, { ...config.uploadCleanup, logger }) : undefined;
  logger.info({ url: running.url, store: store.kind }, `s3-service listening on ${running.url} (store: ${describeStore(config)})`);
  logger.info(`web app: ${running.url}/app/`);
  if (config.auth.mode === 'open') {
    logger.warn('AUTHORIZATION IS OFF: anyone who reaches this server can use every workspace. Set AUTH_JWT_SECRET or AUTH_JWKS_URL.');
  }
  if (!config.publicUrl && boundUrl !== running.url) {
    logger.warn(`signed URLs point at ${boundUrl}; set PUBLIC_URL to the address clients use`);
  }

  // A second signal while draining gets Node's default (immediate exit), which is what a person
  // pressing Ctrl-C twice wants.
  const stop = async (signal: string) => {
    logger.info({ signal, graceMs: config.http.shutdownGraceMs }, 'shutting down: refusing new connections, draining requests');
    const giveUp = setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.http.shutdownGraceMs + EXIT_MARGIN_MS);
    giveUp.unref();
    await running.close();
    await cleanup?.stop();
    await redis?.close();
    await store.close?.();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

/** Redis holds the rate-limit counters of every instance; a wrong REDIS_URL stops the start. */
async function connectRedis(url: string, logger: Logger): Promise<RedisLimitStores> {
  try {
    return await connectRedisLimitStores(url, logger);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`invalid configuration:\n  REDIS_URL=${withoutPassword(url)}: Redis cannot be reached (${reason})`);
  }
}

function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

function describeStore(config: Config): string {
  const storage = config.storage;
  if (storage.kind === 'local') return `local disk at ${resolve(storage.dir)}`;
  return `S3 bucket ${storage.bucket}${storage.endpoint ? ` at ${storage.endpoint}` : ` in ${storage.region}`}`;
}

/** A server bound to every interface is reached through loopback from this machine. */
function reachableUrl(url: string): string {
  return url.replace('://0.0.0.0:', '://127.0.0.1:').replace('://[::]:', '://127.0.0.1:');
}

/** The built page (apps/web/dist), found through its package so that a `pnpm deploy` copy has it too. */
function webAppRoot(): string {
  return fileURLToPath(new URL('./dist', import.meta.resolve('@s3-service/web/package.json')));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`s3-service cannot start: ${error.message}`);
  } else {
    console.error('s3-service failed to start:', error);
  }
  process.exit(1);
});
