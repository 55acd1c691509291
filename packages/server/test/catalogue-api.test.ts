import { createHash, randomUUID } from 'node:crypto';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresCatalog } from '../src/catalog/postgres.js';
import type { AppRouter } from '../src/index.js';
import { createS3Store } from '../src/storage/s3/index.js';
import type { ObjectStore } from '../src/storage/store.js';
import { MiB, putPart, randomData, sha256 } from './support/bytes.js';
import { isPostgresSkipped, startPostgres } from './support/postgres.js';
import { rest } from './support/rest-client.js';
import { useS3Emulator } from './support/s3-emulator-fixture.js';
import { s3StoreOptions } from './support/s3-harness.js';
import { startLocalServer, startServer, type TestServer } from './support/server.js';
import { codeOf } from './support/trpc-error.js';

type Trpc = ReturnType<typeof createTRPCClient<AppRouter>>;

const trpcOf = (server: TestServer): Trpc =>
  createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${server.url}/trpc`, transformer: superjson })] });

const newWorkspace = () => `ws-${randomUUID().slice(0, 8)}`;

/** start, one signed PUT per part and complete, through tRPC; returns the key. */
async function uploadFile(trpc: Trpc, workspaceId: string, data: Buffer, start: { fileName?: string; fileSize?: number } = {}) {
  const { uploadId, assetId, key } = await trpc.upload.start.mutate({ workspaceId, fileType: 'application/pdf', ...start });
  const { parts } = await trpc.upload.signParts.mutate({ workspaceId, assetId, uploadId, partNumbers: [1] });
  const put = await putPart(parts[0]!.url, data);
  expect(put.status).toBe(200);
  const completed = await trpc.upload.complete.mutate({ workspaceId, assetId, uploadId, parts: [{ partNumber: 1, etag: put.etag! }] });
  return { key, assetId, uploadId, etag: put.etag!, completed };
}

describe('the asset catalogue through the API (local store, PGlite)', () => {
  let server: TestServer;
  let trpc: Trpc;
  beforeAll(async () => {
    server = await startLocalServer({ quotas: {} });
    trpc = trpcOf(server);
    return () => server.close();
  });

  it('serves a download under the name given at start, RFC 6266 encoded, on /s3/download and on the signed URL', async () => {
    const workspaceId = newWorkspace();
    const data = randomData(1000);
    const { key } = await uploadFile(trpc, workspaceId, data, { fileName: 'Quartalsbericht März.pdf' });
    const download = await fetch(`${server.url}/s3/download?${new URLSearchParams({ workspaceId, key })}`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe(
      `attachment; filename="Quartalsbericht M?rz.pdf"; filename*=UTF-8''Quartalsbericht%20M%C3%A4rz.pdf`,
    );
    expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(data));
    const { url } = await trpc.object.downloadUrl.query({ workspaceId, key });
    const signed = await fetch(url);
    expect(signed.status).toBe(200);
    expect(signed.headers.get('content-disposition')).toContain("filename*=UTF-8''Quartalsbericht%20M%C3%A4rz.pdf");
    // The name is part of the signature: renaming the download breaks it.
    const renamed = new URL(url);
    renamed.searchParams.set('name', 'evil.html');
    expect((await fetch(renamed)).status).toBe(403);
  });

  it('falls back to the asset id when no name was given', async () => {
    const workspaceId = newWorkspace();
    const { key, assetId } = await uploadFile(trpc, workspaceId, randomData(10));
    const download = await fetch(`${server.url}/s3/download?${new URLSearchParams({ workspaceId, key })}`);
    expect(download.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="?${assetId}"?$`));
  });

  it.each([
    ['a path', '../x'],
    ['a separator', 'a/b.pdf'],
    ['a backslash', 'a\\b.pdf'],
    ['NUL', 'a\u0000.pdf'],
    ['a line break', 'a\r\nSet-Cookie: x'],
    ['an RTL override', 'invoice\u202Efdp.exe'],
    ['10 KB', 'x'.repeat(10_000)],
    ['only dots', '..'],
    ['an empty name', ''],
  ])('refuses a file name with %s: 400 INVALID_PARAMETER on REST and tRPC, nothing started', async (_what, fileName) => {
    const workspaceId = newWorkspace();
    const answer = await rest(server.url, 'GET', '/s3/start-upload', { query: { workspaceId, fileType: 'application/pdf', fileName } });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: expect.stringMatching(/^fileName: /), code: 'INVALID_PARAMETER' });
    expect(await codeOf(trpc.upload.start.mutate({ workspaceId, fileType: 'application/pdf', fileName }))).toEqual({
      code: 'INVALID_PARAMETER',
      status: 400,
    });
    expect((await trpc.upload.listOpen.query({ workspaceId })).uploads).toEqual([]);
  });

  it('keeps the documented start-upload answer exactly as it was, with a name added as a query parameter', async () => {
    const workspaceId = newWorkspace();
    const answer = await rest(server.url, 'GET', '/s3/start-upload', {
      query: { workspaceId, fileType: 'image/png', fileName: 'cat.png', fileSize: '1234' },
    });
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual(['assetId', 'uploadId']);
    const [open] = (await trpc.upload.listOpen.query({ workspaceId })).uploads;
    expect(open).toMatchObject({ assetId: answer.body.assetId, fileName: 'cat.png', fileSize: 1234, partsDone: 0, bytesDone: 0 });
  });

  it('lists assets from the catalogue with names, newest first or by name, filtered, with cursors', async () => {
    const workspaceId = newWorkspace();
    for (const fileName of ['b.pdf', 'A.pdf', 'c report.pdf']) await uploadFile(trpc, workspaceId, randomData(10), { fileName });
    const newest = await trpc.object.list.query({ workspaceId });
    expect(newest.objects.map((object) => object.fileName)).toEqual(['c report.pdf', 'A.pdf', 'b.pdf']);
    expect(newest.objects[0]).toMatchObject({ size: 10, contentType: 'application/pdf', etag: expect.stringMatching(/^"/) });
    expect(newest.objects[0]!.lastModified).toBeInstanceOf(Date);
    const byName = await trpc.object.list.query({ workspaceId, order: 'name', limit: 2 });
    expect(byName.objects.map((object) => object.fileName)).toEqual(['A.pdf', 'b.pdf']);
    const rest2 = await trpc.object.list.query({ workspaceId, order: 'name', limit: 2, cursor: byName.nextCursor! });
    expect(rest2.objects.map((object) => object.fileName)).toEqual(['c report.pdf']);
    expect(rest2.nextCursor).toBeNull();
    const filtered = await trpc.object.list.query({ workspaceId, nameContains: 'REPORT' });
    expect(filtered.objects.map((object) => object.fileName)).toEqual(['c report.pdf']);
    expect((await trpc.object.head.query({ workspaceId, key: newest.objects[1]!.key })).fileName).toBe('A.pdf');
    expect(await codeOf(trpc.object.list.query({ workspaceId, cursor: 'not-a-cursor' }))).toEqual({
      code: 'INVALID_PARAMETER',
      status: 400,
    });
    // PostgreSQL text holds no NUL: a search for one failed in the database (500) before it was refused.
    expect(await codeOf(trpc.object.list.query({ workspaceId, nameContains: 'c\u0000' }))).toEqual({
      code: 'INVALID_PARAMETER',
      status: 400,
    });
  });

  it('deletes the row with the object: the listing no longer shows it and the bytes are given back', async () => {
    const workspaceId = newWorkspace();
    const { key } = await uploadFile(trpc, workspaceId, randomData(300), { fileName: 'gone.pdf' });
    expect(await trpc.workspace.usage.query({ workspaceId })).toMatchObject({ storedBytes: 300, assets: 1 });
    await trpc.object.delete.mutate({ workspaceId, key });
    expect((await trpc.object.list.query({ workspaceId })).objects).toEqual([]);
    expect(await trpc.workspace.usage.query({ workspaceId })).toMatchObject({ storedBytes: 0, assets: 0 });
    expect(await codeOf(trpc.object.head.query({ workspaceId, key }))).toEqual({ code: 'NOT_FOUND', status: 404 });
  });

  it('lists unfinished uploads with the parts done, for any device to resume, and drops them once finished', async () => {
    const workspaceId = newWorkspace();
    const first = await trpc.upload.start.mutate({
      workspaceId,
      fileType: 'video/mp4',
      fileName: 'film.mp4',
      fileSize: 12 * MiB,
      partSize: 6 * MiB,
    });
    const second = await trpc.upload.start.mutate({ workspaceId, fileType: 'video/mp4', fileName: 'clip.mp4' });
    const { parts } = await trpc.upload.signParts.mutate({ ...first, workspaceId, partNumbers: [1] });
    expect((await putPart(parts[0]!.url, randomData(6 * MiB))).status).toBe(200);
    const open = (await trpc.upload.listOpen.query({ workspaceId })).uploads;
    expect(open.map((upload) => upload.fileName)).toEqual(['clip.mp4', 'film.mp4']);
    expect(open[1]).toMatchObject({ uploadId: first.uploadId, fileSize: 12 * MiB, partSize: 6 * MiB, partsDone: 1, bytesDone: 6 * MiB });
    expect(open[1]!.startedAt).toBeInstanceOf(Date);
    await trpc.upload.abort.mutate({ workspaceId, assetId: second.assetId, uploadId: second.uploadId });
    expect((await trpc.upload.listOpen.query({ workspaceId })).uploads.map((upload) => upload.fileName)).toEqual(['film.mp4']);
    expect(await codeOf(trpc.upload.listParts.query({ workspaceId, assetId: second.assetId, uploadId: second.uploadId }))).toEqual({
      code: 'INVALID_UPLOAD_ID',
      status: 404,
    });
  });

  it('answers a retried complete from the catalogue with the same result', async () => {
    const workspaceId = newWorkspace();
    const { assetId, uploadId, etag, completed } = await uploadFile(trpc, workspaceId, randomData(20), { fileName: 'once.pdf' });
    const again = await trpc.upload.complete.mutate({ workspaceId, assetId, uploadId, parts: [{ partNumber: 1, etag }] });
    expect(again).toEqual(completed);
    expect((await trpc.object.list.query({ workspaceId })).objects).toHaveLength(1);
    const wrongParts = trpc.upload.complete.mutate({
      workspaceId,
      assetId,
      uploadId,
      parts: [{ partNumber: 1, etag: '"00000000000000000000000000000000"' }],
    });
    expect(await codeOf(wrongParts)).toEqual({ code: 'INVALID_UPLOAD_ID', status: 404 });
  });

  it('completes an upload the store finished before a crash kept the catalogue from recording it, and lists it once', async () => {
    const workspaceId = newWorkspace();
    const { uploadId, assetId, key } = await trpc.upload.start.mutate({ workspaceId, fileType: 'application/pdf', fileName: 'crash.pdf' });
    const { parts } = await trpc.upload.signParts.mutate({ workspaceId, assetId, uploadId, partNumbers: [1] });
    const data = randomData(500);
    const put = await putPart(parts[0]!.url, data);
    // What a SIGKILL right after the store's complete leaves: the object exists, the catalogue says open.
    await server.store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: put.etag! }]);
    expect((await trpc.object.list.query({ workspaceId })).objects).toEqual([]);
    const retried = await trpc.upload.complete.mutate({ workspaceId, assetId, uploadId, parts: [{ partNumber: 1, etag: put.etag! }] });
    expect(retried).toMatchObject({ key, size: 500, fileName: 'crash.pdf' });
    const listed = (await trpc.object.list.query({ workspaceId })).objects;
    expect(listed.map((object) => [object.key, object.fileName, object.size])).toEqual([[key, 'crash.pdf', 500]]);
    expect((await trpc.upload.listOpen.query({ workspaceId })).uploads).toEqual([]);
  });

  it('adopts an object the catalogue never saw (written before it existed) when it is looked at', async () => {
    const workspaceId = newWorkspace();
    const assetId = 'b2xkZXJvYmplY3QxMjM0NTY';
    const key = `${workspaceId}/digital_assets/${assetId}`;
    const { uploadId } = await server.store.createMultipartUpload(key, 'image/png');
    const [url] = await server.store.signPartUrls(key, uploadId, [1], 60);
    const put = await putPart(url!, randomData(64));
    await server.store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: put.etag! }]);
    expect(await trpc.object.head.query({ workspaceId, key })).toMatchObject({
      key,
      assetId,
      fileName: null,
      size: 64,
      contentType: 'image/png',
    });
    expect((await trpc.object.list.query({ workspaceId })).objects.map((object) => object.key)).toEqual([key]);
  });
});

