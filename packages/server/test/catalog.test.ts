import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgliteCatalog } from '../src/catalog/pglite.js';
import { openPostgresCatalog } from '../src/catalog/postgres.js';
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
