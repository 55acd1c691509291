import { parseArgs } from 'node:util';
import { assertStoreReachable, createLogger, createStore, loadConfig, syncCatalog, wantsPrettyLogs } from '@s3-service/server';
import { describeCatalog, failCommand, openCommandCatalog } from './catalog-command.js';

/** A cold start against AWS (DNS, TLS, the credential chain) may take longer than one probe may. */
const STORE_CHECK_MS = 10_000;

/**
 * Reconciles the catalogue with the store, once, and exits: rows for objects and open uploads it
 * does not know (objects of the service from before the catalogue included), a report of rows
 * whose object is gone:
 *   pnpm run catalog:sync [-- --remove-missing] [--from <key>] [--progress-every 1000]
 * SIGINT stops after the batch in progress and names the key to resume from. Exits 1 when some
 * key could not be handled or the run was stopped, so a scheduler notices.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    options: {
      'remove-missing': { type: 'boolean', default: false },
      from: { type: 'string' },
      'progress-every': { type: 'string' },
      concurrency: { type: 'string' },
      'upload-grace-minutes': { type: 'string' },
    },
  });
  const progressEvery = wholeNumber('--progress-every', values['progress-every'], 1);
  const concurrency = wholeNumber('--concurrency', values.concurrency, 1);
  const graceMinutes = wholeNumber('--upload-grace-minutes', values['upload-grace-minutes'], 0);
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, pretty: wantsPrettyLogs(config.env, process.stdout.isTTY === true) });
  // Signed URLs are never made here, so the local store needs no real base URL.
  const store = await assertStoreReachable(createStore(config.storage, { publicUrl: 'http://127.0.0.1' }), config.storage, STORE_CHECK_MS);
  try {
    const catalog = await openCommandCatalog(config, logger);
    const stop = new AbortController();
    const onSignal = () => {
      logger.warn('stopping after the batch in progress');
      stop.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const report = await syncCatalog(store, catalog, {
        logger,
        removeMissing: values['remove-missing'],
        fromKey: values.from,
        progressEvery,
        concurrency,
        uploadGraceMs: graceMinutes === undefined ? undefined : graceMinutes * 60_000,
        signal: stop.signal,
      });
      const failed = report.objects.failed + report.uploads.failed + report.rows.failed;
      logger.info(
        { ...report, catalogue: describeCatalog(config) },
        `catalogue sync ${report.interrupted ? 'stopped' : 'finished'}: ${summary(report)}`,
      );
      if (report.interrupted) logger.warn(`resume with: pnpm run catalog:sync -- --from ${report.lastKey ?? "''"}`);
      process.exitCode = failed > 0 || report.interrupted ? 1 : 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await catalog.close();
    }
  } finally {
    await store.close?.();
  }
}

function summary(report: Awaited<ReturnType<typeof syncCatalog>>): string {
  const { objects, uploads, rows } = report;
  const missing =
    rows.missing === 0
      ? 'none'
      : `${rows.missing}${rows.removed > 0 || rows.reappeared > 0 ? ` (${rows.removed} removed)` : ' (reported; --remove-missing deletes them)'}`;
  return (
    `${objects.seen} objects, ${objects.imported} rows created, ${uploads.imported} open uploads recorded, ` +
    `rows without object: ${missing}, foreign keys skipped: ${objects.foreign + uploads.foreign}` +
    (objects.failed + uploads.failed + rows.failed > 0 ? `, failed: ${objects.failed + uploads.failed + rows.failed}` : '')
  );
}

function wholeNumber(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new Error(`${flag} must be a whole number, at least ${min}`);
  return Number(value);
}

main().catch((error: unknown) => failCommand('catalog:sync', error));