describe('quotas', () => {
  let server: TestServer;
  let trpc: Trpc;
  beforeAll(async () => {
    server = await startLocalServer({ quotas: { defaultQuotaBytes: 1000 } });
    trpc = trpcOf(server);
    return () => server.close();
  });

  it('refuses a start whose declared size does not fit: 413 QUOTA_EXCEEDED on REST and tRPC, nothing left open', async () => {
    const workspaceId = newWorkspace();
    const answer = await rest(server.url, 'GET', '/s3/start-upload', { query: { workspaceId, fileType: 'image/png', fileSize: '1001' } });
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual({ error: expect.stringContaining('quota of 1000'), code: 'QUOTA_EXCEEDED' });
    expect(await codeOf(trpc.upload.start.mutate({ workspaceId, fileType: 'image/png', fileSize: 1001 }))).toEqual({
      code: 'QUOTA_EXCEEDED',
      status: 413,
    });
    expect(await trpc.workspace.usage.query({ workspaceId })).toMatchObject({ openUploads: 0, reservedBytes: 0, quotaBytes: 1000 });
  });

  it('judges the real size at complete, whatever was declared, and leaves the upload open to abort', async () => {
    const workspaceId = newWorkspace();
    const { uploadId, assetId } = await trpc.upload.start.mutate({ workspaceId, fileType: 'image/png' });
    const { parts } = await trpc.upload.signParts.mutate({ workspaceId, assetId, uploadId, partNumbers: [1] });
    const put = await putPart(parts[0]!.url, randomData(1500));
    const complete = await rest(server.url, 'POST', '/s3/complete-upload', {
      json: { workspaceId, assetId, uploadId, parts: [{ PartNumber: 1, ETag: put.etag }] },
    });
    expect(complete.status).toBe(413);
    expect(complete.body.code).toBe('QUOTA_EXCEEDED');
    expect((await trpc.object.list.query({ workspaceId })).objects).toEqual([]);
    await trpc.upload.abort.mutate({ workspaceId, assetId, uploadId });
    expect(await trpc.workspace.usage.query({ workspaceId })).toMatchObject({ storedBytes: 0, openUploads: 0, reservedBytes: 0 });
  });

  it('refuses signing parts whose declared sizes run past the quota', async () => {
    const workspaceId = newWorkspace();
    const { uploadId, assetId } = await trpc.upload.start.mutate({ workspaceId, fileType: 'image/png' });
    const signing = trpc.upload.signParts.mutate({ workspaceId, assetId, uploadId, partNumbers: [1, 2], partSizes: [600, 600] });
    expect(await codeOf(signing)).toEqual({ code: 'QUOTA_EXCEEDED', status: 413 });
    await trpc.upload.signParts.mutate({ workspaceId, assetId, uploadId, partNumbers: [1], partSizes: [600] });
    expect(await trpc.workspace.usage.query({ workspaceId })).toMatchObject({ reservedBytes: 600 });
  });

  it('lets only one of several concurrent uploads take the last bytes', async () => {
    const workspaceId = newWorkspace();
    const starts = await Promise.all(
      Array.from({ length: 5 }, () => codeOf(trpc.upload.start.mutate({ workspaceId, fileType: 'image/png', fileSize: 600 }))),
    );
    expect(starts.filter((result) => result.code === undefined)).toHaveLength(1);
    expect(starts.filter((result) => result.code === 'QUOTA_EXCEEDED')).toHaveLength(4);
  });

  it('takes an admin override per workspace, and null returns to the default', async () => {
    const workspaceId = newWorkspace();
    expect(await trpc.workspace.setQuota.mutate({ workspaceId, quotaBytes: 5000 })).toMatchObject({
      quotaBytes: 5000,
      quotaOverridden: true,
    });
    await uploadFile(trpc, workspaceId, randomData(3000), { fileSize: 3000 });
    expect(await trpc.workspace.usage.query({ workspaceId })).toMatchObject({ storedBytes: 3000, assets: 1, quotaBytes: 5000 });
    expect(await trpc.workspace.setQuota.mutate({ workspaceId, quotaBytes: null })).toMatchObject({
      quotaBytes: 1000,
      quotaOverridden: false,
    });
    expect(await codeOf(trpc.upload.start.mutate({ workspaceId, fileType: 'image/png', fileSize: 1 }))).toMatchObject({
      code: 'QUOTA_EXCEEDED',
    });
    expect(await codeOf(trpc.workspace.setQuota.mutate({ workspaceId, quotaBytes: -1 }))).toMatchObject({ code: 'INVALID_PARAMETER' });
  });
});

