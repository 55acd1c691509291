import { randomBytes } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../src/logger.js';
import { createLocalStore } from '../src/storage/local/index.js';
import { createS3Store } from '../src/storage/s3/index.js';
import type { ObjectStore } from '../src/storage/store.js';
import { abortStaleUploads } from '../src/uploads-cleanup/abort-stale.js';
import { startCleanupJob } from '../src/uploads-cleanup/schedule.js';
import { CLEANUP_COMMAND, killApi, runScript } from './support/api-process.js';
import { useCleanups } from './support/cleanups.js';
import { rest } from './support/rest-client.js';
import { useS3Emulator } from './support/s3-emulator-fixture.js';
import { answerXml, fakeS3Store, startFakeS3 } from './support/s3-fake-server.js';
import { s3StoreOptions, uniqueAssetKey } from './support/s3-harness.js';
import { startServer } from './support/server.js';

const HOUR = 3_600_000;

const { defer, tempDir } = useCleanups();
// Registered last, so it runs first: the clean-ups run on real timers.
afterEach(() => {
  vi.useRealTimers();
});

/** A local store whose clock the test sets, so uploads can be started "two days ago". */
async function localStoreWithClock(dir: string): Promise<{ store: ObjectStore; clock: { now: number } }> {
  const clock = { now: Date.now() };
  const store = await createLocalStore({ dir, publicUrl: 'http://127.0.0.1', now: () => clock.now });
  return { store, clock };
}

async function isOpen(store: ObjectStore, key: string, uploadId: string): Promise<boolean> {
  return store.assertUploadOpen(key, uploadId).then(
    () => true,
    () => false,
  );
}

describe('abandoned uploads on the local store', () => {
  it('aborts uploads older than the TTL and keeps the rest', async () => {
    const dir = await tempDir('cleanup-test-');
    const { store, clock } = await localStoreWithClock(dir);
    clock.now = Date.now() - 48 * HOUR;
    const old = {
      key: 'ws-clean/digital_assets/old1',
      ...(await store.createMultipartUpload('ws-clean/digital_assets/old1', 'image/png')),
    };
    clock.now = Date.now() - 2 * HOUR;
    const fresh = {
      key: 'ws-clean/digital_assets/new1',
      ...(await store.createMultipartUpload('ws-clean/digital_assets/new1', 'image/png')),
    };
    clock.now = Date.now();

    const report = await abortStaleUploads(store, { ttlHours: 24, logger: silentLogger });
    expect(report).toEqual({ stale: 1, aborted: 1, alreadyGone: 0, failed: 0, skippedForeign: 0, expiredRecords: 0 });
    expect(await isOpen(store, old.key, old.uploadId)).toBe(false);
    expect(await isOpen(store, fresh.key, fresh.uploadId)).toBe(true);
  });

  it('lists without aborting in a dry run, and leaves keys of other software alone', async () => {
    const dir = await tempDir('cleanup-test-');
    const { store, clock } = await localStoreWithClock(dir);
    clock.now = Date.now() - 48 * HOUR;
    const ours = await store.createMultipartUpload('ws-clean/digital_assets/dry1', 'image/png');
    const foreign = await store.createMultipartUpload('backups/2024/db.dump', 'application/octet-stream');
    clock.now = Date.now();

    const dry = await abortStaleUploads(store, { ttlHours: 24, logger: silentLogger, dryRun: true });
    expect(dry).toEqual({ stale: 1, aborted: 0, alreadyGone: 0, failed: 0, skippedForeign: 1, expiredRecords: 0 });
    expect(await isOpen(store, 'ws-clean/digital_assets/dry1', ours.uploadId)).toBe(true);

    await abortStaleUploads(store, { ttlHours: 24, logger: silentLogger });
    expect(await isOpen(store, 'ws-clean/digital_assets/dry1', ours.uploadId)).toBe(false);
    expect(await isOpen(store, 'backups/2024/db.dump', foreign.uploadId)).toBe(true);
  });

  it('tolerates overlapping runs', async () => {
    const dir = await tempDir('cleanup-test-');
    const { store, clock } = await localStoreWithClock(dir);
    clock.now = Date.now() - 48 * HOUR;
    for (let index = 0; index < 10; index += 1) await store.createMultipartUpload(`ws-clean/digital_assets/race${index}`, 'image/png');
    clock.now = Date.now();
    const reports = await Promise.all([
      abortStaleUploads(store, { ttlHours: 24, logger: silentLogger }),
      abortStaleUploads(store, { ttlHours: 24, logger: silentLogger }),
    ]);
    expect(reports.map((report) => report.failed)).toEqual([0, 0]);
    expect(reports.reduce((sum, report) => sum + report.aborted, 0)).toBe(10);
    expect((await abortStaleUploads(store, { ttlHours: 24, logger: silentLogger })).stale).toBe(0);
  });

  it('runs on the interval when the job is on', async () => {
    const dir = await tempDir('cleanup-test-');
    const { store, clock } = await localStoreWithClock(dir);
    clock.now = Date.now() - 48 * HOUR;
    const { uploadId } = await store.createMultipartUpload('ws-clean/digital_assets/tick1', 'image/png');
    clock.now = Date.now();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const job = startCleanupJob(store, { intervalMinutes: 30, ttlHours: 24, logger: silentLogger });
    defer(() => job.stop());
    expect(await isOpen(store, 'ws-clean/digital_assets/tick1', uploadId)).toBe(true);
    vi.advanceTimersByTime(30 * 60_000);
    await expect.poll(() => isOpen(store, 'ws-clean/digital_assets/tick1', uploadId)).toBe(false);
    await job.stop();
  });

  it('runs as a command: pnpm cleanup-uploads', { timeout: 30_000 }, async () => {
    const dir = await tempDir('cleanup-test-');
    const { store, clock } = await localStoreWithClock(dir);
    clock.now = Date.now() - 30 * HOUR;
    const { uploadId } = await store.createMultipartUpload('ws-clean/digital_assets/cmd1', 'image/png');
    clock.now = Date.now();

    const real = runScript(CLEANUP_COMMAND, { STORAGE_DIR: dir, UPLOAD_TTL_HOURS: '24' });
    defer(() => killApi(real));
    expect(await real.exited).toEqual({ code: 0, signal: null });
    expect(real.logs.find((line) => line.msg === 'abandoned upload cleanup finished')).toMatchObject({
      stale: 1,
      aborted: 1,
      ttlHours: 24,
    });
    expect(await isOpen(store, 'ws-clean/digital_assets/cmd1', uploadId)).toBe(false);
  });
});

