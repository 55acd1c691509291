import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalStore } from '../../server/src/storage/local/index.js';
import { expireFirstPartUrls } from '../../server/test/support/expiring-part-urls.js';
import { startServer } from '../../server/test/support/server.js';
import { createS3ServiceClient, type S3ServiceClient, S3ServiceError, UploadError } from '../src/index.js';
import {
  downloadedHash,
  expectedHash,
  progressRecorder,
  spiedClient,
  startLocalServer,
  type TestServer,
  withLocalServer,
} from './support/client.js';
import { MiB, randomData } from './support/data.js';
import { countProcedures } from './support/fetch-spy.js';

const workspaceId = 'client-retry';
const partSize = 5 * MiB;
/** Short waits: the tests check the policy, not the clock. */
const retryDelay = { initialMs: 5, maxMs: 20 };

describe('part PUT failures', () => {
  let server: TestServer;
  let client: S3ServiceClient;
  withLocalServer((started, plain) => {
    server = started;
    client = plain;
  });

  it('retries network errors and recovers, with progress still monotone and exact', async () => {
    const data = randomData(3 * partSize + 10);
    const { client: spied, spy } = spiedClient(server, (put) => (put.index < 3 ? { kind: 'network' } : undefined));
    const progress = progressRecorder();
    const result = await spied.upload(data, { workspaceId, partSize, retryDelay, onProgress: progress.onProgress });
    expect(spy.puts).toHaveLength(4 + 3);
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
    expect(progress.isMonotone()).toBe(true);
    expect(progress.last()).toEqual({ loaded: data.byteLength, total: data.byteLength });
  });

  it('retries 503, 500, 429 and 408 answers of the store', async () => {
    const data = randomData(2 * partSize + 10);
    const statuses = [503, 500, 429, 408];
    const { client: spied, spy } = spiedClient(server, (put) => {
      const status = statuses[put.index];
      const headers: Record<string, string> = status === 429 ? { 'retry-after': '0' } : {};
      return status ? { kind: 'status', status, headers } : undefined;
    });
    const result = await spied.upload(data, { workspaceId, partSize, retryDelay });
    expect(spy.puts).toHaveLength(3 + 4);
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
  });

  it('retries a part whose body was cut off half-way (the stream body is rebuilt for each attempt)', async () => {
    const data = randomData(partSize + 10);
    let cut = false;
    // A fetch that reads some of the body, then fails like a reset connection.
    const cutting: typeof fetch = async (input, init) => {
      if (init?.method === 'PUT' && init.body instanceof ReadableStream && !cut) {
        cut = true;
        const reader = init.body.getReader();
        await reader.read();
        await reader.read();
        await reader.cancel();
        throw new TypeError('fetch failed', { cause: new Error('socket hang up (injected)') });
      }
      return fetch(input, init);
    };
    const cutClient = createS3ServiceClient({ url: server.url, fetch: cutting });
    const progress = progressRecorder();
    const result = await cutClient.upload(data, { workspaceId, partSize, retryDelay, onProgress: progress.onProgress });
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
    expect(progress.isMonotone()).toBe(true);
    expect(progress.last()?.loaded).toBe(data.byteLength);
  });

  it('gives up after `retries` retries and says where the upload stood, so it can be resumed', async () => {
    const data = randomData(2 * partSize);
    const { client: spied, spy } = spiedClient(server, (put) => (put.partNumber === 2 ? { kind: 'status', status: 503 } : undefined));
    const error = await spied
      .upload(data, { workspaceId, partSize, retries: 2, retryDelay, concurrency: 1 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toBeInstanceOf(S3ServiceError);
    const uploadError = error as UploadError;
    expect(uploadError).toMatchObject({
      code: 'S3_ERROR',
      status: 503,
      partNumber: 2,
      uploadId: spy.started[0]!.uploadId,
      assetId: spy.started[0]!.assetId,
    });
    expect(uploadError.message).toMatch(/part 2.*503.*gave up after 3 attempts/);
    expect(spy.puts.filter((put) => put.partNumber === 2)).toHaveLength(3);

    // The upload stayed open: resuming sends only part 2.
    const { client: healthy, spy: healthySpy } = spiedClient(server);
    const resumed = await healthy.upload(data, {
      workspaceId,
      partSize,
      resume: { uploadId: uploadError.uploadId!, assetId: uploadError.assetId! },
    });
    expect(healthySpy.puts.map((put) => put.partNumber)).toEqual([2]);
    expect(await downloadedHash(client, workspaceId, resumed)).toEqual(expectedHash(data));
  });

  it('fails fast on a 4xx that retrying cannot fix, with the store’s code', async () => {
    const data = randomData(3 * partSize);
    const { client: spied, spy } = spiedClient(server, (put) =>
      put.partNumber === 2
        ? { kind: 'status', status: 400, body: JSON.stringify({ error: 'malformed part', code: 'INVALID_PARAMETER' }) }
        : undefined,
    );
    const started = Date.now();
    const error = await spied
      .upload(data, { workspaceId, partSize, retryDelay: { initialMs: 5_000, maxMs: 5_000 } })
      .catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(error).toMatchObject({ name: 'UploadError', code: 'INVALID_PARAMETER', status: 400, partNumber: 2 });
    expect((error as Error).message).toMatch(/part 2: the store answered HTTP 400: malformed part/);
    expect(spy.puts.filter((put) => put.partNumber === 2)).toHaveLength(1);
  });

  it('reads S3 XML errors too: NoSuchUpload becomes INVALID_UPLOAD_ID', async () => {
    const body = '<?xml version="1.0"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>';
    const { client: spied } = spiedClient(server, () => ({ kind: 'status', status: 404, body }));
    await expect(spied.upload(randomData(10), { workspaceId, retryDelay })).rejects.toMatchObject({
      code: 'INVALID_UPLOAD_ID',
      message: expect.stringContaining('NoSuchUpload: The specified upload does not exist.'),
    });
  });

  it('re-signs a part URL the store refuses with 403 once, and fails if a fresh URL is refused too', async () => {
    const { client: spied, spy } = spiedClient(server, (put) =>
      put.partNumber === 1 ? { kind: 'status', status: 403, body: JSON.stringify({ error: 'nope', code: 'FORBIDDEN' }) } : undefined,
    );
    const error = await spied.upload(randomData(10), { workspaceId, retryDelay }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'FORBIDDEN', status: 403, partNumber: 1 });
    expect(spy.puts).toHaveLength(2);
    expect(countProcedures(spy, 'upload.signParts')).toBe(2);
  });

  it('fails with MISSING_ETAG, naming the CORS ExposeHeaders fix, when the ETag header is unreadable', async () => {
    const { client: spied } = spiedClient(server, () => ({ kind: 'strip-etag' }));
    const error = await spied.upload(randomData(10), { workspaceId }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'UploadError', code: 'MISSING_ETAG', partNumber: 1 });
    expect((error as Error).message).toMatch(/ExposeHeaders/);
    expect((error as Error).message).toMatch(/CORS/);
  });

  it("reports the server's code when it refuses to start, e.g. a file type off the allowlist", async () => {
    const error = await client.upload(randomData(10), { workspaceId, fileType: 'text/html' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UploadError);
    const code = (error as UploadError).code;
    // A switch over the typed union, as callers write it.
    switch (code) {
      case 'FILE_TYPE_NOT_ALLOWED':
        expect((error as UploadError).status).toBe(400);
        break;
      default:
        throw new Error(`unexpected code ${code}`);
    }
  });
});

describe('expired part URLs', () => {
  let server: TestServer;
  let clockOffsetMs = 0;

  beforeAll(async () => {
    server = await startLocalServer({ now: () => Date.now() + clockOffsetMs });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('signs a URL again when the store says it expired (403 on an old URL) and carries on', async () => {
    const data = randomData(3 * partSize);
    // Right before the first PUT, two hours pass on the server: every URL signed so far is stale.
    const { client: spied, spy } = spiedClient(server, (put) =>
      put.index === 0
        ? {
            kind: 'before',
            run: () => {
              clockOffsetMs = 2 * 3600_000;
            },
          }
        : undefined,
    );
    // Without checksums all three parts are signed ahead in one batch.
    const result = await spied.upload(data, { workspaceId, partSize, concurrency: 1, retryDelay, checksum: false });
    // One batch for all three parts, then one fresh URL per part.
    expect(countProcedures(spy, 'upload.signParts')).toBe(1 + 3);
    expect(spy.puts).toHaveLength(6);
    expect(await downloadedHash(createS3ServiceClient({ url: server.url }), workspaceId, result)).toEqual(expectedHash(data));
  });

  it('signs a checksummed part again when its URL expired, once per part', async () => {
    const data = randomData(3 * partSize);
    const start = clockOffsetMs;
    const { client: spied, spy } = spiedClient(server, (put) =>
      put.index === 0
        ? {
            kind: 'before',
            run: () => {
              clockOffsetMs = start + 2 * 3600_000;
            },
          }
        : undefined,
    );
    const result = await spied.upload(data, { workspaceId, partSize, concurrency: 1, retryDelay });
    // Parts are signed once hashed, up to two ahead of the one on the wire: those signed before the
    // clock moved are refused once each and signed again; none needs a third URL.
    const stale = spy.puts.length - 3;
    expect(stale).toBeGreaterThanOrEqual(1);
    expect(stale).toBeLessThanOrEqual(3);
    expect(countProcedures(spy, 'upload.signParts')).toBeLessThanOrEqual(3 + stale);
    expect(spy.storedPuts.map((put) => put.partNumber).sort()).toEqual([1, 2, 3]);
    expect(result.checksum).toMatch(/^[A-Za-z0-9+/]{43}=-3$/);
    expect(await downloadedHash(createS3ServiceClient({ url: server.url }), workspaceId, result)).toEqual(expectedHash(data));
  });
});

describe('part URLs that expired before use, on the local store', () => {
  let server: TestServer;
  let store: ReturnType<typeof expireFirstPartUrls>;

  beforeAll(async () => {
    server = await startServer(async (publicUrl) => {
      const dir = await mkdtemp(join(tmpdir(), 'client-expiry-'));
      store = expireFirstPartUrls(await createLocalStore({ dir, publicUrl }));
      return { store, close: () => rm(dir, { recursive: true, force: true }) };
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('reads the 403 INVALID_SIGNATURE of each streamed part PUT (no network error), re-signs at once and stores the bytes', async () => {
    const data = randomData(3 * partSize);
    const answers: Array<number | 'network'> = [];
    const recording: typeof fetch = async (input, init) => {
      if (init?.method !== 'PUT') return fetch(input, init);
      try {
        const response = await fetch(input, init);
        answers.push(response.status);
        return response;
      } catch (error) {
        answers.push('network');
        throw error;
      }
    };
    const client = createS3ServiceClient({ url: server.url, fetch: recording });
    // Retries would wait a minute: an upload that finishes in time re-signed on the 403 itself.
    const result = await client.upload(data, { workspaceId, partSize, concurrency: 1, retryDelay: { initialMs: 60_000, maxMs: 60_000 } });
    expect(store.expiredBatches()).toBe(1);
    // The first PUT meets the expiry as a readable 403; what the client re-signs after it is its choice.
    expect(answers[0]).toBe(403);
    expect(answers).not.toContain('network');
    expect(answers.filter((status) => status === 200)).toHaveLength(3);
    expect(await downloadedHash(createS3ServiceClient({ url: server.url }), workspaceId, result)).toEqual(expectedHash(data));
  });
});