describe('the catalogue on S3 (versitygw): listing without a store request per asset', () => {
  const s3 = useS3Emulator();
  let server: TestServer;
  let trpc: Trpc;
  const calls = { headObject: 0, listObjects: 0, assertUploadOpen: 0, listParts: 0 };

  beforeAll(async () => {
    try {
      s3.emulator;
    } catch {
      return;
    }
    server = await startServer(async () => ({ store: counting(createS3Store(s3StoreOptions(s3.emulator)), calls) }));
    trpc = trpcOf(server);
    return () => server.close();
  });

  it('lists 12 named assets with one catalogue query a page and no HEAD or ListObjects on the store', async (context) => {
    s3.skipUnlessRunning(context);
    const workspaceId = newWorkspace();
    for (let index = 0; index < 12; index += 1)
      await uploadFile(trpc, workspaceId, randomData(100 + index), { fileName: `scan-${index}.pdf` });
    for (const name of Object.keys(calls) as (keyof typeof calls)[]) calls[name] = 0;
    const first = await trpc.object.list.query({ workspaceId, limit: 5, order: 'name' });
    const second = await trpc.object.list.query({ workspaceId, limit: 5, order: 'name', cursor: first.nextCursor! });
    expect([...first.objects, ...second.objects].map((object) => object.fileName)).toEqual([
      'scan-0.pdf',
      'scan-1.pdf',
      'scan-10.pdf',
      'scan-11.pdf',
      'scan-2.pdf',
      'scan-3.pdf',
      'scan-4.pdf',
      'scan-5.pdf',
      'scan-6.pdf',
      'scan-7.pdf',
    ]);
    expect(calls).toMatchObject({ headObject: 0, listObjects: 0 });
  }, 60_000);

  it('signs parts of an upload the catalogue knows with no request to S3, and still refuses finished, foreign and unknown ids', async (context) => {
    s3.skipUnlessRunning(context);
    const workspaceId = newWorkspace();
    const plain = await trpc.upload.start.mutate({ workspaceId, fileType: 'application/octet-stream' });
    const checksummed = await trpc.upload.start.mutate({ workspaceId, fileType: 'application/octet-stream', checksumAlgorithm: 'SHA256' });
    for (const name of Object.keys(calls) as (keyof typeof calls)[]) calls[name] = 0;
    const ref = { workspaceId, uploadId: plain.uploadId, assetId: plain.assetId };
    await trpc.upload.signPart.query({ ...ref, partNumber: 1 });
    await trpc.upload.signParts.mutate({ ...ref, partNumbers: [1, 2, 3] });
    const part = randomData(1024);
    const signed = await trpc.upload.signPart.query({
      workspaceId,
      uploadId: checksummed.uploadId,
      assetId: checksummed.assetId,
      partNumber: 1,
      checksum: createHash('sha256').update(part).digest('base64'),
    });
    expect(signed.headers).toBeDefined();
    // The catalogue knows the checksum mode: a checksum for the plain upload is refused without S3 too.
    expect(
      (await codeOf(trpc.upload.signPart.query({ ...ref, partNumber: 1, checksum: createHash('sha256').update(part).digest('base64') })))
        .code,
    ).toBe('INVALID_PARAMETER');
    expect(calls.assertUploadOpen).toBe(0);

    const put = await fetch(signed.url, { method: 'PUT', body: part as Uint8Array<ArrayBuffer>, headers: signed.headers });
    expect(put.status).toBe(200);
    const etag = put.headers.get('etag')!;
    await trpc.upload.complete.mutate({
      workspaceId,
      uploadId: checksummed.uploadId,
      assetId: checksummed.assetId,
      parts: [{ partNumber: 1, etag }],
    });
    const finished = { workspaceId, uploadId: checksummed.uploadId, assetId: checksummed.assetId, partNumber: 2 };
    expect((await codeOf(trpc.upload.signPart.query(finished))).code).toBe('INVALID_UPLOAD_ID');
    expect((await codeOf(trpc.upload.signPart.query({ ...ref, workspaceId: newWorkspace(), partNumber: 1 }))).code).toBe(
      'INVALID_UPLOAD_ID',
    );
    expect((await codeOf(trpc.upload.signPart.query({ ...ref, assetId: 'aW1wb3J0ZWR1cGxvYWQxMjM', partNumber: 1 }))).code).toBe(
      'INVALID_UPLOAD_ID',
    );
    expect((await codeOf(trpc.upload.signPart.query({ ...ref, uploadId: `${plain.uploadId}x`, partNumber: 1 }))).code).toBe(
      'INVALID_UPLOAD_ID',
    );
    await trpc.upload.abort.mutate(ref);
    expect((await codeOf(trpc.upload.signPart.query({ ...ref, partNumber: 1 }))).code).toBe('INVALID_UPLOAD_ID');
  }, 60_000);

  it('completes an upload imported from S3 (type unknown there) with the type the object was stored with', async (context) => {
    s3.skipUnlessRunning(context);
    const workspaceId = newWorkspace();
    const assetId = 'aW1wb3J0ZWR1cGxvYWQxMjM';
    const key = `${workspaceId}/digital_assets/${assetId}`;
    const { uploadId } = await server.store.createMultipartUpload(key, 'image/png');
    // What catalog:sync records for an open S3 upload: ListMultipartUploads does not say its type.
    await server.catalog.importUpload({
      workspaceId,
      uploadId,
      assetId,
      key,
      fileName: null,
      fileType: '',
      declaredSize: null,
      partSize: null,
      startedBy: null,
      startedAt: new Date(),
    });
    // The import records no checksum mode: the store is asked whether the upload is open, and how.
    calls.assertUploadOpen = 0;
    const { parts } = await trpc.upload.signParts.mutate({ workspaceId, assetId, uploadId, partNumbers: [1] });
    expect(calls.assertUploadOpen).toBe(1);
    const put = await putPart(parts[0]!.url, randomData(50));
    await trpc.upload.complete.mutate({ workspaceId, assetId, uploadId, parts: [{ partNumber: 1, etag: put.etag! }] });
    expect(await trpc.object.head.query({ workspaceId, key })).toMatchObject({ contentType: 'image/png', size: 50 });
  }, 30_000);

  it('signs S3 download URLs that save under the asset name', async (context) => {
    s3.skipUnlessRunning(context);
    const workspaceId = newWorkspace();
    const data = randomData(2000);
    const { key } = await uploadFile(trpc, workspaceId, data, { fileName: 'plan "v2".pdf' });
    const { url } = await trpc.object.downloadUrl.query({ workspaceId, key });
    const answer = await fetch(url);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-disposition')).toBe('attachment; filename="plan \\"v2\\".pdf"');
    expect(sha256(Buffer.from(await answer.arrayBuffer()))).toBe(sha256(data));
  }, 30_000);
});

