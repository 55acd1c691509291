import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.js';
import type { RateLimitOptions } from '../src/http/rate-limit.js';
import { connectRedisLimitStores, type RedisLimitStores } from '../src/http/rate-limit-redis.js';
import { silentLogger } from '../src/logger.js';
import { post, signPartsBatch, type UploadTarget } from './support/batch-attack.js';
import { useCleanups } from './support/cleanups.js';
import { rest } from './support/rest-client.js';
import { startLocalServer, type TestServer } from './support/server.js';

const { defer } = useCleanups();

async function serverWithLimits(rateLimits: RateLimitOptions, extra: Parameters<typeof startLocalServer>[0] = {}): Promise<TestServer> {
  const server = await startLocalServer({ rateLimits, ...extra });
  defer(() => server.close());
  return server;
}

/** A cheap call of each surface that names `workspaceId` (answers 404: there is no such object). */
function headOverRest(server: TestServer, workspaceId: string) {
  return rest(server.url, 'GET', '/s3/download', { query: { workspaceId, key: `${workspaceId}/digital_assets/none` } });
}

function headOverTrpc(server: TestServer, workspaceId: string) {
  const input = encodeURIComponent(JSON.stringify({ json: { workspaceId, key: `${workspaceId}/digital_assets/none` } }));
  return rest(server.url, 'GET', `/trpc/object.head?input=${input}`);
}

async function openUpload(server: TestServer, workspaceId: string): Promise<UploadTarget> {
  const started = await rest(server.url, 'GET', '/s3/start-upload', { query: { workspaceId, fileType: 'image/png' } });
  return { workspaceId, assetId: started.body.assetId, uploadId: started.body.uploadId };
}

/** The status of one signParts call of `parts` part numbers. */
async function sign(server: TestServer, upload: UploadTarget, parts: number): Promise<number> {
  return (await post(server.url, signPartsBatch(upload, 1, parts))).status;
}

/** Runs `count` calls, `concurrency` at a time. */
async function burst<T>(count: number, concurrency: number, call: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await call(index);
      }
    }),
  );
  return results;
}