describe('crash leftovers swept by the cleanup', () => {
  const exists = (path: string) =>
    stat(path).then(
      () => true,
      () => false,
    );

  /** What a crash between moving a completed object's folder into blobs/ and its metadata leaves. */
  async function plantOrphanBlob(dir: string, bytes: number): Promise<string> {
    const folder = join(dir, 'blobs', randomBytes(16).toString('hex'));
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, '00001'), randomBytes(bytes));
    return folder;
  }

  it('the interval job sweeps them after aborting uploads, and logs what it removed', async () => {
    const dir = await tempDir('cleanup-test-');
    const store = await createLocalStore({ dir, publicUrl: 'http://127.0.0.1', orphanAgeMs: 1_000 });
    const orphan = await plantOrphanBlob(dir, 4096);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const job = startCleanupJob(store, { intervalMinutes: 30, ttlHours: 24, logger });
    defer(() => job.stop());
    vi.advanceTimersByTime(30 * 60_000);
    await expect
      .poll(() => lines.find((line) => line.msg === 'abandoned upload cleanup finished'))
      .toMatchObject({
        stale: 0,
        orphans: { removed: 1, bytes: 4096 },
      });
    await expect.poll(() => exists(orphan)).toBe(false);
    await job.stop();
  });

  it('the command sweeps them and reports them; a dry run leaves them', { timeout: 60_000 }, async () => {
    const dir = await tempDir('cleanup-test-');
    await createLocalStore({ dir, publicUrl: 'http://127.0.0.1' });
    const orphan = await plantOrphanBlob(dir, 8192);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const env = { STORAGE_DIR: dir, LOCAL_ORPHAN_AGE_SECONDS: '1' };

    const dry = runScript(CLEANUP_COMMAND, env, ['--dry-run']);
    defer(() => killApi(dry));
    expect(await dry.exited).toEqual({ code: 0, signal: null });
    expect(await exists(orphan)).toBe(true);

    const real = runScript(CLEANUP_COMMAND, env);
    defer(() => killApi(real));
    expect(await real.exited).toEqual({ code: 0, signal: null });
    expect(real.logs.find((line) => line.msg === 'abandoned upload cleanup finished')).toMatchObject({
      stale: 0,
      orphans: { removed: 1, bytes: 8192 },
    });
    expect(await exists(orphan)).toBe(false);
  });
});

describe('abandoned uploads on the S3 store', () => {
  const s3 = useS3Emulator();

  it('aborts every upload older than the TTL, also when several instances run at once', { timeout: 60_000 }, async (context) => {
    s3.skipUnlessRunning(context);
    const store = createS3Store(s3StoreOptions(s3.emulator));
    defer(async () => store.close?.());
    const started = [];
    for (let index = 0; index < 5; index += 1) {
      const key = uniqueAssetKey('ws-s3clean');
      started.push({ key, ...(await store.createMultipartUpload(key, 'image/png')) });
    }
    // S3 stamps uploads with its own clock; the cleanup's clock runs two days ahead instead.
    const inTwoDays = () => Date.now() + 48 * HOUR;
    const fresh = await abortStaleUploads(store, { ttlHours: 72, logger: silentLogger, now: inTwoDays });
    expect(fresh.stale).toBe(0);

    // Two instances clean up at the same time: each upload is aborted once, the other finds it gone.
    const other = createS3Store(s3StoreOptions(s3.emulator));
    defer(async () => other.close?.());
    const reports = await Promise.all(
      [store, other].map((instance) => abortStaleUploads(instance, { ttlHours: 24, logger: silentLogger, now: inTwoDays })),
    );
    expect(reports.map((report) => report.failed)).toEqual([0, 0]);
    expect(reports[0]!.aborted + reports[1]!.aborted).toBeGreaterThanOrEqual(5);
    for (const upload of started) expect(await isOpen(store, upload.key, upload.uploadId)).toBe(false);
  });
});

