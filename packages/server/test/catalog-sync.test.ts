import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Catalog } from '../src/catalog/catalog.js';
import { openPgliteCatalog } from '../src/catalog/pglite.js';
import { openPostgresCatalog } from '../src/catalog/postgres.js';
import { type CatalogSyncOptions, fileNameFromMetadata, syncCatalog } from '../src/catalog/sync.js';
import { createLogger, silentLogger } from '../src/logger.js';
import { assetKey, newAssetId } from '../src/storage/keys.js';
import { createLocalStore, type LocalStore } from '../src/storage/local/index.js';
import { createS3Store } from '../src/storage/s3/index.js';
import type { ObjectStore } from '../src/storage/store.js';
import { CATALOG_SYNC_COMMAND, killApi, MIGRATE_COMMAND, runScript } from './support/api-process.js';
import { useCleanups } from './support/cleanups.js';
import { isPostgresSkipped, startPostgres } from './support/postgres.js';
import { freePort } from './support/processes.js';
import { emulatorClient, type S3Emulator } from './support/s3-emulator.js';
import { useS3Emulator } from './support/s3-emulator-fixture.js';
import { s3StoreOptions } from './support/s3-harness.js';

const HOUR = 3_600_000;
const { defer, tempDir } = useCleanups();

/** A store the test writes to behind the catalogue's back, as the original service (or anyone) did. */
interface DirectStore {
  store: ObjectStore;
  /** Writes an object straight into the store; S3 keeps `metadata` as x-amz-meta-*. */
  put(key: string, bytes: Buffer, contentType: string, metadata?: Record<string, string>): Promise<void>;
  /** Starts a multipart upload whose start the store dates this many ms ago, when it can. */
  startUpload(key: string, contentType: string): Promise<string>;
  /** Whether user metadata (a file name) survives a write. */
  keepsMetadata: boolean;
  /** The type the catalogue records for an imported upload started as video/mp4 (S3 does not list it). */
  uploadTypeOf(contentType: string): string;
}

interface Engine {
  name: string;
  skip?: string;
  openStore(): Promise<DirectStore>;
}

interface CatalogEngine {
  name: string;
  skip?: string;
  open(): Promise<Catalog>;
}

const postgresServer = await startPostgres();
const postgres = isPostgresSkipped(postgresServer) ? undefined : postgresServer;
afterAll(() => postgres?.destroy());

const catalogs: CatalogEngine[] = [
  { name: 'PGlite', open: () => openPgliteCatalog() },
  {
    name: 'PostgreSQL',
    skip: isPostgresSkipped(postgresServer) ? postgresServer.skipped : undefined,
    open: async () => openPostgresCatalog({ url: await postgres!.createDatabase() }),
  },
];

const s3 = useS3Emulator();