describe('per-workspace rate limit', () => {
  it('answers 429 RATE_LIMITED to a burst of 1,000 calls from one workspace, while another workspace is served', {
    timeout: 60_000,
  }, async () => {
    const server = await serverWithLimits({ windowMs: 60_000, perIp: 100_000, perWorkspace: 100 });
    const answers = await burst(1_000, 50, (index) =>
      index % 2 === 0 ? headOverRest(server, 'ws-busy') : headOverTrpc(server, 'ws-busy'),
    );

    const limited = answers.filter((answer) => answer.status === 429);
    expect(answers.filter((answer) => answer.status === 404)).toHaveLength(100);
    expect(limited).toHaveLength(900);
    for (const answer of limited) {
      const retryAfter = Number(answer.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      const code = answer.body.code ?? answer.body.error?.json?.data?.code;
      expect(code).toBe('RATE_LIMITED');
    }
    const restRefusal = limited.find((answer) => answer.body.code);
    expect(Object.keys(restRefusal!.body).sort()).toEqual(['code', 'error']);
    const trpcRefusal = limited.find((answer) => answer.body.error?.json);
    expect(trpcRefusal!.body.error.json.data).toMatchObject({ code: 'RATE_LIMITED', httpStatus: 429 });

    expect((await headOverRest(server, 'ws-quiet')).status).toBe(404);
    expect((await headOverTrpc(server, 'ws-quiet')).status).toBe(404);
  });

  it('counts every call of a tRPC batch', { timeout: 20_000 }, async () => {
    const server = await serverWithLimits({ windowMs: 60_000, perIp: 1_000, perWorkspace: 5 });
    const call = { json: { workspaceId: 'ws-batch', key: 'ws-batch/digital_assets/none' } };
    const input = encodeURIComponent(JSON.stringify(Object.fromEntries(Array.from({ length: 8 }, (_, index) => [index, call]))));
    const batch = await rest(server.url, 'GET', `/trpc/${Array(8).fill('object.head').join(',')}?batch=1&input=${input}`);
    const codes = (batch.body as Array<{ error: { json: { data: { code: string } } } }>).map((item) => item.error.json.data.code);
    expect(codes.filter((code) => code === 'NOT_FOUND')).toHaveLength(5);
    expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(3);
  });

  it('lets signing calls spend the signed-URL budget instead of calls: one call a checksummed part', { timeout: 20_000 }, async () => {
    const server = await serverWithLimits({ windowMs: 60_000, perIp: 1_000, perWorkspace: 3, signedUrlsPerWorkspace: 25 });
    const upload = await openUpload(server, 'ws-sign-calls');
    // Twenty signing calls of one part each pass a budget of three calls...
    const statuses = await burst(20, 4, () => sign(server, upload, 1));
    expect(statuses.filter((status) => status === 200)).toHaveLength(20);
    // ...as long as the URLs they sign fit theirs.
    expect(await sign(server, upload, 6)).toBe(429);
    // Other calls still count: the start above spent one of the three.
    const heads = await Promise.all([
      headOverTrpc(server, 'ws-sign-calls'),
      headOverTrpc(server, 'ws-sign-calls'),
      headOverTrpc(server, 'ws-sign-calls'),
    ]);
    expect(heads.map((head) => head.status).sort()).toEqual([404, 404, 429]);
  });

  it('cannot be dodged by leaving workspaceId out: the per-IP limit counts those calls', { timeout: 20_000 }, async () => {
    const server = await serverWithLimits({ windowMs: 60_000, perIp: 20, perWorkspace: 1_000 });
    const answers = await burst(30, 5, () => rest(server.url, 'GET', '/s3/start-upload', { query: { fileType: 'image/png' } }));
    expect(answers.filter((answer) => answer.status === 400).map((answer) => answer.body.code)).toEqual(
      Array(20).fill('MISSING_PARAMETER'),
    );
    expect(answers.filter((answer) => answer.status === 429).map((answer) => answer.body.code)).toEqual(Array(10).fill('RATE_LIMITED'));
  });

  it('is not spent by callers who may not use the workspace', { timeout: 20_000 }, async () => {
    const server = await serverWithLimits(
      { windowMs: 60_000, perIp: 10_000, perWorkspace: 10 },
      {
        policy: {
          authorizeWorkspace: (caller) => {
            if (caller.headers['x-tenant'] === 'intruder') throw new AppError('FORBIDDEN', 'not your workspace');
          },
          authorizeAdmin: () => {},
        },
      },
    );
    const intrusions = await burst(50, 10, () =>
      rest(server.url, 'GET', '/s3/download', {
        query: { workspaceId: 'ws-victim', key: 'ws-victim/digital_assets/none' },
        headers: { 'x-tenant': 'intruder' },
      }),
    );
    expect(new Set(intrusions.map((answer) => answer.status))).toEqual(new Set([403]));
    expect((await headOverRest(server, 'ws-victim')).status).toBe(404);
  });
});

describe('per-IP rate limit', () => {
  it('refuses REST with { error, code } and tRPC in its own shape, both with Retry-After', { timeout: 20_000 }, async () => {
    const server = await serverWithLimits({ windowMs: 60_000, perIp: 4, perWorkspace: 0 });
    for (let index = 0; index < 4; index += 1) expect((await headOverRest(server, `ws-${index}`)).status).toBe(404);

    const refusedRest = await headOverRest(server, 'ws-other');
    expect({ status: refusedRest.status, body: refusedRest.body }).toEqual({
      status: 429,
      body: { error: expect.stringMatching(/too many requests from this address/), code: 'RATE_LIMITED' },
    });
    expect(Number(refusedRest.headers.get('retry-after'))).toBeGreaterThan(0);

    const refusedTrpc = await headOverTrpc(server, 'ws-other');
    expect(refusedTrpc.status).toBe(429);
    expect(refusedTrpc.body.error.json.data).toMatchObject({ code: 'RATE_LIMITED', httpStatus: 429 });
    expect(Number(refusedTrpc.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('never limits the health probes', { timeout: 20_000 }, async () => {
    const server = await serverWithLimits({ windowMs: 60_000, perIp: 2, perWorkspace: 0 });
    await burst(5, 1, () => headOverRest(server, 'ws-probe'));
    expect((await headOverRest(server, 'ws-probe')).status).toBe(429);
    for (let index = 0; index < 20; index += 1) {
      expect((await rest(server.url, 'GET', '/healthz')).status).toBe(200);
      expect((await rest(server.url, 'GET', '/readyz')).status).toBe(200);
    }
  });
});

/** `redis-server` from PATH (Debian: apt-get install redis-server), or REDIS_TEST_URL. */
function findRedisServer(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('rate limits shared through Redis', () => {
  let redis: ChildProcess | undefined;
  let redisUrl = process.env.REDIS_TEST_URL ?? '';
  const binary = redisUrl ? undefined : findRedisServer();
  const skipReason = redisUrl || binary ? '' : 'redis-server not found (apt-get install redis-server) and REDIS_TEST_URL unset';

  beforeAll(async () => {
    if (!binary) return;
    const port = await freePort();
    redis = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    redisUrl = `redis://127.0.0.1:${port}`;
    // Wait until it accepts connections.
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const stores = await connectRedisLimitStores(redisUrl, silentLogger).catch(() => undefined);
      if (stores) {
        await stores.close();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 20_000);
  afterAll(() => {
    redis?.kill('SIGKILL');
  });

  async function connected(): Promise<RedisLimitStores> {
    const stores = await connectRedisLimitStores(redisUrl, silentLogger);
    defer(() => stores.close());
    return stores;
  }

  it('refuses at once to start on a Redis that is not there', { timeout: 10_000 }, async () => {
    const started = Date.now();
    await expect(connectRedisLimitStores(`redis://127.0.0.1:${await freePort()}`, silentLogger)).rejects.toThrow(/ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('holds one workspace budget across two instances', { timeout: 30_000 }, async (context) => {
    if (skipReason) context.skip(skipReason);
    const [first, second] = [await connected(), await connected()];
    const workspaceId = `ws-shared-${Date.now().toString(36)}`;
    const limits = { windowMs: 60_000, perIp: 0, perWorkspace: 10 };
    const one = await serverWithLimits({ ...limits, createStore: first.createStore });
    const two = await serverWithLimits({ ...limits, createStore: second.createStore });
    const answers = [];
    for (let index = 0; index < 14; index += 1) answers.push((await headOverRest(index % 2 ? two : one, workspaceId)).status);
    expect(answers.filter((status) => status === 404)).toHaveLength(10);
    expect(answers.slice(10)).toEqual([429, 429, 429, 429]);
  });

  it('holds one budget of signed part URLs across two instances, weighed by the URLs', { timeout: 30_000 }, async (context) => {
    if (skipReason) context.skip(skipReason);
    const [first, second] = [await connected(), await connected()];
    const workspaceId = `ws-urls-${Date.now().toString(36)}`;
    const limits = { windowMs: 60_000, perIp: 0, perWorkspace: 1_000, signedUrlsPerWorkspace: 300 };
    const one = await serverWithLimits({ ...limits, createStore: first.createStore, createWorkStore: first.createWorkStore });
    const two = await serverWithLimits({ ...limits, createStore: second.createStore, createWorkStore: second.createWorkStore });
    const [onOne, onTwo] = [await openUpload(one, workspaceId), await openUpload(two, workspaceId)];
    expect(await sign(one, onOne, 200)).toBe(200);
    expect(await sign(two, onTwo, 100)).toBe(200);
    expect(await sign(two, onTwo, 1)).toBe(429);
    const refused = await post(one.url, signPartsBatch(onOne, 1, 1));
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text)[0].error.json.data.code).toBe('RATE_LIMITED');
  });

  it('lets requests through, promptly, when Redis goes away', { timeout: 30_000 }, async (context) => {
    if (skipReason || !redis) context.skip(skipReason || 'needs a redis-server this test may stop');
    const stores = await connected();
    const server = await serverWithLimits({
      windowMs: 60_000,
      perIp: 5,
      perWorkspace: 5,
      signedUrlsPerWorkspace: 5,
      createStore: stores.createStore,
      createWorkStore: stores.createWorkStore,
    });
    const upload = await openUpload(server, 'ws-outage');
    expect((await headOverRest(server, 'ws-outage')).status).toBe(404);
    redis!.kill('SIGKILL');
    await once(redis!, 'exit');
    const started = Date.now();
    for (let index = 0; index < 10; index += 1) expect((await headOverRest(server, 'ws-outage')).status).toBe(404);
    // More URLs than the budget holds: nothing can be counted, so signing goes on.
    expect(await sign(server, upload, 10)).toBe(200);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
