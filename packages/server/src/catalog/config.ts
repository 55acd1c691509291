import { join } from 'node:path';

/** PostgreSQL at a URL, or PGlite in a folder (in memory without one). */
export type CatalogConfig = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir?: string };

/** Where the embedded catalogue keeps its files: beside the local store's data. */
export function embeddedCatalogDir(storageDir: string): string {
  return join(storageDir, 'catalog');
}
