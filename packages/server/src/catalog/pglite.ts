import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import type { Catalog, MigrationReport } from './catalog.js';
import { lockCatalogFolder } from './folder-lock.js';
import { MIGRATIONS, runMigrations } from './migrations.js';
import { withOpenUploadCache } from './open-upload-cache.js';
import { withPreparedStatements } from './pglite-prepared.js';
import { createSqlCatalog, type SqlDatabase } from './sql-catalog.js';
import type { EventRecordingMode } from './statements.js';

export interface PgliteCatalogOptions {
  /** Where the database lives; absent: in memory, gone when the process ends (tests). */
  dataDir?: string;
  /** `off`: no events recorded, only for the bench's baseline of what events cost. */
  events?: EventRecordingMode;
  /** Whether repeated statements run PREPAREd (pglite-prepared.ts); default true, false only for the bench's baseline. */
  preparedStatements?: boolean;
  /** Whether open uploads read once are remembered (open-upload-cache.ts); default true, false for tests that wrap their own. */
  openUploadCache?: boolean;
}

/**
 * An in-memory database starts from this snapshot of an empty, migrated one: making one from
 * nothing runs initdb, about 2 s, and tests open many.
 */
let migratedSnapshot: Promise<Blob> | undefined;

async function freshMigratedSnapshot(): Promise<Blob> {
  const client = await PGlite.create();
  try {
    await migrate(drizzle({ client }), MIGRATIONS);
    return (await client.dumpDataDir('none')) as Blob;
  } finally {
    await client.close();
  }
}

/** The embedded catalogue: PostgreSQL compiled to WebAssembly, in this process, the same SQL as a server. */
export async function openPgliteCatalog(options: PgliteCatalogOptions = {}): Promise<Catalog> {
  let client: PGlite;
  let unlock = async () => {};
  if (options.dataDir === undefined) {
    migratedSnapshot ??= freshMigratedSnapshot();
    client = await PGlite.create({ loadDataDir: await migratedSnapshot });
  } else {
    await mkdir(options.dataDir, { recursive: true });
    unlock = await lockCatalogFolder(options.dataDir);
    try {
      client = await PGlite.create({ dataDir: join(options.dataDir, 'pgdata') });
    } catch (error) {
      await unlock();
      throw error;
    }
  }
  const db = drizzle({ client: options.preparedStatements === false ? client : await withPreparedStatements(client) });
  let migrations: MigrationReport;
  try {
    migrations = await runMigrations(db as unknown as SqlDatabase, () => migrate(db, MIGRATIONS));
  } catch (error) {
    await client.close().catch(() => {});
    await unlock();
    throw error;
  }
  // PGlite runs no autovacuum: without statistics the planner ignores the listing indexes.
  await client.exec('analyze');
  // This process alone writes the database (the folder is locked, or it lives in memory), so what
  // it read of an open upload stays true until one of its own calls changes it.
  const catalog = createSqlCatalog(db as unknown as SqlDatabase, {
    kind: 'pglite',
    migrations,
    analyzeEvery: 500,
    events: options.events,
    close: async () => {
      if (!client.closed) await client.close();
      await unlock();
    },
  });
  return options.openUploadCache === false ? catalog : withOpenUploadCache(catalog);
}
