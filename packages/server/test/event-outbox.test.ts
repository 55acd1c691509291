import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzleNodePostgres } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePostgres } from 'drizzle-orm/node-postgres/migrator';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog, NewUpload } from '../src/catalog/catalog.js';
import { MIGRATIONS } from '../src/catalog/migrations.js';
import { openPostgresCatalog } from '../src/catalog/postgres.js';
import { createSqlCatalog, type SqlDatabase } from '../src/catalog/sql-catalog.js';
import { assetEvent } from '../src/events/asset-event.js';
import { isPostgresSkipped, startPostgres } from './support/postgres.js';

/*
 * The outbox: an event is recorded by the statement that makes its change, once, with a pending
 * delivery to each webhook listening for it; readers get events in commit order and never skip one.
 */

type Query = (text: string, values?: unknown[]) => Promise<Array<Record<string, unknown>>>;

function outboxSuite(name: string, open: () => Promise<{ catalog: Catalog; query: Query; close: () => Promise<void> }>) {
  describe(`the outbox on ${name}`, () => {
    let catalog: Catalog;
    let query: Query;
    beforeAll(async () => {
      const opened = await open();
      ({ catalog, query } = opened);
      return opened.close;
    });

    const workspace = () => `ws-${randomUUID().slice(0, 8)}`;
    const newUpload = (workspaceId: string): NewUpload => {
      const assetId = randomUUID().replaceAll('-', '');
      return {
        workspaceId,
        uploadId: `up-${randomUUID()}`,
        assetId,
        key: `${workspaceId}/digital_assets/${assetId}`,
        fileName: 'cat.png',
        fileType: 'image/png',
        declaredSize: 10,
        partSize: null,
        startedBy: 'alice',
        startedAt: new Date(),
      };
    };
    const eventsOf = async (workspaceId: string) =>
      (await catalog.events.readAfter(null, { workspaceId, limit: 100 })).map((stored) => assetEvent.parse(stored.event));

    it('records asset.created once per completed upload, however often the completion is recorded, and asset.deleted once', async () => {
      const ws = workspace();
      const written: number[] = [];
      const stop = catalog.events.onWritten((what) => written.push(what.events));
      const upload = await catalog.beginUpload(newUpload(ws), {});
      const done = {
        size: 10,
        etag: '"e-1"',
        checksum: 'SHA256/COMPOSITE/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=-1',
        createdAt: new Date(),
      };
      await catalog.recordCompleted(upload, done);
      await catalog.recordCompleted(upload, done);
      await catalog.deleteAsset(ws, upload.key, 'bob');
      await catalog.deleteAsset(ws, upload.key, 'bob');
      stop();

      const events = await eventsOf(ws);
      expect(events.map((event) => event.type)).toEqual(['asset.created', 'asset.deleted']);
      expect(written).toEqual([1, 1]);
      const [created, deleted] = events;
      expect(created).toMatchObject({
        workspaceId: ws,
        type: 'asset.created',
        timestamp: done.createdAt.toISOString(),
        data: {
          key: upload.key,
          assetId: upload.assetId,
          uploadId: upload.uploadId,
          fileName: 'cat.png',
          contentType: 'image/png',
          size: 10,
          etag: '"e-1"',
          checksum: { algorithm: 'SHA256', type: 'COMPOSITE', value: '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=-1' },
          createdBy: 'alice',
        },
      });
      expect(created?.id).toMatch(/^evt_[0-9a-f]{32}$/);
      expect(deleted).toMatchObject({ data: { key: upload.key, size: 10, deletedBy: 'bob', contentType: 'image/png' } });
      expect(new Set(events.map((event) => event.id)).size).toBe(2);
    });

    it('records upload.aborted and upload.expired once, and nothing for an upload it does not know', async () => {
      const ws = workspace();
      const aborted = await catalog.beginUpload(newUpload(ws), {});
      const expired = await catalog.beginUpload(newUpload(ws), {});
      await catalog.finishUpload(ws, aborted.uploadId, 'aborted', 'carol');
      await catalog.finishUpload(ws, aborted.uploadId, 'aborted', 'carol');
      await catalog.finishUpload(ws, expired.uploadId, 'expired');
      await catalog.finishUpload(ws, 'up-never-started', 'aborted', 'carol');

      const events = await eventsOf(ws);
      expect(events.map((event) => [event.type, event.data.key])).toEqual([
        ['upload.aborted', aborted.key],
        ['upload.expired', expired.key],
      ]);
      expect(events[0]).toMatchObject({
        data: { uploadId: aborted.uploadId, abortedBy: 'carol', startedAt: aborted.startedAt.toISOString(), fileName: 'cat.png' },
      });
      expect(events[1]?.data).not.toHaveProperty('abortedBy');
    });

    it("fans an event out to the workspace's enabled endpoints that take its type, and to no other", async () => {
      const ws = workspace();
      const endpoint = async (id: string, workspaceId: string, types: string[], enabled = true) => {
        await query(
          `insert into webhook_endpoints (id, workspace_id, url, event_types, enabled, secret, created_at)
           values ($1, $2, 'https://example.com/hook', $3, $4, 'whsec_x', now())`,
          [id, workspaceId, types, enabled],
        );
      };
      const suffix = randomUUID().slice(0, 8);
      await endpoint(`whk_all_${suffix}`, ws, ['asset.created', 'asset.deleted', 'upload.aborted', 'upload.expired']);
      await endpoint(`whk_deleted_${suffix}`, ws, ['asset.deleted']);
      await endpoint(`whk_off_${suffix}`, ws, ['asset.created'], false);
      await endpoint(`whk_other_${suffix}`, workspace(), ['asset.created']);

      const written: Array<{ events: number; deliveries: number }> = [];
      const stop = catalog.events.onWritten((what) => written.push(what));
      const upload = await catalog.beginUpload(newUpload(ws), {});
      await catalog.recordCompleted(upload, { size: 10, etag: '"e"', checksum: null, createdAt: new Date() });
      await catalog.deleteAsset(ws, upload.key);
      stop();

      const deliveries = await query(
        `select endpoint_id, event_id, subject, state, attempts from webhook_deliveries where workspace_id = $1 order by id`,
        [ws],
      );
      const [created, deleted] = await eventsOf(ws);
      expect(deliveries).toEqual([
        { endpoint_id: `whk_all_${suffix}`, event_id: created?.id, subject: upload.key, state: 'pending', attempts: 0 },
        { endpoint_id: `whk_all_${suffix}`, event_id: deleted?.id, subject: upload.key, state: 'pending', attempts: 0 },
        { endpoint_id: `whk_deleted_${suffix}`, event_id: deleted?.id, subject: upload.key, state: 'pending', attempts: 0 },
      ]);
      expect(written).toEqual([
        { changed: true, events: 1, deliveries: 1, refused: false },
        { changed: true, events: 1, deliveries: 2 },
      ]);
    });

    it('reads in order from a position, one workspace or all, and finds an event by id only in its workspace', async () => {
      const ws = workspace();
      const other = workspace();
      const head = await catalog.events.head();
      for (const id of [ws, other, ws]) {
        const upload = await catalog.beginUpload(newUpload(id), {});
        await catalog.finishUpload(id, upload.uploadId, 'aborted');
      }
      const all = await catalog.events.readAfter(head, { limit: 10 });
      expect(all.map((stored) => stored.event.workspaceId)).toEqual([ws, other, ws]);
      const mine = await catalog.events.readAfter(head, { workspaceId: ws, limit: 10 });
      expect(mine.map((stored) => stored.event.id)).toEqual([all[0]?.event.id, all[2]?.event.id]);
      const [first] = mine;
      expect(await catalog.events.positionOf(ws, first!.event.id)).toEqual(first!.position);
      expect(await catalog.events.positionOf(other, first!.event.id)).toBeNull();
      expect((await catalog.events.readAfter(first!.position, { workspaceId: ws, limit: 10 })).map((s) => s.event.id)).toEqual([
        all[2]?.event.id,
      ]);
      expect(await catalog.events.head()).toEqual(all[2]?.position);
    });
  });
}

