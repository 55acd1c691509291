import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Catalog } from '../src/catalog/catalog.js';
import { openPgliteCatalog } from '../src/catalog/pglite.js';
import { openPostgresCatalog } from '../src/catalog/postgres.js';
import { silentLogger } from '../src/logger.js';
import { createLocalStore } from '../src/storage/local/index.js';
import type { ObjectStore } from '../src/storage/store.js';
import { runCleanup } from '../src/uploads-cleanup/run-cleanup.js';
import { isPostgresSkipped, startPostgres, type TestPostgres } from './support/postgres.js';

const postgresResult = await startPostgres();
const postgres = isPostgresSkipped(postgresResult) ? undefined : (postgresResult as TestPostgres);
afterAll(() => postgres?.destroy());

const ALL_TYPES = ['asset.created', 'asset.deleted', 'upload.aborted', 'upload.expired'];

describe.skipIf(!postgres)('event retention (EVENT_RETENTION_DAYS) in the cleanup job', () => {
  let catalog: Catalog;
  let store: ObjectStore;
  let storeDir: string;
  let sql: pg.Client;

  // A database of each test's own: what one test leaves old must not count in the next one's run.
  beforeEach(async () => {
    const url = await postgres!.createDatabase();
    catalog = await openPostgresCatalog({ url });
    sql = new pg.Client({ connectionString: url });
    await sql.connect();
    storeDir = await mkdtemp(join(tmpdir(), 's3-service-retention-'));
    store = await createLocalStore({ dir: storeDir, publicUrl: () => 'http://127.0.0.1' });
    return async () => {
      await sql.end();
      await catalog.close();
      await store.close?.();
      await rm(storeDir, { recursive: true, force: true });
    };
  });

  /** A workspace with one enabled webhook endpoint for every event type: each of its events gets a delivery. */
  const workspaceWithEndpoint = async (): Promise<string> => {
    const workspaceId = `ret-${randomUUID().slice(0, 8)}`;
    await sql.query(
      `insert into webhook_endpoints (id, workspace_id, url, event_types, secret, created_at)
       values ($1, $2, 'https://receiver.example/hook', $3, 'whsec_dGVzdA==', now())`,
      [`whk_${randomUUID().replaceAll('-', '')}`, workspaceId, ALL_TYPES],
    );
    return workspaceId;
  };

  /** An upload begun and aborted through the catalogue: its upload.aborted event (and deliveries), by id. */
  const abortedUploadEvent = async (workspaceId: string): Promise<string> => {
    const assetId = randomUUID().replaceAll('-', '');
    const uploadId = `up-${randomUUID()}`;
    await catalog.beginUpload(
      {
        workspaceId,
        uploadId,
        assetId,
        key: `${workspaceId}/digital_assets/${assetId}`,
        fileName: 'old.bin',
        fileType: 'application/octet-stream',
        declaredSize: null,
        partSize: null,
        startedBy: null,
        startedAt: new Date(),
      },
      {},
    );
    await catalog.finishUpload(workspaceId, uploadId, 'aborted');
    const { rows } = await sql.query<{ id: string }>(`select id from asset_events where data->>'uploadId' = $1`, [uploadId]);
    return rows[0]!.id;
  };

  /** Makes an event, and its deliveries, `days` old, in a state; the timestamps are written directly. */
  const age = async (eventId: string, days: number, state?: 'pending' | 'delivered' | 'failed') => {
    await sql.query(`update asset_events set occurred_at = now() - $2 * interval '1 day' where id = $1`, [eventId, days]);
    await sql.query(
      `update webhook_deliveries set created_at = now() - $2 * interval '1 day',
         last_attempt_at = case when $3::text = 'pending' then null else now() - $2 * interval '1 day' end,
         state = coalesce($3, state)
       where event_id = $1`,
      [eventId, days, state ?? null],
    );
  };

  const eventIds = async (ids: string[]) =>
    (await sql.query<{ id: string }>('select id from asset_events where id = any($1) order by seq', [ids])).rows.map((row) => row.id);
  const deliveryStates = async (ids: string[]) =>
    (
      await sql.query<{ event_id: string; state: string }>(
        'select event_id, state from webhook_deliveries where event_id = any($1) order by id',
        [ids],
      )
    ).rows.map((row) => [row.event_id, row.state]);

  it('removes finished deliveries and events past the retention; a pending delivery keeps its event; recent ones stay', async () => {
    const withEndpoint = await workspaceWithEndpoint();
    const delivered = await abortedUploadEvent(withEndpoint);
    const failed = await abortedUploadEvent(withEndpoint);
    const pending = await abortedUploadEvent(withEndpoint);
    const undelivered = await abortedUploadEvent(`ret-quiet-${randomUUID().slice(0, 8)}`);
    const recent = await abortedUploadEvent(withEndpoint);
    await age(delivered, 40, 'delivered');
    await age(failed, 31, 'failed');
    await age(pending, 40, 'pending');
    await age(undelivered, 40);
    await age(recent, 29, 'delivered');
    const all = [delivered, failed, pending, undelivered, recent];
    expect(await deliveryStates(all)).toHaveLength(4);

    const dryRun = await runCleanup(store, { ttlHours: 24, logger: silentLogger, catalog, eventRetentionDays: 30, dryRun: true });
    expect(dryRun.events).toBeUndefined();
    expect(await eventIds(all)).toEqual(all);

    const report = await runCleanup(store, { ttlHours: 24, logger: silentLogger, catalog, eventRetentionDays: 30 });
    expect(report.events).toEqual({ deliveries: 2, events: 3 });
    expect(report.eventRetentionFailed).toBeUndefined();
    expect(await eventIds(all)).toEqual([pending, recent]);
    expect(await deliveryStates(all)).toEqual([
      [pending, 'pending'],
      [recent, 'delivered'],
    ]);
    // The event log's readers no longer see the removed events.
    const visible = (await catalog.events.readAfter(null, { limit: 1_000 })).map(({ event }) => event.id);
    expect(visible).toEqual(expect.arrayContaining([pending, recent]));
    expect(visible).not.toContain(delivered);

    // Once its delivery gives up, the old event goes with it at the next run.
    await age(pending, 40, 'failed');
    const next = await runCleanup(store, { ttlHours: 24, logger: silentLogger, catalog, eventRetentionDays: 30 });
    expect(next.events).toEqual({ deliveries: 1, events: 1 });
    expect(await eventIds(all)).toEqual([recent]);

    const again = await runCleanup(store, { ttlHours: 24, logger: silentLogger, catalog, eventRetentionDays: 30 });
    expect(again.events).toEqual({ deliveries: 0, events: 0 });
  });

  it('removes a long backlog in batches, and a shorter retention removes more', async () => {
    const workspaceId = await workspaceWithEndpoint();
    const ids: string[] = [];
    for (let index = 0; index < 7; index++) ids.push(await abortedUploadEvent(workspaceId));
    for (const id of ids) await age(id, 10, 'delivered');

    const kept = await catalog.retention.prune({ before: new Date(Date.now() - 11 * 86_400_000), batchSize: 3 });
    expect(kept).toEqual({ deliveries: 0, events: 0 });
    const report = await catalog.retention.prune({ before: new Date(Date.now() - 9 * 86_400_000), batchSize: 3 });
    expect(report).toEqual({ deliveries: 7, events: 7 });
    expect(await eventIds(ids)).toEqual([]);
  });

  it('reports a failed retention without undoing the rest of the run', async () => {
    const broken = { ...catalog, retention: { prune: () => Promise.reject(new Error('database went away')) } } as Catalog;
    const report = await runCleanup(store, { ttlHours: 24, logger: silentLogger, catalog: broken, eventRetentionDays: 30 });
    expect(report.eventRetentionFailed).toBe(true);
    expect(report.failed).toBe(0);
  });
});

