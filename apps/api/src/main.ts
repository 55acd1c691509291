import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assertStoreReachable,
  type Config,
  ConfigError,
  connectRedisLimitStores,
  createApp,
  createDrainState,
  createLogger,
  createPolicy,
  createStore,
  type ListenOptions,
  type Logger,
  listen,
  loadConfig,
  type RedisLimitStores,
  type RunningServer,
  startCleanupJob,
  wantsPrettyLogs,
} from '@s3-service/server';
import { describeCatalog, openCommandCatalog } from './catalog-command.js';

/** A cold start against AWS (DNS, TLS, the credential chain) may take longer than one probe may. */
const STARTUP_CHECK_MS = 10_000;
/** After the grace period the sockets are cut; this much more is allowed for closing the rest. */
const EXIT_MARGIN_MS = 5_000;
/** LOG_LEVEL=debug or trace: an unexpected start-up error also prints its stack. */
let showStacks = false;

/** Reads the configuration, checks the store, serves the API and drains on SIGTERM: nothing else. */
async function main(): Promise<void> {
  const config = loadConfig();
  showStacks = config.logLevel === 'debug' || config.logLevel === 'trace';
  const logger = createLogger({ level: config.logLevel, pretty: wantsPrettyLogs(config.env, process.stdout.isTTY === true) });
  let boundUrl = '';
  const store = await assertStoreReachable(
    createStore(config.storage, { publicUrl: () => config.publicUrl ?? boundUrl }),
    config.storage,
    Math.max(config.readinessTimeoutMs, STARTUP_CHECK_MS),
  );
  // Migrated on open; a database that cannot be reached stops the start with the setting to check.
  const catalog = await openCommandCatalog(config, logger);
  const redis = config.rateLimits.redisUrl ? await connectRedis(config.rateLimits.redisUrl, logger) : undefined;
  const drain = createDrainState();
  const app = createApp({
    store,
    catalog,
    quotas: config.quotas,
    logger,
    policy: createPolicy(config.auth),
    uploads: config.uploads,
    corsOrigins: config.apiCorsOrigins,
    drain,
    rateLimits: { ...config.rateLimits, createStore: redis?.createStore, createWorkStore: redis?.createWorkStore },
    requestLimits: config.requestLimits,
    readinessTimeoutMs: config.readinessTimeoutMs,
    downloadIdleTimeoutMs: config.downloadIdleTimeoutMs,
    trustProxy: config.http.trustProxy,
    webRoot: webAppRoot(),
    // With WEBHOOK_DISPATCHER=false a separate `pnpm dispatch-webhooks` process delivers them.
    webhooks: config.webhooks,
    dispatchWebhooks: config.webhooks.dispatcher,
    eventPollIntervalMs: config.events.pollIntervalMs,
    uppy: { ...config.uppy, publicUrl: config.publicUrl },
  });
  const running = await listenOrExplain(app, {
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
    config.uploadCleanup.intervalMinutes > 0
      ? startCleanupJob(store, { ...config.uploadCleanup, logger, catalog, eventRetentionDays: config.events.retentionDays })
      : undefined;
  logger.info(
    { url: running.url, store: store.kind, catalog: catalog.kind },
    `s3-service listening on ${running.url} (store: ${describeStore(config)}; catalogue: ${describeCatalog(config)})`,
  );
  logger.info(`web app: ${running.url}/app/`);
  if (config.auth.mode === 'open') {
    logger.warn('AUTHORIZATION IS OFF: anyone who reaches this server can use every workspace. Set AUTH_JWT_SECRET or AUTH_JWKS_URL.');
  }
  if (!config.uppy.capabilitySecret && config.env === 'production') {
    logger.warn('UPPY_CAPABILITY_SECRET is unset: Uppy endpoints minted here work on this instance only and end when it restarts.');
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
    await catalog.close();
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
    throw new ConfigError(`REDIS_URL=${withoutPassword(url)}: Redis cannot be reached (${reason})`);
  }
}

/** A taken PORT or a HOST that is no address here is a setting to fix, not a crash. */
async function listenOrExplain(app: Parameters<typeof listen>[0], options: ListenOptions): Promise<RunningServer> {
  try {
    return await listen(app, options);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const { host, port } = options;
    switch (code) {
      case 'EADDRINUSE':
        throw new ConfigError(`PORT=${port}: already in use on HOST=${host} (EADDRINUSE); stop the other server or choose another PORT`);
      case 'EACCES':
        throw new ConfigError(`PORT=${port}: this user may not listen on it (EACCES); choose a PORT above 1023`);
      case 'EADDRNOTAVAIL':
        throw new ConfigError(
          `HOST=${host}: not an address of this machine (EADDRNOTAVAIL); use 127.0.0.1, 0.0.0.0 or one of its addresses`,
        );
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'EAI_FAIL':
        throw new ConfigError(`HOST=${host}: the name cannot be resolved (${code}); use an IP address or a name this machine resolves`);
      default:
        throw error;
    }
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

/**
 * Every failed start is one line on stderr and exit code 1: a misconfiguration (ConfigError) names
 * the variable to fix; anything else is a bug or an outage, named by its error, with the stack only
 * on request so a person reading the terminal sees the line that matters.
 */
main().catch((error: unknown) => {
  const hint = showStacks ? '' : ' (LOG_LEVEL=debug prints the stack)';
  const message = error instanceof ConfigError ? error.message : `unexpected ${describeError(error)}${hint}`;
  console.error(`s3-service cannot start: ${message.replace(/\s*\n\s*/g, ' ')}`);
  if (showStacks && !(error instanceof ConfigError)) console.error(error);
  process.exit(1);
});

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${error.name}${typeof code === 'string' ? ` (${code})` : ''}: ${error.message || '(no message)'}`;
}
