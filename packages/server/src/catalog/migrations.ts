import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { MigrationConfig } from 'drizzle-orm/migrator';
import type { MigrationReport } from './catalog.js';
import type { SqlDatabase } from './sql-catalog.js';

/**
 * The committed migrations (`packages/server/drizzle`, written by drizzle-kit from schema.ts). The
 * folder sits two levels above this file in the sources and in the build alike.
 */
export const MIGRATIONS: MigrationConfig = {
  migrationsFolder: fileURLToPath(new URL('../../drizzle', import.meta.url)),
  migrationsSchema: 'drizzle',
  migrationsTable: 'catalog_migrations',
};

const MIGRATIONS_TABLE = `${MIGRATIONS.migrationsSchema}.${MIGRATIONS.migrationsTable}`;

interface JournalEntry {
  tag: string;
  when: number;
}

/**
 * Runs `migrate` (the driver's drizzle migrator) and says what it applied. Drizzle applies every
 * migration newer than the newest one recorded (`created_at` holds the migration's own date), so
 * the same comparison before the run names the ones it is about to apply.
 */
export async function runMigrations(db: SqlDatabase, migrate: () => Promise<void>): Promise<MigrationReport> {
  const journal = await readJournal();
  const before = await newestApplied(db);
  await migrate();
  const applied = journal.filter((entry) => before === undefined || entry.when > before).map((entry) => entry.tag);
  return { applied, current: journal.at(-1)?.tag ?? null };
}

async function readJournal(): Promise<JournalEntry[]> {
  const text = await readFile(join(MIGRATIONS.migrationsFolder, 'meta', '_journal.json'), 'utf8');
  const journal = JSON.parse(text) as { entries: JournalEntry[] };
  return [...journal.entries].sort((a, b) => a.when - b.when);
}

/** The date of the newest migration recorded, or undefined on a database never migrated. */
async function newestApplied(db: SqlDatabase): Promise<number | undefined> {
  const rows = async (query: ReturnType<typeof sql>) =>
    ((await db.execute(query)) as unknown as { rows: Array<Record<string, unknown>> }).rows;
  const [table] = await rows(sql`select to_regclass(${MIGRATIONS_TABLE}) as name`);
  if (table?.name === null || table?.name === undefined) return undefined;
  const [newest] = await rows(sql.raw(`select max(created_at) as newest from ${MIGRATIONS_TABLE}`));
  return newest?.newest === null || newest?.newest === undefined ? undefined : Number(newest.newest);
}
