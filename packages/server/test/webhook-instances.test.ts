import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '../src/index.js';
import { API_MAIN, type ApiProcess, CLEANUP_COMMAND, killApi, runScript } from './support/api-process.js';
import { randomData } from './support/bytes.js';
import { useCleanups } from './support/cleanups.js';
import { isPostgresSkipped, startPostgres } from './support/postgres.js';
import { completeUpload, uploadParts } from './support/rest-client.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

const { defer, tempDir } = useCleanups();

/** The API as deployed, with loopback receivers allowed and quick polls and retries. */
const WEBHOOK_ENV = {
  WEBHOOK_ALLOWED_PRIVATE_TARGETS: 'loopback',
  WEBHOOK_TIMEOUT_MS: '1000',
  WEBHOOK_BACKOFF_BASE_MS: '100',
  WEBHOOK_BACKOFF_MAX_MS: '500',
  EVENT_POLL_INTERVAL_MS: '50',
};

/** startApi with more patience: a PGlite folder's first open on a machine this busy can take longer than its 20 s. */
async function started(env: Record<string, string>): Promise<ApiProcess> {
  const api = runScript(API_MAIN, { ...WEBHOOK_ENV, ...env });
  defer(() => killApi(api));
  const line = await api.waitForLog((entry) => typeof entry.url === 'string' && entry.msg !== undefined, 60_000);
  api.url = line.url as string;
  return api;
}

async function receiver(): Promise<WebhookReceiver> {
  const hook = await startWebhookReceiver();
  defer(() => hook.close());
  return hook;
}

/** `pnpm dispatch-webhooks`, beside cleanup-uploads. */
const DISPATCH_COMMAND = join(CLEANUP_COMMAND, '..', 'dispatch-webhooks.ts');