outboxSuite('PGlite', async () => {
  // The catalogue over a PGlite of the test's own, so the test can also write rows the catalogue has no method for.
  const client = await PGlite.create();
  const db = drizzle({ client });
  await migrate(db, MIGRATIONS);
  const catalog = createSqlCatalog(db as unknown as SqlDatabase, {
    kind: 'pglite',
    migrations: { applied: [], current: null },
    close: () => client.close(),
  });
  const query: Query = async (text, values) => (await client.query<Record<string, unknown>>(text, values)).rows;
  return { catalog, query, close: () => catalog.close() };
});

const server = await startPostgres();
const postgres = isPostgresSkipped(server) ? undefined : server;
afterAll(() => postgres?.destroy());

describe.skipIf(!postgres)('PostgreSQL', () => {
  let url: string;
  beforeAll(async () => {
    url = await postgres!.createDatabase();
  });

  outboxSuite('PostgreSQL', async () => {
    const database = await postgres!.createDatabase();
    const catalog = await openPostgresCatalog({ url: database });
    const pool = new pg.Pool({ connectionString: database, max: 2 });
    const query: Query = async (text, values) => (await pool.query(text, values)).rows;
    return {
      catalog,
      query,
      close: async () => {
        await pool.end();
        await catalog.close();
      },
    };
  });

  it('upgrades a catalogue of the previous release: its assets stay, and their changes record events from then on', async () => {
    const database = await postgres!.createDatabase();
    // The previous release's schema: the migrations folder as it was, with only 0000.
    const previous = await mkdtemp(join(tmpdir(), 's3-service-migrations-'));
    await cp(MIGRATIONS.migrationsFolder, previous, { recursive: true });
    const journalPath = join(previous, 'meta', '_journal.json');
    const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: Array<{ tag: string }> };
    await writeFile(
      journalPath,
      JSON.stringify({ ...journal, entries: journal.entries.filter((entry) => entry.tag === '0000_catalogue') }),
    );
    const pool = new pg.Pool({ connectionString: database, max: 1 });
    try {
      await migrateNodePostgres(drizzleNodePostgres({ client: pool }), { ...MIGRATIONS, migrationsFolder: previous });
      await pool.query(
        `insert into assets (key, workspace_id, asset_id, file_type, size, etag, created_at)
         values ('ws-old/digital_assets/old', 'ws-old', 'old', 'image/png', 5, '"old"', now())`,
      );
    } finally {
      await pool.end();
      await rm(previous, { recursive: true, force: true });
    }

    const catalog = await openPostgresCatalog({ url: database });
    try {
      expect(catalog.migrations).toEqual({ applied: ['0001_events', '0002_upload_checksum_mode'], current: '0002_upload_checksum_mode' });
      expect(await catalog.findAsset('ws-old', 'ws-old/digital_assets/old')).toMatchObject({ size: 5 });
      await catalog.deleteAsset('ws-old', 'ws-old/digital_assets/old', 'admin');
      const [deleted] = await catalog.events.readAfter(null, { workspaceId: 'ws-old', limit: 10 });
      expect(deleted?.event).toMatchObject({ type: 'asset.deleted', data: { key: 'ws-old/digital_assets/old', deletedBy: 'admin' } });
    } finally {
      await catalog.close();
    }
  });

  it('never lets a reader skip an event whose transaction commits after a later-numbered one', async () => {
    const catalog = await openPostgresCatalog({ url });
    const slow = new pg.Client({ connectionString: url });
    await slow.connect();
    try {
      const ws = `ws-${randomUUID().slice(0, 8)}`;
      const start = await catalog.events.head();
      // The slow transaction numbers its event first and commits last.
      await slow.query('begin');
      await slow.query(
        `insert into asset_events (id, type, workspace_id, subject, occurred_at, data)
         values ('evt_slow', 'upload.expired', $1, $1 || '/digital_assets/slow', now(), '{}'::jsonb)`,
        [ws],
      );
      const upload = await catalog.beginUpload(
        {
          workspaceId: ws,
          uploadId: 'up-fast',
          assetId: 'fast',
          key: `${ws}/digital_assets/fast`,
          fileName: null,
          fileType: 'image/png',
          declaredSize: null,
          partSize: null,
          startedBy: null,
          startedAt: new Date(),
        },
        {},
      );
      await catalog.finishUpload(ws, upload.uploadId, 'aborted');

      // The fast event is committed, but a reader that took it now would move past the slow one's number.
      expect(await catalog.events.readAfter(start, { workspaceId: ws, limit: 10 })).toEqual([]);
      expect(await catalog.events.head()).toEqual(start);

      await slow.query('commit');
      const read = await catalog.events.readAfter(start, { workspaceId: ws, limit: 10 });
      expect(read.map((stored) => stored.event.id)).toEqual(['evt_slow', expect.stringMatching(/^evt_[0-9a-f]{32}$/)]);
      expect(read[0]!.position.seq).toBeLessThan(read[1]!.position.seq);
    } finally {
      await slow.end();
      await catalog.close();
    }
  });
});
