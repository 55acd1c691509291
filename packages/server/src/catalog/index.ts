import type { Logger } from '../logger.js';
import type { Catalog } from './catalog.js';
import type { CatalogConfig } from './config.js';
import { openPgliteCatalog } from './pglite.js';
import { openPostgresCatalog } from './postgres.js';

/** The catalogue the configuration names, migrated and ready. */
export function openCatalog(config: CatalogConfig, options: { logger?: Logger } = {}): Promise<Catalog> {
  return config.kind === 'postgres'
    ? openPostgresCatalog({ url: config.url, logger: options.logger })
    : openPgliteCatalog({ dataDir: config.dataDir });
}
