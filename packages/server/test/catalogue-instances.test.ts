import { randomUUID } from 'node:crypto';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import pg from 'pg';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '../src/index.js';
import { createS3Store } from '../src/storage/s3/index.js';
import { API_MAIN, type ApiProcess, killApi, runScript, startApi } from './support/api-process.js';
import { MiB, putPart, randomData, sha256 } from './support/bytes.js';
import { isPostgresSkipped, startPostgres, type TestPostgres } from './support/postgres.js';
import { freePort } from './support/processes.js';
import { startRedis, type TestRedis } from './support/redis.js';
import { apiEnvFor, type S3Emulator } from './support/s3-emulator.js';
import { useS3Emulator } from './support/s3-emulator-fixture.js';
import { s3StoreOptions } from './support/s3-harness.js';

const trpcAt = (api: ApiProcess) =>
  createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${api.url}/trpc`, transformer: superjson })] });

/** An API process on the S3 emulator and one PostgreSQL database. */
function apiEnv(emulator: S3Emulator, databaseUrl: string): Record<string, string> {
  return { ...apiEnvFor(emulator), DATABASE_URL: databaseUrl };
}

const postgresResult = await startPostgres();
const postgres = isPostgresSkipped(postgresResult) ? undefined : (postgresResult as TestPostgres);
afterAll(() => postgres?.destroy());

describe.skipIf(!postgres)('two API instances on one PostgreSQL, one versitygw and one Redis', () => {
  const s3 = useS3Emulator();
  let redis: TestRedis;
  const apis: ApiProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    try {
      s3.emulator;
    } catch {
      return;
    }
    const databaseUrl = await postgres!.createDatabase();
    const env = {
      ...apiEnv(s3.emulator, databaseUrl),
      WORKSPACE_QUOTA_BYTES: String(3 * MiB),
      ...('url' in redis ? { REDIS_URL: redis.url } : {}),
    };
    // Both start at once: one applies the migrations while the other waits for its lock.
    apis.push(...(await Promise.all([startApi(env), startApi(env)])));
    return async () => {
      await Promise.all(apis.map(killApi));
      if ('stop' in redis) redis.stop();
    };
  }, 60_000);

  it('starts on one, signs and PUTs through the other, completes on the first, lists and downloads on the second', async (context) => {
    s3.skipUnlessRunning(context);
    const [first, second] = apis.map(trpcAt) as [ReturnType<typeof trpcAt>, ReturnType<typeof trpcAt>];
    const workspaceId = `ws-${randomUUID().slice(0, 8)}`;
    const data = randomData(MiB + 17);
    const started = await first.upload.start.mutate({
      workspaceId,
      fileType: 'application/pdf',
      fileName: 'report.pdf',
      fileSize: data.length,
    });
    expect((await second.upload.listOpen.query({ workspaceId })).uploads.map((upload) => upload.fileName)).toEqual(['report.pdf']);
    const { parts } = await second.upload.signParts.mutate({
      workspaceId,
      assetId: started.assetId,
      uploadId: started.uploadId,
      partNumbers: [1],
    });
    const put = await putPart(parts[0]!.url, data);
    expect(put.status).toBe(200);
    const completed = await first.upload.complete.mutate({
      workspaceId,
      assetId: started.assetId,
      uploadId: started.uploadId,
      parts: [{ partNumber: 1, etag: put.etag! }],
    });
    expect(completed).toMatchObject({ key: started.key, size: data.length, fileName: 'report.pdf' });
    const listed = await second.object.list.query({ workspaceId });
    expect(listed.objects.map((object) => [object.fileName, object.size])).toEqual([['report.pdf', data.length]]);
    const download = await fetch(`${apis[1]!.url}/s3/download?${new URLSearchParams({ workspaceId, key: started.key })}`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe('attachment; filename=report.pdf');
    expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(data));
    expect((await first.upload.listOpen.query({ workspaceId })).uploads).toEqual([]);
  }, 60_000);

  it('holds one quota across both instances under concurrent uploads', async (context) => {
    s3.skipUnlessRunning(context);
    const clients = apis.map(trpcAt);
    const workspaceId = `ws-${randomUUID().slice(0, 8)}`;
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        clients[index % 2]!.upload.start.mutate({ workspaceId, fileType: 'image/png', fileSize: MiB }).then(
          () => 'started',
          (error: unknown) => (error instanceof TRPCClientError ? (error.data?.code as string) : String(error)),
        ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === 'started')).toHaveLength(3);
    expect(outcomes.filter((outcome) => outcome === 'QUOTA_EXCEEDED')).toHaveLength(5);
    expect(await clients[1]!.workspace.usage.query({ workspaceId })).toMatchObject({
      openUploads: 3,
      reservedBytes: 3 * MiB,
      quotaBytes: 3 * MiB,
    });
  }, 60_000);
});

describe.skipIf(!postgres)("SIGKILL between the store's complete and the catalogue's write", () => {
  const s3 = useS3Emulator();

  it('leaves a state the retried complete repairs: the asset is listed once, with its name', async (context) => {
    s3.skipUnlessRunning(context);
    const { emulator } = s3;
    const databaseUrl = await postgres!.createDatabase();
    const env = apiEnv(emulator, databaseUrl);
    const store = createS3Store(s3StoreOptions(emulator));
    const first = await startApi(env);
    const workspaceId = `ws-${randomUUID().slice(0, 8)}`;
    const data = randomData(5000);
    const trpc = trpcAt(first);
    const started = await trpc.upload.start.mutate({
      workspaceId,
      fileType: 'application/pdf',
      fileName: 'kill.pdf',
      fileSize: data.length,
    });
    const { parts } = await trpc.upload.signParts.mutate({
      workspaceId,
      assetId: started.assetId,
      uploadId: started.uploadId,
      partNumbers: [1],
    });
    const put = await putPart(parts[0]!.url, data);
    const completeInput = {
      workspaceId,
      assetId: started.assetId,
      uploadId: started.uploadId,
      parts: [{ partNumber: 1, etag: put.etag! }],
    };

    // The upload's row is held by another transaction, so the write that follows the store's complete waits on it.
    const holder = new pg.Client({ connectionString: databaseUrl });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select * from uploads where upload_id = $1 for update', [started.uploadId]);
      const completing = trpc.upload.complete.mutate(completeInput).catch((error: unknown) => error);
      await waitFor(async () => (await store.headObject(started.key)) !== null);
      // The catalogue's write is now waiting on the lock. A single statement runs to its end even
      // after its client died, so the API's connection is cut first: the write never happens, as
      // when the process dies before sending it. Then the process is killed.
      const waiting = `select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
      await waitFor(async () => (await holder.query(waiting)).rowCount! > 0);
      await holder.query(`select pg_terminate_backend(pid) from (${waiting}) as blocked`);
      await killApi(first);
      expect(await completing).toBeInstanceOf(TRPCClientError);
      await holder.query('rollback');
    } finally {
      await holder.end();
    }
    const [row] = (await queryOnce(databaseUrl, 'select state from uploads where upload_id = $1', [started.uploadId])).rows;
    expect(row).toEqual({ state: 'open' });

    const second = await startApi(env);
    try {
      const retried = await trpcAt(second).upload.complete.mutate(completeInput);
      expect(retried).toMatchObject({ key: started.key, size: data.length, fileName: 'kill.pdf' });
      const listed = await trpcAt(second).object.list.query({ workspaceId });
      expect(listed.objects.map((object) => [object.key, object.fileName])).toEqual([[started.key, 'kill.pdf']]);
      expect(await trpcAt(second).workspace.usage.query({ workspaceId })).toMatchObject({
        assets: 1,
        storedBytes: data.length,
        openUploads: 0,
      });
    } finally {
      await killApi(second);
      await store.close?.();
    }
  }, 60_000);
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the condition did not become true in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function queryOnce(url: string, text: string, values: unknown[]) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

describe('start-up without its database', () => {
  it('exits 1 with one line naming DATABASE_URL (password hidden) when PostgreSQL cannot be reached', async () => {
    const port = await freePort();
    const api = runScript(API_MAIN, { DATABASE_URL: `postgres://app:hunter2secret@127.0.0.1:${port}/assets` });
    const { code } = await api.exited;
    expect(code).toBe(1);
    const lines = api.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^s3-service cannot start: DATABASE_URL=postgres://app:\\*\\*\\*@127\\.0\\.0\\.1:${port}/assets: PostgreSQL cannot be reached`,
      ),
    );
    expect(api.stderr()).not.toContain('hunter2secret');
  }, 30_000);

  it('refuses a DATABASE_URL that is not a postgres URL', async () => {
    const api = runScript(API_MAIN, { DATABASE_URL: 'mysql://localhost/x' });
    expect((await api.exited).code).toBe(1);
    expect(api.stderr()).toContain('DATABASE_URL=mysql://localhost/x: must be a postgres:// or postgresql:// URL');
  }, 30_000);
});
