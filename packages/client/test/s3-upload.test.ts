import { Readable } from 'node:stream';
import type { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Store } from '../../server/src/storage/s3/index.js';
import { isSkipped, type S3Emulator, s3ServersUnderTest, startS3Emulator } from '../../server/test/support/s3-emulator.js';
import { s3StoreOptions } from '../../server/test/support/s3-harness.js';
import { startServer, type TestServer } from '../../server/test/support/server.js';
import { createS3ServiceClient, type S3ServiceClient, type UploadError } from '../src/index.js';
import { downloadedHash, expectedHash, progressRecorder, spiedClient } from './support/client.js';
import { MiB, randomData } from './support/data.js';
import { countProcedures, type PutFault } from './support/fetch-spy.js';

// The same uploader against the S3 driver and each real S3 server of the tests (versitygw and MinIO,
// or S3_TEST_ENDPOINT): presigned SigV4 part URLs, S3's ETags and S3's own answers to part PUTs.
const servers = await Promise.all(
  s3ServersUnderTest().map(async (server) => {
    const started = await startS3Emulator({ server });
    const skipReason = isSkipped(started) ? started.skipped : undefined;
    if (skipReason) console.warn(`skipping client tests on ${server}: ${skipReason}`);
    return { label: server === 'external' ? 'S3_TEST_ENDPOINT' : server, started, skipReason };
  }),
);

const workspaceId = 'client-s3';
const partSize = 5 * MiB;

describe.each(servers)('client.upload on the S3 driver on $label', ({ started, skipReason }) => {
  if (skipReason !== undefined) {
    it.skip(`needs an S3 server: ${skipReason}`);
    return;
  }
  const emulator = started as S3Emulator;
  let server: TestServer;
  let client: S3ServiceClient;
  /** The S3 driver's clock, which dates its presigned URLs. */
  let clockOffsetMs = 0;

  beforeAll(async () => {
    const now = () => Date.now() + clockOffsetMs;
    server = await startServer(async () => ({ store: createS3Store(s3StoreOptions(emulator, { now })) }));
    client = createS3ServiceClient({ url: server.url });
  });
  afterAll(async () => {
    await server?.close();
    await emulator.stop();
  });

  it.each([
    ['an empty file', 0],
    ['a single byte', 1],
    ['parts streamed with Content-Length, and a short last part', 2 * partSize + 999],
  ])('stores %s byte-exact', async (_name, size) => {
    const data = randomData(size);
    const progress = progressRecorder();
    const result = await client.upload(Readable.from([Buffer.from(data)]), { workspaceId, partSize, onProgress: progress.onProgress });
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
    expect(progress.last()).toEqual({ loaded: size, total: size });
  });

  it('stores plain (browser-style) part bodies', async () => {
    const data = randomData(partSize + 3);
    const result = await client.upload(new Blob([data]), { workspaceId, partSize, streamParts: false });
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
  });

  it('recovers from injected part failures', async () => {
    const data = randomData(2 * partSize + 1);
    const faults: PutFault[] = [{ kind: 'network' }, { kind: 'status', status: 503 }];
    const { client: flaky, spy } = spiedClient(server, (put) => faults[put.index]);
    const result = await flaky.upload(data, { workspaceId, partSize, retryDelay: { initialMs: 5, maxMs: 20 } });
    expect(spy.puts).toHaveLength(3 + 2);
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
  });

  it('re-signs part URLs that S3 refuses as expired (403 AccessDenied) and carries on', async () => {
    const data = randomData(2 * partSize + 1);
    clockOffsetMs = -2 * 3600_000; // the first batch is signed "two hours ago": already expired
    const { client: spied, spy } = spiedClient(server, (put) =>
      put.index === 0
        ? {
            kind: 'before',
            run: () => {
              clockOffsetMs = 0;
            },
          }
        : undefined,
    );
    try {
      const result = await spied.upload(data, { workspaceId, partSize, concurrency: 1 });
      // One batch, then one fresh URL per part. (The store refuses an expired URL with 403, or,
      // for a large body, by resetting the connection: then the second failure re-signs.)
      expect(countProcedures(spy, 'upload.signParts')).toBe(1 + 3);
      expect(spy.storedPuts.map((put) => put.partNumber)).toEqual([1, 2, 3]);
      expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
    } finally {
      clockOffsetMs = 0;
    }
  });

  it('resumes, sending only the missing parts', async () => {
    const data = randomData(3 * partSize + 5);
    const { client: crashing } = spiedClient(server, (put) => (put.index >= 2 ? { kind: 'network' } : undefined));
    const failure = (await crashing
      .upload(data, { workspaceId, partSize, retries: 0, concurrency: 1 })
      .catch((error: unknown) => error)) as UploadError;
    expect(failure).toMatchObject({ name: 'UploadError', code: 'NETWORK_ERROR' });
    const { client: healthy, spy } = spiedClient(server);
    const result = await healthy.upload(data, {
      workspaceId,
      partSize,
      resume: { uploadId: failure.uploadId!, assetId: failure.assetId! },
    });
    expect(spy.puts.map((put) => put.partNumber).sort((a, b) => a - b)).toEqual([3, 4]);
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
  });

  it('a pause that cuts parts mid-body, then a resume, never yields a wrong object (five rounds)', { timeout: 120_000 }, async () => {
    for (let round = 0; round < 5; round++) {
      const data = randomData(3 * partSize + 777);
      // The second part breaks off a varying way in: S3-compatible servers have kept such bodies as parts.
      const cutAt = Math.floor(((round + 1) / 6) * partSize);
      const { client: pausing } = spiedClient(server, (put) => (put.partNumber === 2 ? { kind: 'cut', after: cutAt } : undefined));
      const paused = (await pausing
        .upload(data, { workspaceId, partSize, retries: 0, concurrency: 2 })
        .catch((error: unknown) => error)) as UploadError;
      expect(paused).toMatchObject({ name: 'UploadError' });
      const listed = await client.trpc.upload.listParts.query({ workspaceId, uploadId: paused.uploadId!, assetId: paused.assetId! });
      // Whatever the store kept of the cut part, none of it passes for part 2's bytes.
      expect(listed.parts.find((part) => part.partNumber === 2)).toBeUndefined();
      const result = await client.upload(data, { workspaceId, partSize, resume: { uploadId: paused.uploadId!, assetId: paused.assetId! } });
      expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
    }
  });

  it('abort leaves no upload and no object', async () => {
    const controller = new AbortController();
    const { client: spied, spy } = spiedClient(server);
    const upload = spied.upload(randomData(6 * partSize), {
      workspaceId,
      partSize,
      signal: controller.signal,
      onProgress: ({ loaded }) => {
        if (loaded > partSize) controller.abort();
      },
    });
    await expect(upload).rejects.toMatchObject({ name: 'AbortError' });
    const { uploadId, assetId, key } = spy.started[0]!;
    const listed = await client.trpc.upload.listParts.query({ workspaceId, uploadId, assetId }).catch((error: unknown) => error);
    expect((listed as TRPCClientError<never>).data).toMatchObject({ code: 'INVALID_UPLOAD_ID' });
    await expect(client.download({ key, workspaceId })).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });
});