/** Counts the store calls a listing could make; everything else passes through untouched. */
type StoreCalls = Partial<Record<keyof ObjectStore, number>>;

/** The store, counting calls of the methods `calls` names. */
function counting(store: ObjectStore, calls: StoreCalls): ObjectStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof property === 'string' && property in calls) {
        return (...args: unknown[]) => {
          calls[property as keyof ObjectStore]! += 1;
          return (value as (...inner: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const postgresServer = await startPostgres();
// At the top: a run filtered to other tests skips the describe block's own hooks.
afterAll(() => (isPostgresSkipped(postgresServer) ? undefined : postgresServer.destroy()));

describe.skipIf(isPostgresSkipped(postgresServer))('the API on PostgreSQL losing its database', () => {
  it('answers 503 CATALOG_UNAVAILABLE and fails /readyz while the database is down, and recovers without a restart', async () => {
    if (isPostgresSkipped(postgresServer)) return;
    const catalog = await openPostgresCatalog({ url: await postgresServer.createDatabase(), connectTimeoutMs: 1_000 });
    const server = await startLocalServer({ catalog, readinessTimeoutMs: 1_500 });
    try {
      const trpc = trpcOf(server);
      const workspaceId = newWorkspace();
      await uploadFile(trpc, workspaceId, randomData(10), { fileName: 'before.pdf' });
      expect((await rest(server.url, 'GET', '/readyz')).body).toEqual({ status: 'ready', store: 'local', catalog: 'postgres' });

      await postgresServer.stop();
      const start = await rest(server.url, 'GET', '/s3/start-upload', { query: { workspaceId, fileType: 'image/png' } });
      expect(start.status).toBe(503);
      expect(start.body).toEqual({ error: expect.stringContaining('catalogue'), code: 'CATALOG_UNAVAILABLE' });
      expect(await codeOf(trpc.object.list.query({ workspaceId }))).toEqual({ code: 'CATALOG_UNAVAILABLE', status: 503 });
      const ready = await rest(server.url, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'unavailable', code: 'CATALOG_UNAVAILABLE' });
      expect((await rest(server.url, 'GET', '/healthz')).status).toBe(200);

      await postgresServer.start();
      expect((await rest(server.url, 'GET', '/readyz')).status).toBe(200);
      expect((await trpc.object.list.query({ workspaceId })).objects.map((object) => object.fileName)).toEqual(['before.pdf']);
    } finally {
      await server.close();
      await catalog.close();
    }
  }, 60_000);
});
