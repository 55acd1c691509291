import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import type { Logger } from '../logger.js';
import type { Catalog, MigrationReport } from './catalog.js';
import { MIGRATIONS, runMigrations } from './migrations.js';
import { createSqlCatalog, type SqlDatabase } from './sql-catalog.js';
import type { EventRecordingMode } from './statements.js';

export interface PostgresCatalogOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  logger?: Logger;
  /** Connections this process keeps; default 10. */
  maxConnections?: number;
  /** How long a call waits for a connection before it fails CATALOG_UNAVAILABLE; default 5 s. */
  connectTimeoutMs?: number;
  /** `off`: no events recorded, only for the bench's baseline of what events cost. */
  events?: EventRecordingMode;
}

/** Any number of instances may start at once; one applies the migrations while the others wait. */
const MIGRATION_LOCK = 7_241_301_516;

/**
 * The production catalogue, shared by every API instance. The pool reconnects by itself, so a
 * database that went away and came back serves again without a restart.
 */
export async function openPostgresCatalog(options: PostgresCatalogOptions): Promise<Catalog> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 's3-service',
  });
  // An idle connection the server drops is reported here; without a listener it would end the process.
  pool.on('error', (error) => options.logger?.warn({ err: error }, 'catalogue connection lost; it is replaced on next use'));
  let migrations: MigrationReport;
  try {
    migrations = await migrateOnce(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return createSqlCatalog(drizzle({ client: pool }) as unknown as SqlDatabase, {
    kind: 'postgres',
    migrations,
    close: () => pool.end(),
    events: options.events,
  });
}

async function migrateOnce(pool: pg.Pool): Promise<MigrationReport> {
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      const db = drizzle({ client });
      return await runMigrations(db as unknown as SqlDatabase, () => migrate(db, MIGRATIONS));
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}