describe("S3's own cleanup: the lifecycle rule updateBucketConfig can set", () => {
  const existingRules =
    '<?xml version="1.0" encoding="UTF-8"?><LifecycleConfiguration><Rule><ID>operator-expire</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule></LifecycleConfiguration>';

  async function fakeBucket() {
    const seen: Array<{ method: string; url: string; body: string }> = [];
    const fake = await startFakeS3((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        seen.push({ method: request.method ?? '', url: request.url ?? '', body });
        if (request.method === 'GET' && request.url?.includes('lifecycle')) answerXml(response, existingRules);
        else answerXml(response, '', 200);
      });
    });
    defer(() => fake.close());
    const server = await startServer(async () => ({
      store: fakeS3Store(fake.endpoint),
    }));
    defer(() => server.close());
    return { seen, server };
  }

  const updateBucket = (url: string, input: unknown) => rest(url, 'POST', '/trpc/bucket.updateCors', { json: { json: input } });

  it('adds the AbortIncompleteMultipartUpload rule and keeps the rules already there', async () => {
    const { seen, server } = await fakeBucket();
    const answer = await updateBucket(server.url, { abortIncompleteUploadsAfterDays: 7 });
    expect(answer.status).toBe(200);
    const put = seen.find((request) => request.method === 'PUT' && request.url.includes('lifecycle'));
    expect(put?.body).toContain('<ID>operator-expire</ID>');
    expect(put?.body).toContain('<ID>s3-service-abort-incomplete-uploads</ID>');
    expect(put?.body).toMatch(
      /<AbortIncompleteMultipartUpload><DaysAfterInitiation>7<\/DaysAfterInitiation><\/AbortIncompleteMultipartUpload>/,
    );
    expect(seen.some((request) => request.method === 'PUT' && request.url.includes('cors'))).toBe(true);
  });

  it('leaves lifecycle alone when the field is absent (the documented no-body call)', async () => {
    const { seen, server } = await fakeBucket();
    expect((await rest(server.url, 'POST', '/s3/updateBucketConfig')).status).toBe(200);
    expect(seen.filter((request) => request.url.includes('lifecycle'))).toEqual([]);
  });

  it('is set through REST too, with AbortIncompleteUploadsAfterDays in the body', async () => {
    const { seen, server } = await fakeBucket();
    const answer = await rest(server.url, 'POST', '/s3/updateBucketConfig', { json: { AbortIncompleteUploadsAfterDays: 3 } });
    expect(answer).toMatchObject({ status: 200, body: { success: true } });
    const put = seen.find((request) => request.method === 'PUT' && request.url.includes('lifecycle'));
    expect(put?.body).toContain('<ID>operator-expire</ID>');
    expect(put?.body).toMatch(
      /<AbortIncompleteMultipartUpload><DaysAfterInitiation>3<\/DaysAfterInitiation><\/AbortIncompleteMultipartUpload>/,
    );
  });

  it('refuses days out of range through REST with 400 INVALID_PARAMETER, before S3 is asked anything', async () => {
    const { seen, server } = await fakeBucket();
    for (const days of [0, 3651, 1.5, '7']) {
      const answer = await rest(server.url, 'POST', '/s3/updateBucketConfig', { json: { AbortIncompleteUploadsAfterDays: days } });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ code: 'INVALID_PARAMETER', error: expect.stringContaining('AbortIncompleteUploadsAfterDays') });
    }
    expect(seen).toEqual([]);
  });

  it('is refused on the local store, which has the cleanup job instead', async () => {
    const dir = await tempDir('cleanup-test-');
    const server = await startServer(async (publicUrl) => ({ store: await createLocalStore({ dir, publicUrl }) }));
    defer(() => server.close());
    const answer = await updateBucket(server.url, { abortIncompleteUploadsAfterDays: 7 });
    expect(answer.status).toBe(400);
    expect(answer.body.error.json.data.code).toBe('INVALID_PARAMETER');
    const viaRest = await rest(server.url, 'POST', '/s3/updateBucketConfig', { json: { AbortIncompleteUploadsAfterDays: 7 } });
    expect(viaRest).toMatchObject({ status: 400, body: { code: 'INVALID_PARAMETER' } });
  });
});