describe('event retention on the embedded catalogue (PGlite)', () => {
  it('runs the same statements and keeps what is recent', async () => {
    const catalog = await openPgliteCatalog();
    try {
      const workspaceId = 'ret-embedded';
      const assetId = randomUUID().replaceAll('-', '');
      const upload = {
        workspaceId,
        uploadId: `up-${randomUUID()}`,
        assetId,
        key: `${workspaceId}/digital_assets/${assetId}`,
        fileName: null,
        fileType: 'application/octet-stream',
        declaredSize: null,
        partSize: null,
        startedBy: null,
        startedAt: new Date(),
      };
      await catalog.beginUpload(upload, {});
      await catalog.finishUpload(workspaceId, upload.uploadId, 'aborted');
      expect(await catalog.retention.prune({ before: new Date(Date.now() - 86_400_000) })).toEqual({ deliveries: 0, events: 0 });
      expect(await catalog.events.readAfter(null, { limit: 10 })).toHaveLength(1);
      // A cut-off after it: the event goes.
      expect(await catalog.retention.prune({ before: new Date(Date.now() + 1_000) })).toEqual({ deliveries: 0, events: 1 });
      expect(await catalog.events.readAfter(null, { limit: 10 })).toHaveLength(0);
    } finally {
      await catalog.close();
    }
  });
});
