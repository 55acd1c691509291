import { createLogger, loadConfig, wantsPrettyLogs } from '@s3-service/server';
import { describeCatalog, failCommand, openCommandCatalog } from './catalog-command.js';

/**
 * Brings the configured catalogue's schema up to date and exits: for a deploy step that runs
 * before new API instances start (they migrate on start too, one at a time):
 *   pnpm run migrate
 * Exits 1 with one line on stderr when the database cannot be reached.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, pretty: wantsPrettyLogs(config.env, process.stdout.isTTY === true) });
  const catalog = await openCommandCatalog(config, logger);
  try {
    const { applied, current } = catalog.migrations;
    const where = describeCatalog(config);
    logger.info(
      { catalog: catalog.kind, applied, current },
      applied.length > 0
        ? `catalogue migrated (${where}): applied ${applied.join(', ')}; the schema is at ${current}`
        : `catalogue schema is current (${where}): at ${current}, nothing to apply`,
    );
  } finally {
    await catalog.close();
  }
}

main().catch((error: unknown) => failCommand('migrate', error));
