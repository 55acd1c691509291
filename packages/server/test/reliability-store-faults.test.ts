import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { createLocalStore } from '../src/storage/local/index.js';
import type { S3Timeouts } from '../src/storage/s3/index.js';
import { useCleanups } from './support/cleanups.js';
import { type RestAnswer, rest } from './support/rest-client.js';
import { answerS3Error, closedPortEndpoint, type FakeHandler, fakeS3Store, startFakeS3 } from './support/s3-fake-server.js';
import { startServer, type TestServer } from './support/server.js';

/** Every test here ends well within this, whatever the store does. */
const BOUND_MS = 15_000;

const { defer, tempDir } = useCleanups();

/** The real app over the S3 driver pointed at `endpoint`, with short store timeouts. */
async function apiOnS3(endpoint: string, timeouts: Partial<S3Timeouts> = {}): Promise<TestServer> {
  const server = await startServer(
    async () => ({
      store: fakeS3Store(endpoint, { timeouts }),
    }),
    { readinessTimeoutMs: 1_000 },
  );
  defer(() => server.close());
  return server;
}

async function fakeS3(handler: FakeHandler) {
  const server = await startFakeS3(handler);
  defer(() => server.close());
  return server;
}

const key = 'ws-faults/digital_assets/asset1';
const download = (server: TestServer) => rest(server.url, 'GET', '/s3/download', { query: { workspaceId: 'ws-faults', key } });

async function timed(task: Promise<RestAnswer>): Promise<RestAnswer & { ms: number }> {
  const started = performance.now();
  const answer = await task;
  return { ...answer, ms: performance.now() - started };
}

describe('the API when the store is unreachable', () => {
  it('answers 502 S3_ERROR fast, fails readiness, stays alive and keeps serving', { timeout: BOUND_MS }, async () => {
    const server = await apiOnS3(await closedPortEndpoint(), { connect: 1_000 });

    const answer = await timed(download(server));
    expect({ status: answer.status, code: answer.body.code }).toEqual({ status: 502, code: 'S3_ERROR' });
    expect(answer.body.error).toMatch(/could not reach S3 .*ECONNREFUSED/);
    expect(answer.ms).toBeLessThan(5_000);

    const ready = await rest(server.url, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'unavailable', code: 'S3_ERROR' });
    expect(ready.body.error).toMatch(/S3 could not be reached/);

    const live = await rest(server.url, 'GET', '/healthz');
    expect({ status: live.status, body: live.body }).toEqual({ status: 200, body: { status: 'ok' } });

    // tRPC callers get the same code, and the process answers the next request just as well.
    const trpc = await rest(
      server.url,
      'GET',
      `/trpc/object.head?input=${encodeURIComponent(JSON.stringify({ json: { workspaceId: 'ws-faults', key } }))}`,
    );
    expect(trpc.status).toBe(502);
    expect(trpc.body.error.json.data.code).toBe('S3_ERROR');
    expect((await download(server)).status).toBe(502);
  });
});

describe('the API when the store is slow', () => {
  it('answers 504 STORE_TIMEOUT within the per-call timeout, and slow calls do not pile up', { timeout: BOUND_MS }, async () => {
    let open = 0;
    let seen = 0;
    const fake = await fakeS3((_request, response) => {
      // Accept and never answer; count the requests S3 would still be holding.
      seen += 1;
      open += 1;
      response.once('close', () => (open -= 1));
    });
    const server = await apiOnS3(fake.endpoint, { response: 300 });

    const answers = await Promise.all(Array.from({ length: 20 }, () => timed(download(server))));
    for (const answer of answers) {
      expect({ status: answer.status, code: answer.body.code }).toEqual({ status: 504, code: 'STORE_TIMEOUT' });
      expect(answer.ms).toBeLessThan(6_000);
    }
    expect(answers[0]!.body.error).toMatch(/GetObject failed: S3 did not answer in time/);
    // Every attempt the driver gave up on was cut, so the stalled store holds no connection of ours.
    await expect.poll(() => open, { timeout: 2_000 }).toBe(0);
    expect(seen).toBeGreaterThanOrEqual(20);

    // A later request is answered on its own time, not after a queue of earlier ones.
    const later = await timed(download(server));
    expect(later.status).toBe(504);
    expect(later.ms).toBeLessThan(4_000);

    const ready = await timed(rest(server.url, 'GET', '/readyz'));
    expect(ready.status).toBe(503);
    expect(ready.body.code).toBe('STORE_TIMEOUT');
    expect(ready.ms).toBeLessThan(2_500);
  });
});

describe('the API when S3 throttles', () => {
  it('retries two 503 SlowDown answers and serves the download', { timeout: BOUND_MS }, async () => {
    const body = Buffer.from('bytes after throttling');
    const fake = await fakeS3((_request, response, index) => {
      if (index < 2) {
        answerS3Error(response, 503, 'SlowDown', 'Please reduce your request rate.', `slow-${index}`);
        return;
      }
      response.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': body.length,
        etag: '"0123456789abcdef0123456789abcdef"',
        'last-modified': new Date().toUTCString(),
      });
      response.end(body);
    });
    const server = await apiOnS3(fake.endpoint);

    const response = await fetch(`${server.url}/s3/download?workspaceId=ws-faults&key=${encodeURIComponent(key)}`);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(body);
    expect(fake.requests.map((seen) => `${seen.method} ${seen.url}`)).toEqual(
      Array.from({ length: 3 }, () => `GET /fault-bucket/${key}?x-id=GetObject`),
    );
  });
});

describe('readiness of the local store', () => {
  it('fails (503) while the data folder is gone, keeps liveness at 200, and recovers', async () => {
    const dir = await tempDir('readiness-test-');
    const server = await startServer(async (publicUrl) => ({ store: await createLocalStore({ dir, publicUrl }) }));
    defer(() => server.close());
    expect((await rest(server.url, 'GET', '/readyz')).body).toEqual({ status: 'ready', store: 'local', catalog: 'pglite' });

    await rm(join(dir, 'uploads'), { recursive: true });
    const ready = await rest(server.url, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'unavailable', code: 'S3_ERROR', error: expect.stringMatching(/missing/) });
    expect((await rest(server.url, 'GET', '/healthz')).status).toBe(200);

    await mkdir(join(dir, 'uploads'));
    expect((await rest(server.url, 'GET', '/readyz')).status).toBe(200);
  });
});
