import { join } from 'node:path';
import type { Logger } from '../logger.js';
import type { Catalog } from './catalog.js';
import { openPgliteCatalog } from './pglite.js';
import { openPostgresCatalog } from './postgres.js';

export type CatalogConfig = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir?: string };

/** The catalogue the configuration names, migrated and ready. */
export function openCatalog(config: CatalogConfig, options: { logger?: Logger } = {}): Promise<Catalog> {
  return config.kind === 'postgres'
    ? openPostgresCatalog({ url: config.url, logger: options.logger })
    : openPgliteCatalog({ dataDir: config.dataDir });
}

/** Where the embedded catalogue keeps its files: beside the local store's data. */
export function embeddedCatalogDir(storageDir: string): string {
  return join(storageDir, 'catalog');
}
