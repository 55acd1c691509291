import { parseArgs } from 'node:util';
import { type Catalog, CatalogInUseError, createLogger, createStore, loadConfig, openCatalog, runCleanup } from '@s3-service/server';

/**
 * Aborts multipart uploads older than UPLOAD_TTL_HOURS, sweeps the store's crash leftovers
 * (local store) and removes events older than EVENT_RETENTION_DAYS from the catalogue, once, and
 * exits; for cron or a scheduled job when the API's own interval (UPLOAD_CLEANUP_INTERVAL_MINUTES) is off:
 *   pnpm cleanup-uploads [-- --dry-run] [--ttl-hours 48]
 * Exits 1 when an upload could not be aborted, the sweep or the event retention failed, so a scheduler notices.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    options: {
      'dry-run': { type: 'boolean', default: false },
      'ttl-hours': { type: 'string' },
    },
  });
  const config = loadConfig();
  const ttlHours = values['ttl-hours'] === undefined ? config.uploadCleanup.ttlHours : Number(values['ttl-hours']);
  if (!Number.isInteger(ttlHours) || ttlHours < 1) throw new Error('--ttl-hours must be a whole number of hours, at least 1');
  const logger = createLogger({ level: config.logLevel });
  // Signed URLs are never made here, so the local store needs no real base URL. Crash leftovers
  // are swept in the run below, which reports them (and a dry run leaves them).
  const store = await createStore(config.storage, { publicUrl: 'http://127.0.0.1', sweepOrphansAtStart: false });
  const catalog = await openCatalogIfFree(config.catalog, logger);
  try {
    const eventRetentionDays = config.events.retentionDays;
    const report = await runCleanup(store, { ttlHours, logger, dryRun: values['dry-run'], catalog, eventRetentionDays });
    logger.info({ ...report, ttlHours, dryRun: values['dry-run'] }, 'abandoned upload cleanup finished');
    process.exitCode = report.failed > 0 || report.orphanSweepFailed || report.eventRetentionFailed ? 1 : 0;
  } finally {
    await catalog?.close();
    await store.close?.();
  }
}

/**
 * The running API holds the embedded catalogue; its own cleanup job and its listings expire the
 * rows then, so this run cleans the store alone.
 */
async function openCatalogIfFree(
  config: Parameters<typeof openCatalog>[0],
  logger: ReturnType<typeof createLogger>,
): Promise<Catalog | undefined> {
  try {
    return await openCatalog(config, { logger });
  } catch (error) {
    if (!(error instanceof CatalogInUseError)) throw error;
    logger.warn(`${error.message}: cleaning the store only; the API marks the uploads expired in its catalogue`);
    return undefined;
  }
}

main().catch((error: unknown) => {
  console.error('cleanup-uploads failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
