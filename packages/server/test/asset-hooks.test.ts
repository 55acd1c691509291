import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../src/catalog/catalog.js';
import { openPgliteCatalog } from '../src/catalog/pglite.js';
import { openPostgresCatalog } from '../src/catalog/postgres.js';
import { type AssetEvent, assetEvent } from '../src/events/asset-event.js';
import { randomData } from './support/bytes.js';
import { isPostgresSkipped, startPostgres, type TestPostgres } from './support/postgres.js';
import { completeUpload, rest, type StartedUpload, uploadParts } from './support/rest-client.js';
import { startLocalServer, type TestServer } from './support/server.js';

/** Readers look for new events this often; the app's own writes wake its reader at once. */
const POLL_MS = 50;

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A one-part upload through the documented REST flow, completed; returns its ids. */
async function uploadFile(server: TestServer, workspaceId: string): Promise<StartedUpload> {
  const upload = await uploadParts(server.url, workspaceId, [randomData(1_000)]);
  const completed = await completeUpload(server.url, upload);
  expect(completed.status).toBe(200);
  return upload;
}

function keyOf(event: AssetEvent): string {
  return event.data.key;
}

describe('createApp({ onAssetEvent }) over the real HTTP API', () => {
  it('hands the hook asset.created, asset.deleted and upload.aborted, in order, in the event schema', async () => {
    const received: AssetEvent[] = [];
    const server = await startLocalServer({ eventPollIntervalMs: POLL_MS, onAssetEvent: (event) => void received.push(event) });
    try {
      const workspaceId = 'hooks-order';
      const created = await uploadFile(server, workspaceId);
      const deleted = await rest(server.url, 'DELETE', '/s3/delete', { query: { workspaceId, key: created.key } });
      expect(deleted.status).toBe(200);
      const abandoned = await uploadParts(server.url, workspaceId, [randomData(10)]);
      const aborted = await rest(server.url, 'DELETE', '/s3/abort-upload', {
        query: { workspaceId, assetId: abandoned.assetId, UploadId: abandoned.uploadId },
      });
      expect(aborted.status).toBe(200);

      await waitFor(() => received.length >= 3, 'three events');
      await new Promise((resolve) => setTimeout(resolve, POLL_MS * 3));
      expect(received.map((event) => [event.type, keyOf(event)])).toEqual([
        ['asset.created', created.key],
        ['asset.deleted', created.key],
        ['upload.aborted', abandoned.key],
      ]);
      for (const event of received) expect(assetEvent.parse(event)).toEqual(event);
      expect(new Set(received.map((event) => event.id)).size).toBe(3);
      expect(received[0]).toMatchObject({
        type: 'asset.created',
        workspaceId,
        data: {
          key: created.key,
          assetId: created.assetId,
          uploadId: created.uploadId,
          size: 1_000,
          contentType: 'application/octet-stream',
        },
      });
      expect(received[2]).toMatchObject({ data: { uploadId: abandoned.uploadId, assetId: abandoned.assetId } });
    } finally {
      await server.close();
    }
  });

  it('retries a hook that throws with the same event, and holds the next one back until it succeeds', async () => {
    const calls: Array<{ id: string; at: number }> = [];
    let failuresLeft = 2;
    const server = await startLocalServer({
      eventPollIntervalMs: POLL_MS,
      onAssetEvent: async (event) => {
        calls.push({ id: event.id, at: Date.now() });
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw new Error('the app is not ready');
        }
      },
    });
    try {
      const first = await uploadFile(server, 'hooks-retry');
      const second = await uploadFile(server, 'hooks-retry');
      await waitFor(() => calls.length >= 4, 'four hook calls');
      await new Promise((resolve) => setTimeout(resolve, POLL_MS * 3));

      const ids = calls.map((call) => call.id);
      expect(ids).toHaveLength(4);
      expect(ids[0]).toBe(ids[1]);
      expect(ids[1]).toBe(ids[2]);
      expect(ids[3]).not.toBe(ids[0]);
      // The two uploads' events, the first one's first: the retries did not let the second pass it.
      const byId = new Map((await server.catalog.events.readAfter(null, { limit: 10 })).map(({ event }) => [event.id, keyOf(event)]));
      expect([byId.get(ids[0]!), byId.get(ids[3]!)]).toEqual([first.key, second.key]);
      // Backoff: each retry waited longer than the one before.
      const waits = [calls[1]!.at - calls[0]!.at, calls[2]!.at - calls[1]!.at];
      expect(waits[0]).toBeGreaterThanOrEqual(200);
      expect(waits[1]).toBeGreaterThan(waits[0]!);
    } finally {
      await server.close();
    }
  });

  it('delivers an event left unacknowledged at shutdown to the next app on the same data folder, and no acknowledged one again', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 's3-service-hooks-'));
    try {
      // The first app acknowledges the first upload's event; its hook never returns for the second.
      const firstSeen: AssetEvent[] = [];
      let catalog = await openPgliteCatalog({ dataDir });
      let server = await startLocalServer({
        catalog,
        eventPollIntervalMs: POLL_MS,
        onAssetEvent: (event) => {
          firstSeen.push(event);
          return firstSeen.length === 1 ? undefined : new Promise<void>(() => {});
        },
      });
      const acknowledged = await uploadFile(server, 'hooks-restart');
      await waitFor(() => firstSeen.length === 1, 'the first event');
      const unacknowledged = await uploadFile(server, 'hooks-restart');
      await waitFor(() => firstSeen.length === 2, 'the second event');
      const started = Date.now();
      await server.close();
      // stop() waited its grace for the hook, then let the lease go rather than hang the shutdown.
      expect(Date.now() - started).toBeLessThan(15_000);
      await catalog.close();

      const secondSeen: AssetEvent[] = [];
      catalog = await openPgliteCatalog({ dataDir });
      server = await startLocalServer({ catalog, eventPollIntervalMs: POLL_MS, onAssetEvent: (event) => void secondSeen.push(event) });
      try {
        const later = await uploadFile(server, 'hooks-restart');
        await waitFor(() => secondSeen.length >= 2, 'the unacknowledged event and the new one');
        await new Promise((resolve) => setTimeout(resolve, POLL_MS * 3));
        expect(secondSeen.map(keyOf)).toEqual([unacknowledged.key, later.key]);
        expect(secondSeen[0]!.id).toBe(firstSeen[1]!.id);
        expect(secondSeen.map(keyOf)).not.toContain(acknowledged.key);
      } finally {
        await server.close();
        await catalog.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

const postgresResult = await startPostgres();
const postgres = isPostgresSkipped(postgresResult) ? undefined : (postgresResult as TestPostgres);
afterAll(() => postgres?.destroy());

describe.skipIf(!postgres)('two apps with hooks on one PostgreSQL', () => {
  it('hands each event to exactly one of them, and all of them, also after the reading one stops', async () => {
    const url = await postgres!.createDatabase();
    // Opened one after the other: the first applies the migrations.
    const catalogs: Catalog[] = [await openPostgresCatalog({ url }), await openPostgresCatalog({ url })];
    const handled: Array<{ app: number; id: string }> = [];
    const servers = await Promise.all(
      catalogs.map((catalog, app) =>
        startLocalServer({ catalog, eventPollIntervalMs: POLL_MS, onAssetEvent: (event) => void handled.push({ app, id: event.id }) }),
      ),
    );
    const running = new Set([0, 1]);
    try {
      for (let round = 0; round < 3; round++) for (const server of servers) await uploadFile(server, 'hooks-two-apps');
      await waitFor(() => handled.length >= 6, 'six events');

      // The reading app stops (releasing its lease); the other takes over from where it got to.
      const reader = handled[0]!.app;
      await servers[reader]!.close();
      running.delete(reader);
      const other = servers[1 - reader]!;
      for (let round = 0; round < 3; round++) await uploadFile(other, 'hooks-two-apps');
      await waitFor(() => handled.length >= 9, 'nine events');
      await new Promise((resolve) => setTimeout(resolve, POLL_MS * 5));

      const recorded = (await catalogs[0]!.events.readAfter(null, { limit: 100 })).map(({ event }) => event.id);
      expect(recorded).toHaveLength(9);
      expect(handled.map((entry) => entry.id)).toEqual(recorded);
      expect(handled.slice(6).every((entry) => entry.app === 1 - reader)).toBe(true);
    } finally {
      await Promise.all([...running].map((app) => servers[app]!.close()));
      await Promise.all(catalogs.map((catalog) => catalog.close()));
    }
  }, 60_000);

  it('hands every event to each of two apps that read under different consumer names', async () => {
    const url = await postgres!.createDatabase();
    const catalogs: Catalog[] = [await openPostgresCatalog({ url }), await openPostgresCatalog({ url })];
    const seen: string[][] = [[], []];
    const servers = await Promise.all(
      catalogs.map((catalog, app) =>
        startLocalServer({
          catalog,
          eventPollIntervalMs: POLL_MS,
          onAssetEventConsumer: `thumbnailer-${app}`,
          onAssetEvent: (event) => void seen[app]!.push(event.id),
        }),
      ),
    );
    try {
      for (const server of servers) await uploadFile(server, 'hooks-two-names');
      await waitFor(() => seen[0]!.length >= 2 && seen[1]!.length >= 2, 'both events in both apps');
      const recorded = (await catalogs[0]!.events.readAfter(null, { limit: 10 })).map(({ event }) => event.id);
      expect(seen).toEqual([recorded, recorded]);
    } finally {
      await Promise.all(servers.map((server) => server.close()));
      await Promise.all(catalogs.map((catalog) => catalog.close()));
    }
  }, 60_000);
});
