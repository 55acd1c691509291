import { ConfigError, createLogger, loadConfig, startWebhookDispatcher, wantsPrettyLogs } from '@s3-service/server';
import { describeCatalog, failCommand, openCommandCatalog } from './catalog-command.js';

/** Attempts in flight get their timeout to end; this much more is allowed for writing their outcomes. */
const EXIT_MARGIN_MS = 5_000;

/**
 * The webhook dispatcher on its own, beside API processes started with WEBHOOK_DISPATCHER=false
 * (deliveries then leave from here only, or from several of these: they share the work through
 * the catalogue's claims):
 *   pnpm dispatch-webhooks
 * Runs until SIGTERM or SIGINT, then lets the attempts in flight finish and records them.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (config.catalog.kind !== 'postgres') {
    throw new ConfigError(
      'the embedded catalogue (PGlite) belongs to the API process, which delivers its webhooks itself; ' +
        'a separate dispatcher needs a shared PostgreSQL (DATABASE_URL)',
    );
  }
  const logger = createLogger({ level: config.logLevel, pretty: wantsPrettyLogs(config.env, process.stdout.isTTY === true) });
  const catalog = await openCommandCatalog(config, logger);
  const { dispatcher: _inApi, ...settings } = config.webhooks;
  const dispatcher = startWebhookDispatcher(catalog, { ...settings, logger, pollIntervalMs: config.events.pollIntervalMs });
  logger.info(
    { catalog: catalog.kind, concurrency: settings.concurrency },
    `dispatching webhooks from ${describeCatalog(config)} (up to ${settings.concurrency} at once)`,
  );

  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping: no new deliveries, finishing the attempts in flight');
    const giveUp = setTimeout(() => {
      logger.error('the attempts in flight did not finish in time; exiting');
      process.exit(1);
    }, settings.timeoutMs + EXIT_MARGIN_MS);
    giveUp.unref();
    await dispatcher.stop();
    await catalog.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => failCommand('dispatch-webhooks', error));
