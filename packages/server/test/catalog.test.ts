import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgliteCatalog } from '../src/catalog/pglite.js';
import { openPostgresCatalog } from '../src/catalog/postgres.js';
import { assetPageQuery, type SqlDatabase } from '../src/catalog/sql-catalog.js';
import { AppError } from '../src/errors.js';
import { catalogConformance } from './catalog-conformance.js';
import { isPostgresSkipped, startPostgres, type TestPostgres } from './support/postgres.js';

catalogConformance('PGlite in memory', () => openPgliteCatalog());

const server = await startPostgres();
const postgres = isPostgresSkipped(server) ? undefined : server;
afterAll(() => postgres?.destroy());

describe.skipIf(!postgres)(`PostgreSQL server${isPostgresSkipped(server) ? ` (skipped: ${server.skipped})` : ''}`, () => {
  catalogConformance('PostgreSQL', async () => openPostgresCatalog({ url: await postgres!.createDatabase() }));

  it('lets several instances migrate one database at once', async () => {
    const url = await postgres!.createDatabase();
    const catalogs = await Promise.all([1, 2, 3].map(() => openPostgresCatalog({ url })));
    await Promise.all(catalogs.map((catalog) => catalog.checkReady()));
    await Promise.all(catalogs.map((catalog) => catalog.close()));
  });
});

describe.skipIf(!postgres)('the listing plans on PostgreSQL', () => {
  it('reads a page of a large workspace as an index scan in the order asked for, with no sort of the whole workspace', async () => {
    const url = await postgres!.createDatabase();
    const catalog = await openPostgresCatalog({ url });
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      // Three workspaces, so the planner must pick one out; 2,000 assets in the large one.
      const rows = (workspaceId: string, count: number) =>
        Array.from(
          { length: count },
          (_, index) => `('${workspaceId}/digital_assets/a${index}', '${workspaceId}', 'a${index}',
          'photo-${index}.jpg', 'image/jpeg', 1, '"e"', now() - interval '${index} seconds')`,
        ).join(',');
      for (const [workspaceId, count] of [
        ['large', 2000],
        ['small', 20],
        ['other', 500],
      ] as const) {
        await pool.query(
          `insert into assets (key, workspace_id, asset_id, file_name, file_type, size, etag, created_at) values ${rows(workspaceId, count)}`,
        );
      }
      await catalog.refreshStatistics();
      const db = drizzle({ client: pool }) as unknown as SqlDatabase;
      const first = await catalog.listAssets('large', { order: 'newest', limit: 100 });
      const cases = [
        { order: 'newest' as const, index: 'assets_newest', cursor: undefined },
        { order: 'newest' as const, index: 'assets_newest', cursor: first.nextCursor },
        { order: 'name' as const, index: 'assets_by_name', cursor: undefined },
      ];
      for (const { order, index, cursor } of cases) {
        const { query } = assetPageQuery(db, 'large', { order, limit: 100, cursor });
        const { sql: text, params } = query.toSQL();
        const [{ 'QUERY PLAN': plan }] = (await pool.query(`explain (format json) ${text}`, params)).rows;
        const nodes = JSON.stringify(plan);
        expect(nodes, `${order}${cursor ? ' after a cursor' : ''}`).toContain(`"Index Name":"${index}"`);
        expect(nodes).not.toContain('"Node Type":"Sort"');
      }
    } finally {
      await pool.end();
      await catalog.close();
    }
  }, 30_000);
});

describe.skipIf(!postgres)('PostgreSQL going away', () => {
  let own: TestPostgres;
  beforeAll(async () => {
    own = (await startPostgres()) as TestPostgres;
    return () => own.destroy();
  });

  it('answers CATALOG_UNAVAILABLE while the server is down and serves again once it is back, without reopening', async () => {
    const catalog = await openPostgresCatalog({ url: await own.createDatabase(), connectTimeoutMs: 1_000 });
    try {
      await catalog.checkReady();
      await own.stop();
      const failure = await catalog.usage('ws-1', {}).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(AppError);
      expect((failure as AppError).appCode).toBe('CATALOG_UNAVAILABLE');
      expect((failure as AppError).status).toBe(503);
      await own.start();
      await catalog.checkReady();
      expect(await catalog.usage('ws-1', {})).toMatchObject({ assets: 0 });
    } finally {
      await catalog.close();
    }
  }, 30_000);
});
