import { randomUUID } from 'node:crypto';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest';
import type { AppRouter } from '../src/index.js';
import { createS3Store } from '../src/storage/s3/index.js';
import { MiB, randomData, sha256, splitParts } from './support/bytes.js';
import { companion, putToUrl } from './support/companion-client.js';
import { s3ServersUnderTest } from './support/s3-emulator.js';
import { type S3EmulatorFixture, useS3Emulator } from './support/s3-emulator-fixture.js';
import { readAll, s3StoreOptions } from './support/s3-harness.js';
import { startLocalServer, startServer, type TestAppOptions, type TestServer } from './support/server.js';

const newWorkspace = () => `ws-${randomUUID().slice(0, 8)}`;

async function mintEndpoint(server: TestServer, workspaceId: string, expiresInSeconds?: number): Promise<string> {
  const trpc = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${server.url}/trpc`, transformer: superjson })] });
  const { endpoint } = await trpc.uppy.capability.mutate({ workspaceId, expiresInSeconds });
  return endpoint;
}

async function storedBytes(server: TestServer, key: string): Promise<Buffer> {
  return readAll((await server.store.getObject(key)).body);
}

async function openUploads(server: TestServer, workspaceId: string) {
  return (await server.catalog.listOpenUploads(workspaceId, { limit: 100 })).uploads;
}

function hasEmulator(s3: S3EmulatorFixture): boolean {
  try {
    void s3.emulator;
    return true;
  } catch {
    return false;
  }
}

/** Uppy's multipart flow: create, then for each part sign and PUT, then complete. */
async function sendParts(uppy: ReturnType<typeof companion>, key: string, uploadId: string, parts: Buffer[], firstPart = 1) {
  const sent: Array<{ partNumber: number; etag: string }> = [];
  for (const [index, part] of parts.entries()) {
    const partNumber = firstPart + index;
    const signed = await uppy.signPart(key, uploadId, partNumber);
    expect(signed.status).toBe(200);
    const put = await putToUrl(signed.body.url, part);
    expect(put.status).toBe(200);
    sent.push({ partNumber, etag: put.etag! });
  }
  return sent;
}

function describeCompanion(name: string, start: (options?: TestAppOptions) => Promise<TestServer>, s3?: S3EmulatorFixture) {
  describe(`Companion S3 protocol on the ${name}`, () => {
    let server: TestServer;
    beforeAll(async () => {
      if (s3 && !hasEmulator(s3)) return;
      server = await start();
    }, 60_000);
    afterAll(async () => server?.close());
    // Each test skips, saying why, where there is no S3 server to run on.
    const it = (title: string, test: () => Promise<void>, timeout?: number) =>
      vitestIt(
        title,
        async (context) => {
          s3?.skipUnlessRunning(context);
          await test();
        },
        timeout,
      );

    it('uploads 17 MiB in four parts (5/5/5/2 MiB), resumes from listParts after two, and stores the bytes under the server key', async () => {
      const workspaceId = newWorkspace();
      const uppy = companion(await mintEndpoint(server, workspaceId));
      const data = randomData(17 * MiB);
      const parts = splitParts(data, 5 * MiB);

      const created = await uppy.createMultipartUpload('holiday video.mp4', 'video/mp4', { name: 'holiday video.mp4' });
      expect(created.status).toBe(200);
      const { key, uploadId, assetId } = created.body;
      expect(key).toBe(`${workspaceId}/digital_assets/${assetId}`);

      const firstTwo = await sendParts(uppy, key, uploadId, parts.slice(0, 2));
      // A paused upload resumes from what the store holds, as S3Uploader#resumeMultipartUpload does.
      const listed = await uppy.listParts(key, uploadId);
      expect(listed.status).toBe(200);
      expect(listed.body).toEqual([
        { PartNumber: 1, ETag: `"${firstTwo[0]!.etag}"`, Size: 5 * MiB },
        { PartNumber: 2, ETag: `"${firstTwo[1]!.etag}"`, Size: 5 * MiB },
      ]);
      const resumed = (listed.body as Array<{ PartNumber: number; ETag: string }>).map((part) => ({
        partNumber: part.PartNumber,
        etag: part.ETag,
      }));
      const rest = await sendParts(uppy, key, uploadId, parts.slice(2), 3);

      const completed = await uppy.complete(key, uploadId, [...resumed, ...rest]);
      expect(completed.status).toBe(200);
      expect(completed.body).toEqual({ location: `s3://${server.store.bucket}/${key}`, bucket: server.store.bucket, key, assetId });
      expect(sha256(await storedBytes(server, key))).toBe(sha256(data));
      const asset = await server.catalog.findAsset(workspaceId, key);
      expect(asset).toMatchObject({ fileName: 'holiday video.mp4', size: 17 * MiB });
      expect(await openUploads(server, workspaceId)).toEqual([]);
    }, 120_000);

    it('signs parts in a batch, as Companion does for older Uppy', async () => {
      const workspaceId = newWorkspace();
      const uppy = companion(await mintEndpoint(server, workspaceId));
      const { key, uploadId } = (await uppy.createMultipartUpload('a.bin', 'application/octet-stream')).body;
      const batch = await uppy.signParts(key, uploadId, [1, 2, 3]);
      expect(batch.status).toBe(200);
      expect(Object.keys(batch.body.presignedUrls)).toEqual(['1', '2', '3']);
      const put = await putToUrl(batch.body.presignedUrls['1'], Buffer.from('hello'));
      expect(put.status).toBe(200);
      expect((await uppy.complete(key, uploadId, [{ partNumber: 1, etag: put.etag! }])).status).toBe(200);
      expect((await storedBytes(server, key)).toString()).toBe('hello');
    });

    it('aborts: no open upload and no object remain', async () => {
      const workspaceId = newWorkspace();
      const uppy = companion(await mintEndpoint(server, workspaceId));
      const { key, uploadId } = (await uppy.createMultipartUpload('cancel.bin', 'application/octet-stream')).body;
      await sendParts(uppy, key, uploadId, [randomData(1024)]);
      const aborted = await uppy.abort(key, uploadId);
      expect(aborted).toMatchObject({ status: 200, body: {} });
      expect(await openUploads(server, workspaceId)).toEqual([]);
      expect(await server.store.headObject(key)).toBeNull();
      expect(await uppy.listParts(key, uploadId)).toMatchObject({ status: 404, body: { code: 'INVALID_UPLOAD_ID' } });
    });

    it('uploads a 100 KiB file through /params and the form POST, and an empty one', async () => {
      const workspaceId = newWorkspace();
      const uppy = companion(await mintEndpoint(server, workspaceId));
      for (const data of [randomData(100 * 1024), Buffer.alloc(0)]) {
        const params = await uppy.params('notes.txt', 'text/plain', { name: 'notes.txt' });
        expect(params.status).toBe(200);
        expect(params.body).toMatchObject({ method: 'POST', fields: { key: expect.any(String), uploadId: expect.any(String) } });
        const posted = await uppy.postForm(params.body.url, params.body.fields, new Blob([new Uint8Array(data)], { type: 'text/plain' }));
        expect(posted.status).toBe(201);
        const { key } = params.body.fields;
        expect(posted.body).toMatchObject({ key, location: `s3://${server.store.bucket}/${key}` });
        expect(posted.headers.get('etag')).toMatch(/^"[0-9a-f]{32}-1"$/);
        expect(sha256(await storedBytes(server, key))).toBe(sha256(data));
        expect(await server.catalog.findAsset(workspaceId, key)).toMatchObject({ fileName: 'notes.txt', size: data.length });
      }
      expect(await openUploads(server, workspaceId)).toEqual([]);
    });

    it('refuses a type off the allowlist with 400 FILE_TYPE_NOT_ALLOWED, on both paths', async () => {
      const uppy = companion(await mintEndpoint(server, newWorkspace()));
      for (const refused of [await uppy.createMultipartUpload('page.html', 'text/html'), await uppy.params('page.html', 'text/html')]) {
        expect(refused).toMatchObject({ status: 400, body: { code: 'FILE_TYPE_NOT_ALLOWED' } });
      }
    });
  });
}

describeCompanion('local store', (options) => startLocalServer(options));

describe.each(s3ServersUnderTest())('on S3 (%s)', (choice) => {
  const s3 = useS3Emulator({ server: choice });
  describeCompanion(
    `S3 driver (${choice})`,
    (options) => startServer(async () => ({ store: createS3Store(s3StoreOptions(s3.emulator)) }), options),
    s3,
  );
});