/** One bucket a test: the walk covers the whole bucket, and each test counts what it wrote. */
async function freshBucket(emulator: S3Emulator): Promise<{ client: S3Client; bucket: string }> {
  const client = emulatorClient(emulator);
  defer(() => client.destroy());
  const bucket = `sync-${randomBytes(6).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return { client, bucket };
}

async function putThroughLocalStore(store: LocalStore, key: string, bytes: Buffer, contentType: string): Promise<void> {
  const { uploadId } = await store.createMultipartUpload(key, contentType);
  const { etag } = await store.signedUrls.receivePart({ key, uploadId, partNumber: 1 }, Readable.from([bytes]));
  await store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag }]);
}

const stores: Engine[] = [
  {
    name: 'local store',
    openStore: async () => {
      const dir = await tempDir('catalog-sync-');
      const store = await createLocalStore({ dir, publicUrl: 'http://127.0.0.1', now: () => Date.now() - HOUR });
      return {
        store,
        put: (key, bytes, contentType) => putThroughLocalStore(store, key, bytes, contentType),
        startUpload: async (key, contentType) => (await store.createMultipartUpload(key, contentType)).uploadId,
        keepsMetadata: false,
        uploadTypeOf: (contentType) => contentType,
      };
    },
  },
  {
    name: 'S3 (versitygw)',
    openStore: async () => {
      const { client, bucket } = await freshBucket(s3.emulator);
      const store = createS3Store(s3StoreOptions(s3.emulator, { bucket }));
      defer(() => store.close?.());
      return {
        store,
        // One PUT with the name in its metadata: how the original Express service stored uploads.
        put: async (key, bytes, contentType, metadata) => {
          await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: contentType, Metadata: metadata }));
        },
        startUpload: async (key, contentType) => (await store.createMultipartUpload(key, contentType)).uploadId,
        keepsMetadata: true,
        uploadTypeOf: () => '',
      };
    },
  },
];

/** Log lines written during a run, as objects. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

/** S3 dates uploads by its own clock; the sync's clock runs an hour ahead so they are past the grace period. */
const sync = (store: ObjectStore, catalog: Catalog, options: Partial<CatalogSyncOptions> = {}) =>
  syncCatalog(store, catalog, { logger: silentLogger, now: () => Date.now() + HOUR, ...options });

for (const engine of stores) {
  for (const catalogEngine of catalogs) {
    describe.skipIf(catalogEngine.skip !== undefined)(`catalog:sync on the ${engine.name} with ${catalogEngine.name}`, () => {
      let direct: DirectStore;
      let catalog: Catalog;
      beforeEach(async (context) => {
        if (engine.name.startsWith('S3')) s3.skipUnlessRunning(context);
        direct = await engine.openStore();
        catalog = await catalogEngine.open();
        defer(() => catalog.close());
      });
      const store = () => direct.store;

      it('creates rows with size, type, ETag and date for objects written into the store, keeps existing rows, and adds nothing on a second run', async () => {
        const holiday = assetKey('ws-sync-a', newAssetId());
        const report = assetKey('ws-sync-a', newAssetId());
        const other = assetKey('ws-sync-b', newAssetId());
        await direct.put(holiday, Buffer.from('holiday photo'), 'image/png', { originalname: 'holiday.png' });
        await direct.put(report, Buffer.from('%PDF-1.7 ...'), 'application/pdf', { filename: 'Q3%20report.pdf' });
        await direct.put(other, Buffer.from('x'.repeat(300)), 'text/plain');
        // A row the API wrote meanwhile: the sync must not change it.
        const existing = (await store().headObject(other))!;
        await catalog.importAsset({
          workspaceId: 'ws-sync-b',
          assetId: other.split('/').pop()!,
          key: other,
          fileName: 'named-by-the-api.txt',
          fileType: 'text/plain',
          size: existing.size,
          etag: existing.etag,
          checksum: null,
          createdAt: existing.lastModified,
          createdBy: 'user-1',
        });

        const first = await sync(store(), catalog);
        expect(first.objects).toEqual({ seen: 3, imported: 2, known: 1, foreign: 0, vanished: 0, failed: 0 });
        expect(first.lastKey).toBe([holiday, report, other].sort().at(-1));
        for (const [key, type] of [
          [holiday, 'image/png'],
          [report, 'application/pdf'],
        ] as const) {
          const head = (await store().headObject(key))!;
          expect(await catalog.findAsset('ws-sync-a', key)).toMatchObject({
            key,
            assetId: key.split('/').pop(),
            fileType: type,
            size: head.size,
            etag: head.etag,
            createdAt: head.lastModified,
            createdBy: null,
          });
        }
        expect((await catalog.findAsset('ws-sync-a', holiday))!.fileName).toBe(direct.keepsMetadata ? 'holiday.png' : null);
        expect((await catalog.findAsset('ws-sync-a', report))!.fileName).toBe(direct.keepsMetadata ? 'Q3 report.pdf' : null);
        expect(await catalog.findAsset('ws-sync-b', other)).toMatchObject({ fileName: 'named-by-the-api.txt', createdBy: 'user-1' });
        expect(await catalog.usage('ws-sync-a', {})).toMatchObject({ assets: 2, storedBytes: 13 + 12 });

        const second = await sync(store(), catalog);
        expect(second.objects).toMatchObject({ seen: 3, imported: 0, known: 3 });
        expect(second.uploads.imported).toBe(0);
        expect(second.rows).toMatchObject({ checked: 3, missing: 0, removed: 0 });
        expect(await catalog.usage('ws-sync-a', {})).toMatchObject({ assets: 2, storedBytes: 25 });
      });

      it('records an open upload the catalogue does not know, which listOpenUploads then offers; a second run records nothing', async () => {
        const key = assetKey('ws-sync-up', newAssetId());
        const uploadId = await direct.startUpload(key, 'video/mp4');
        const first = await sync(store(), catalog);
        expect(first.uploads).toEqual({ seen: 1, imported: 1, known: 0, recent: 0, foreign: 0, failed: 0 });
        const { uploads } = await catalog.listOpenUploads('ws-sync-up', { limit: 10 });
        expect(uploads).toHaveLength(1);
        expect(uploads[0]).toMatchObject({
          uploadId,
          key,
          assetId: key.split('/').pop(),
          state: 'open',
          fileType: direct.uploadTypeOf('video/mp4'),
          reservedBytes: 0,
          startedBy: null,
        });
        expect((await sync(store(), catalog)).uploads).toMatchObject({ seen: 1, imported: 0, known: 1 });
        await store().abortMultipartUpload(key, uploadId);
      });

      it('leaves an upload younger than the grace period to the next run, so a start in progress keeps its id', async () => {
        const key = assetKey('ws-sync-new', newAssetId());
        const uploadId = await direct.startUpload(key, 'image/png');
        // The store dates the local upload an hour back, S3 dates it now: a clock two hours back sees both as new.
        const report = await sync(store(), catalog, { now: () => Date.now() - 2 * HOUR });
        expect(report.uploads).toMatchObject({ seen: 1, imported: 0, recent: 1 });
        expect(await catalog.findUpload('ws-sync-new', uploadId)).toBeNull();
        await store().abortMultipartUpload(key, uploadId);
      });

      it('reports a row whose object was deleted in the store, and removes it with removeMissing', async () => {
        const kept = assetKey('ws-sync-gone', newAssetId());
        const gone = assetKey('ws-sync-gone', newAssetId());
        await direct.put(kept, Buffer.from('kept'), 'text/plain');
        await direct.put(gone, Buffer.from('gone!'), 'text/plain');
        await sync(store(), catalog);
        await store().deleteObject(gone);

        const { logger, lines } = capturingLogger();
        const reported = await sync(store(), catalog, { logger });
        expect(reported.rows).toEqual({ checked: 2, missing: 1, removed: 0, reappeared: 0, failed: 0 });
        expect(lines.find((line) => line.key === gone)).toMatchObject({ level: 40, workspaceId: 'ws-sync-gone', size: 5 });
        expect(await catalog.findAsset('ws-sync-gone', gone)).not.toBeNull();

        const removed = await sync(store(), catalog, { removeMissing: true });
        expect(removed.rows).toMatchObject({ checked: 2, missing: 1, removed: 1 });
        expect(await catalog.findAsset('ws-sync-gone', gone)).toBeNull();
        expect(await catalog.findAsset('ws-sync-gone', kept)).not.toBeNull();
        expect(await catalog.usage('ws-sync-gone', {})).toMatchObject({ assets: 1, storedBytes: 4 });
        expect((await sync(store(), catalog, { removeMissing: true })).rows).toMatchObject({ missing: 0, removed: 0 });
      });

      it('skips and counts objects and uploads outside {workspaceId}/digital_assets/{assetId}', async () => {
        await direct.put('exports/2024/report.csv', Buffer.from('a,b'), 'text/csv');
        await direct.put('ws-sync-f/other/file.bin', Buffer.from('b'), 'application/octet-stream');
        await direct.put('ws-sync-f/digital_assets/not.an.id', Buffer.from('c'), 'application/octet-stream');
        const ours = assetKey('ws-sync-f', newAssetId());
        await direct.put(ours, Buffer.from('ours'), 'text/plain');
        const uploadId = await direct.startUpload('backups/db.dump', 'application/octet-stream');

        const report = await sync(store(), catalog);
        expect(report.objects).toMatchObject({ seen: 4, imported: 1, foreign: 3 });
        expect(report.uploads).toMatchObject({ seen: 0, imported: 0, foreign: 1 });
        expect((await catalog.scanAssets({ limit: 10 })).map((row) => row.key)).toEqual([ours]);
        await store().abortMultipartUpload('backups/db.dump', uploadId);
      });

      it('resumes the walk after a key, and writes a progress line every N objects', async () => {
        const keys = [0, 1, 2, 3].map(() => assetKey('ws-sync-resume', newAssetId())).sort();
        for (const key of keys) await direct.put(key, Buffer.from(key), 'text/plain');
        const { logger, lines } = capturingLogger();
        const report = await sync(store(), catalog, { logger, fromKey: keys[1], progressEvery: 1 });
        expect(report.objects).toMatchObject({ seen: 2, imported: 2 });
        expect(report.lastKey).toBe(keys[3]);
        expect(await catalog.findAsset('ws-sync-resume', keys[0]!)).toBeNull();
        expect(await catalog.findAsset('ws-sync-resume', keys[2]!)).not.toBeNull();
        const progress = lines.filter((line) => line.pass === 'objects');
        expect(progress.map((line) => line.lastKey)).toEqual([keys[2], keys[3]]);

        // A run stopped by its signal says where it got to, and one resumed from there finishes the walk.
        const stop = new AbortController();
        stop.abort();
        const stopped = await sync(store(), catalog, { signal: stop.signal, progressEvery: 1 });
        expect(stopped).toMatchObject({ interrupted: true, lastKey: keys[0], objects: { seen: 1, imported: 1 } });
        const resumed = await sync(store(), catalog, { fromKey: stopped.lastKey! });
        expect(resumed.objects).toMatchObject({ seen: 3, imported: 1, known: 2 });
        expect(resumed.interrupted).toBe(false);
      });
    });
  }
}

describe('file names from S3 metadata', () => {
  it('takes the first usable name, decoded, without a path', () => {
    expect(fileNameFromMetadata(undefined)).toBeNull();
    expect(fileNameFromMetadata({ other: 'x' })).toBeNull();
    expect(fileNameFromMetadata({ originalname: 'a.png', filename: 'b.png' })).toBe('b.png');
    expect(fileNameFromMetadata({ originalname: 'r%C3%A9sum%C3%A9.pdf' })).toBe('résumé.pdf');
    expect(fileNameFromMetadata({ filename: `=?UTF-8?B?${Buffer.from('Übersicht.xlsx').toString('base64')}?=` })).toBe('Übersicht.xlsx');
    expect(fileNameFromMetadata({ filename: 'C:\\fakepath\\scan.jpg' })).toBe('scan.jpg');
    expect(fileNameFromMetadata({ filename: '..', originalname: 'ok.txt' })).toBe('ok.txt');
    expect(fileNameFromMetadata({ filename: 'bad\u0007name' })).toBeNull();
  });
});

describe('the commands: pnpm run catalog:sync and pnpm run migrate', () => {
  const waitFor = async (script: string, env: Record<string, string>, args: string[] = []) => {
    const run = runScript(script, env, args);
    defer(() => killApi(run));
    const exit = await run.exited;
    return { ...run, exit };
  };

  it('migrates the embedded catalogue, syncs a data folder with progress lines, and refuses while another process holds the catalogue', {
    timeout: 180_000,
  }, async () => {
    const dir = await tempDir('catalog-sync-cli-');
    const store = await createLocalStore({ dir, publicUrl: 'http://127.0.0.1', now: () => Date.now() - HOUR });
    const keys = [0, 1, 2].map(() => assetKey('ws-cli', newAssetId()));
    for (const key of keys) await putThroughLocalStore(store, key, Buffer.from(key), 'image/jpeg');
    await putThroughLocalStore(store, 'exports/list.csv', Buffer.from('a,b'), 'text/csv');
    const uploadKey = assetKey('ws-cli', newAssetId());
    const { uploadId } = await store.createMultipartUpload(uploadKey, 'video/mp4');

    const migrated = await waitFor(MIGRATE_COMMAND, { STORAGE_DIR: dir });
    expect(migrated.exit, migrated.stderr()).toEqual({ code: 0, signal: null });
    expect(migrated.logs.at(-1)).toMatchObject({
      catalog: 'pglite',
      applied: ['0000_catalogue', '0001_events', '0002_upload_checksum_mode'],
      current: '0002_upload_checksum_mode',
    });
    expect(String(migrated.logs.at(-1)?.msg)).toContain('0002_upload_checksum_mode');

    const synced = await waitFor(CATALOG_SYNC_COMMAND, { STORAGE_DIR: dir }, ['--', '--progress-every', '2']);
    expect(synced.exit, synced.stderr()).toEqual({ code: 0, signal: null });
    expect(synced.logs.filter((line) => line.pass === 'objects').map((line) => line.seen)).toEqual([2, 4]);
    const finished = synced.logs.find((line) => typeof line.msg === 'string' && line.msg.startsWith('catalogue sync finished'));
    expect(finished).toMatchObject({
      objects: { seen: 4, imported: 3, foreign: 1, failed: 0 },
      uploads: { seen: 1, imported: 1 },
      rows: { checked: 3, missing: 0 },
      interrupted: false,
    });
    expect(finished!.msg).toContain('3 rows created, 1 open uploads recorded');

    // This test process now holds the folder, as a running API would.
    const catalog = await openPgliteCatalog({ dataDir: join(dir, 'catalog') });
    try {
      expect((await catalog.scanAssets({ limit: 10 })).map((row) => row.key)).toEqual([...keys].sort());
      expect(await catalog.findUpload('ws-cli', uploadId)).toMatchObject({ state: 'open', fileType: 'video/mp4' });
      const refused = await waitFor(CATALOG_SYNC_COMMAND, { STORAGE_DIR: dir });
      expect(refused.exit).toEqual({ code: 1, signal: null });
      const stderr = refused.stderr().trim();
      expect(stderr.split('\n')).toHaveLength(1);
      expect(stderr).toBe(
        `catalog:sync failed: the embedded catalogue in ${join(dir, 'catalog')} is open in process ${process.pid}; stop that process first, or share a PostgreSQL server (DATABASE_URL)`,
      );
    } finally {
      await catalog.close();
    }
  });

  it('says that the schema is current on a second run, against a real PostgreSQL', { timeout: 120_000 }, async (context) => {
    if (!postgres) return context.skip(isPostgresSkipped(postgresServer) ? postgresServer.skipped : 'no PostgreSQL');
    const url = await postgres.createDatabase();
    const dir = await tempDir('migrate-cli-');
    const first = await waitFor(MIGRATE_COMMAND, { DATABASE_URL: url, STORAGE_DIR: dir });
    expect(first.exit, first.stderr()).toEqual({ code: 0, signal: null });
    expect(first.logs.at(-1)).toMatchObject({
      catalog: 'postgres',
      applied: ['0000_catalogue', '0001_events', '0002_upload_checksum_mode'],
    });
    const second = await waitFor(MIGRATE_COMMAND, { DATABASE_URL: url, STORAGE_DIR: dir });
    expect(second.exit, second.stderr()).toEqual({ code: 0, signal: null });
    expect(second.logs.at(-1)).toMatchObject({ catalog: 'postgres', applied: [], current: '0002_upload_checksum_mode' });
    expect(String(second.logs.at(-1)?.msg)).toContain('nothing to apply');
  });

  it('exits 1 with one line naming DATABASE_URL, password hidden, when the database cannot be reached', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const dir = await tempDir('migrate-cli-');
    const failed = await waitFor(MIGRATE_COMMAND, { DATABASE_URL: `postgres://app:s3cret@127.0.0.1:${port}/catalog`, STORAGE_DIR: dir });
    expect(failed.exit).toEqual({ code: 1, signal: null });
    const stderr = failed.stderr().trim();
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toMatch(
      new RegExp(
        `^migrate failed: DATABASE_URL=postgres://app:\\*\\*\\*@127\\.0\\.0\\.1:${port}/catalog: PostgreSQL cannot be reached or migrated \\(.*ECONNREFUSED`,
      ),
    );
    expect(stderr).not.toContain('s3cret');
  });
});
