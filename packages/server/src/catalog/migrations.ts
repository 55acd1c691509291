import { fileURLToPath } from 'node:url';
import type { MigrationConfig } from 'drizzle-orm/migrator';

/**
 * The committed migrations (`packages/server/drizzle`, written by drizzle-kit from schema.ts). The
 * folder sits two levels above this file in the sources and in the build alike.
 */
export const MIGRATIONS: MigrationConfig = {
  migrationsFolder: fileURLToPath(new URL('../../drizzle', import.meta.url)),
  migrationsSchema: 'drizzle',
  migrationsTable: 'catalog_migrations',
};