const trpcAt = (api: ApiProcess) =>
  createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${api.url}/trpc`, transformer: superjson })] });

const newWorkspace = () => `ws-${randomUUID().slice(0, 8)}`;

async function uploadOne(api: ApiProcess, workspaceId: string): Promise<string> {
  const upload = await uploadParts(api.url, workspaceId, [randomData(64)]);
  const done = await completeUpload(api.url, upload);
  expect(done.status).toBe(200);
  return upload.key;
}

/** How often the receiver got each webhook-id. */
function countById(hook: WebhookReceiver): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of hook.requests) {
    const id = String(request.headers['webhook-id']);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a delivery outlives the process that recorded it (SIGKILL, embedded catalogue)', () => {
  it('delivers after a restart what a process killed before sending recorded, once, with the same id', { timeout: 60_000 }, async () => {
    const dir = await tempDir('webhook-kill-');
    const hook = await receiver();
    const workspaceId = newWorkspace();
    // This process records events but sends none: the kill comes after complete and before any delivery.
    const first = await started({ STORAGE_DIR: dir, WEBHOOK_DISPATCHER: 'false' });
    await trpcAt(first).webhook.add.mutate({ workspaceId, url: hook.url, eventTypes: ['asset.created'] });
    const key = await uploadOne(first, workspaceId);
    const [pending] = (await trpcAt(first).webhook.deliveries.query({ workspaceId })).deliveries;
    expect(pending).toMatchObject({ state: 'pending', attempts: 0, eventType: 'asset.created' });
    first.child.kill('SIGKILL');
    await first.exited;
    expect(hook.requests).toHaveLength(0);

    const second = await started({ STORAGE_DIR: dir });
    const [request] = await hook.waitFor(1, 15_000);
    expect(request!.headers['webhook-id']).toBe(pending!.eventId);
    expect(JSON.parse(request!.body.toString()).data.key).toBe(key);
    await sleep(500);
    expect(hook.requests).toHaveLength(1);
    const [delivered] = (await trpcAt(second).webhook.deliveries.query({ workspaceId })).deliveries;
    expect(delivered).toMatchObject({ state: 'delivered', attempts: 1 });
  });

  it('sends again, with the same id, a delivery whose receiver had not answered when the process was killed', {
    timeout: 60_000,
  }, async () => {
    const dir = await tempDir('webhook-kill-');
    const hook = await receiver();
    hook.script('hang');
    const workspaceId = newWorkspace();
    const first = await started({ STORAGE_DIR: dir });
    await trpcAt(first).webhook.add.mutate({ workspaceId, url: hook.url, eventTypes: ['asset.created'] });
    await uploadOne(first, workspaceId);
    // The attempt is in flight, unanswered: the process dies holding its lease.
    const [held] = await hook.waitFor(1, 15_000);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await started({ STORAGE_DIR: dir });
    // Due again once the lease (timeout + 10 s) runs out.
    const requests = await hook.waitFor(2, 30_000);
    expect(requests[1]!.headers['webhook-id']).toBe(held!.headers['webhook-id']);
    expect(requests[1]!.body.equals(held!.body)).toBe(true);
    await sleep(500);
    expect(hook.requests).toHaveLength(2);
    const [delivered] = (await trpcAt(second).webhook.deliveries.query({ workspaceId })).deliveries;
    expect(delivered).toMatchObject({ state: 'delivered', attempts: 2 });
    expect(delivered!.attemptLog).toHaveLength(1);
  });
});

const postgresResult = await startPostgres();
const postgres = isPostgresSkipped(postgresResult) ? undefined : postgresResult;
afterAll(() => postgres?.destroy());

describe.skipIf(!postgres)('two API processes on one PostgreSQL', () => {
  it('delivers each of 200 events exactly once between them', { timeout: 120_000 }, async () => {
    const databaseUrl = await postgres!.createDatabase();
    const hook = await receiver();
    const workspaceId = newWorkspace();
    const apis = await Promise.all([started({ DATABASE_URL: databaseUrl }), started({ DATABASE_URL: databaseUrl })]);
    await trpcAt(apis[0]!).webhook.add.mutate({ workspaceId, url: hook.url, eventTypes: ['asset.created'] });
    // 100 uploads through each (its own local store), 4 at a time per process.
    const keys: string[] = [];
    await Promise.all(
      apis.flatMap((api) =>
        Array.from({ length: 4 }, async () => {
          for (let index = 0; index < 25; index++) keys.push(await uploadOne(api, workspaceId));
        }),
      ),
    );
    expect(keys).toHaveLength(200);
    await hook.waitFor(200, 60_000);
    await sleep(1_000);
    const counts = countById(hook);
    expect(counts.size).toBe(200);
    expect([...counts.values()].filter((count) => count !== 1)).toEqual([]);
    const deliveredKeys = hook.requests.map((request) => JSON.parse(request.body.toString()).data.key as string);
    expect(new Set(deliveredKeys)).toEqual(new Set(keys));
    const { deliveries } = await trpcAt(apis[1]!).webhook.deliveries.query({ workspaceId, state: 'pending' });
    expect(deliveries).toEqual([]);
  });
});

describe('pnpm dispatch-webhooks', () => {
  it('refuses the embedded catalogue, which belongs to the API process', { timeout: 60_000 }, async () => {
    const command = runScript(DISPATCH_COMMAND, { STORAGE_DIR: await tempDir('webhook-dispatch-') });
    defer(() => killApi(command));
    expect(await command.exited).toEqual({ code: 1, signal: null });
    expect(command.stderr()).toMatch(/dispatch-webhooks failed: the embedded catalogue \(PGlite\) belongs to the API process/);
  });

  it.skipIf(!postgres)(
    'delivers, beside an API started with WEBHOOK_DISPATCHER=false, and stops on SIGTERM',
    { timeout: 90_000 },
    async () => {
      const databaseUrl = await postgres!.createDatabase();
      const hook = await receiver();
      const workspaceId = newWorkspace();
      const api = await started({ DATABASE_URL: databaseUrl, WEBHOOK_DISPATCHER: 'false' });
      await trpcAt(api).webhook.add.mutate({ workspaceId, url: hook.url, eventTypes: ['asset.created'] });
      const key = await uploadOne(api, workspaceId);
      await sleep(500);
      expect(hook.requests).toHaveLength(0);
      const dispatcher = runScript(DISPATCH_COMMAND, { ...WEBHOOK_ENV, DATABASE_URL: databaseUrl });
      defer(() => killApi(dispatcher));
      const [request] = await hook.waitFor(1, 30_000);
      expect(JSON.parse(request!.body.toString()).data.key).toBe(key);
      dispatcher.child.kill('SIGTERM');
      expect(await dispatcher.exited).toEqual({ code: 0, signal: null });
      const [delivered] = (await trpcAt(api).webhook.deliveries.query({ workspaceId })).deliveries;
      expect(delivered).toMatchObject({ state: 'delivered', attempts: 1 });
    },
  );
});
