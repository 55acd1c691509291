import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

export type Row = Record<string, unknown>;

/**
 * The rows of a raw statement. Both drivers (node-postgres and PGlite) answer `execute` with a
 * `rows` array, which Drizzle's types leave driver-specific.
 */
export async function rows(db: PgDatabase<PgQueryResultHKT>, statement: SQL): Promise<Row[]> {
  return ((await db.execute(statement)) as unknown as { rows: Row[] }).rows;
}
