import { randomUUID } from 'node:crypto';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJwtPolicy } from '../src/auth/jwt-policy.js';
import { mintToken } from '../src/auth/mint-token.js';
import type { Catalog } from '../src/catalog/catalog.js';
import { openPostgresCatalog } from '../src/catalog/postgres.js';
import type { SqlDatabase } from '../src/catalog/sql-catalog.js';
import { claimStatement } from '../src/catalog/webhook-deliveries.js';
import type { WebhookSettings } from '../src/config.js';
import { backoffDelay, exponentialDelay } from '../src/events/backoff.js';
import type { AppRouter } from '../src/index.js';
import { putPart, randomData } from './support/bytes.js';
import { isPostgresSkipped, startPostgres } from './support/postgres.js';
import { startLocalServer, type TestServer } from './support/server.js';
import { codeOf } from './support/trpc-error.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const SUBJECT = 'alice@example.com';
const policy = createJwtPolicy({ mode: 'jwt', secret: SECRET, workspacesClaim: 'workspaces', roleClaim: 'role', adminRole: 'admin' });
/** Small backoff and timeout, so retries happen within a test; loopback allowed, as the tests' receivers are there. */
const FAST: Partial<WebhookSettings> = {
  allowedPrivateTargets: ['loopback'],
  timeoutMs: 500,
  backoffBaseMs: 50,
  backoffMaxMs: 200,
};

type Trpc = ReturnType<typeof createTRPCClient<AppRouter>>;

const newWorkspace = () => `ws-${randomUUID().slice(0, 8)}`;

/** An admin of `workspaceId` (the webhook procedures need both), whose token names SUBJECT. */
async function adminOf(server: TestServer, workspaceId: string): Promise<Trpc> {
  const token = await mintToken({ secret: SECRET, workspaces: [workspaceId], admin: true, subject: SUBJECT });
  return createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${server.url}/trpc`, transformer: superjson, headers: { authorization: `Bearer ${token}` } })],
  });
}

/** start, one signed PUT and complete, over the real API. */
async function upload(trpc: Trpc, workspaceId: string, fileName: string, size = 1000) {
  const data = randomData(size);
  const { uploadId, assetId, key } = await trpc.upload.start.mutate({ workspaceId, fileType: 'application/pdf', fileName, fileSize: size });
  const { parts } = await trpc.upload.signParts.mutate({ workspaceId, assetId, uploadId, partNumbers: [1] });
  const put = await putPart(parts[0]!.url, data);
  expect(put.status).toBe(200);
  const completed = await trpc.upload.complete.mutate({ workspaceId, assetId, uploadId, parts: [{ partNumber: 1, etag: put.etag! }] });
  // The object's ETag, as complete answers it: a multipart one (`"...-1"`), not the part's.
  return { key, assetId, uploadId, etag: completed.etag, size };
}

async function addEndpoint(trpc: Trpc, workspaceId: string, url: string) {
  return trpc.webhook.add.mutate({ workspaceId, url, eventTypes: ['asset.created', 'asset.deleted'] });
}

async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function deliveryOf(trpc: Trpc, workspaceId: string, state?: 'pending' | 'delivered' | 'failed') {
  return eventually(
    async () => {
      const { deliveries } = await trpc.webhook.deliveries.query({ workspaceId });
      return deliveries.find((delivery) => state === undefined || delivery.state === state);
    },
    15_000,
    `a ${state ?? ''} delivery`,
  );
}

const bodyOf = (request: { body: Buffer }) => JSON.parse(request.body.toString('utf8'));
const headersOf = (request: { headers: Record<string, unknown> }) => request.headers as Record<string, string>;

describe('the retry schedule', () => {
  const rules = { baseMs: 100, maxMs: 1_000 };

  it('doubles from the base with every failed attempt, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => exponentialDelay(attempt, rules))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(exponentialDelay(5_000, rules)).toBe(1_000);
  });

  it('full jitter spreads from 0 to the exponential wait; equal jitter from half of it', () => {
    expect(backoffDelay(3, { ...rules, jitter: 'full' }, () => 0)).toBe(0);
    expect(backoffDelay(3, { ...rules, jitter: 'full' }, () => 0.999_999)).toBe(399);
    expect(backoffDelay(3, { ...rules, jitter: 'equal' }, () => 0)).toBe(200);
    expect(backoffDelay(3, { ...rules, jitter: 'equal' }, () => 0.5)).toBe(300);
    const spread = Array.from({ length: 2_000 }, () => backoffDelay(4, { ...rules, jitter: 'full' }));
    expect(Math.min(...spread)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...spread)).toBeLessThan(800);
    // Not all in one instant: a herd of retries is spread over the whole span.
    expect(new Set(spread.map((ms) => Math.floor(ms / 100))).size).toBe(8);
  });
});

describe('webhook deliveries to receivers on loopback (local store, PGlite)', () => {
  let server: TestServer;
  const receivers: WebhookReceiver[] = [];
  const receiver = async () => {
    const started = await startWebhookReceiver();
    receivers.push(started);
    return started;
  };

  beforeAll(async () => {
    server = await startLocalServer({ policy, webhooks: FAST, eventPollIntervalMs: 50 });
    return async () => {
      await server.close();
      for (const started of receivers) await started.close();
    };
  });

  it('delivers asset.created once per upload, signed to Standard Webhooks, then asset.deleted after the delete, in order', async () => {
    const workspaceId = newWorkspace();
    const trpc = await adminOf(server, workspaceId);
    const hook = await receiver();
    const { secret, endpointId } = await addEndpoint(trpc, workspaceId, hook.url);
    const first = await upload(trpc, workspaceId, 'first.pdf', 1000);
    const second = await upload(trpc, workspaceId, 'second.pdf', 2000);
    await hook.waitFor(2);
    await trpc.object.delete.mutate({ workspaceId, key: first.key });
    await hook.waitFor(3);
    // Time for a duplicate to show up, were there one.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(hook.requests).toHaveLength(3);

    const verifier = new Webhook(secret);
    const events = hook.requests.map((request) => {
      expect(request.method).toBe('POST');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['user-agent']).toBe('s3-service-webhooks/1');
      // Throws unless the signature is the endpoint's over these exact bytes, id and timestamp.
      const verified = verifier.verify(request.body, headersOf(request)) as { id: string };
      expect(request.headers['webhook-id']).toBe(verified.id);
      expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
      return bodyOf(request);
    });
    expect(() =>
      new Webhook(`whsec_${Buffer.from('another key').toString('base64')}`).verify(hook.requests[0]!.body, headersOf(hook.requests[0]!)),
    ).toThrow();
    expect(new Set(events.map((event) => event.id)).size).toBe(3);

    const created = events.filter((event) => event.type === 'asset.created');
    expect(created.map((event) => event.data.key).sort()).toEqual([first.key, second.key].sort());
    for (const [made, event] of [first, second].map((made) => [made, created.find((e) => e.data.key === made.key)] as const)) {
      expect(event).toMatchObject({
        id: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
        type: 'asset.created',
        workspaceId,
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        data: {
          key: made.key,
          assetId: made.assetId,
          uploadId: made.uploadId,
          fileName: made === first ? 'first.pdf' : 'second.pdf',
          contentType: 'application/pdf',
          size: made.size,
          etag: made.etag,
          createdBy: SUBJECT,
        },
      });
    }
    const deletedAt = events.findIndex((event) => event.type === 'asset.deleted');
    expect(events[deletedAt]).toMatchObject({
      type: 'asset.deleted',
      workspaceId,
      data: { key: first.key, assetId: first.assetId, deletedBy: SUBJECT },
    });
    expect(events.findIndex((event) => event.type === 'asset.created' && event.data.key === first.key)).toBeLessThan(deletedAt);

    const { deliveries } = await trpc.webhook.deliveries.query({ workspaceId, endpointId });
    expect(deliveries.map((delivery) => [delivery.eventType, delivery.state, delivery.attempts])).toEqual([
      ['asset.deleted', 'delivered', 1],
      ['asset.created', 'delivered', 1],
      ['asset.created', 'delivered', 1],
    ]);
    expect(deliveries[0]!.attemptLog).toEqual([{ at: expect.any(String), status: 204, error: null, durationMs: expect.any(Number) }]);
  });

  it('retries a receiver that answers 500 three times, with the same webhook-id, until it answers 200; the log shows every attempt', async () => {
    const workspaceId = newWorkspace();
    const trpc = await adminOf(server, workspaceId);
    const hook = await receiver();
    hook.script({ status: 500, body: 'database is down' }, { status: 500 }, { status: 500 });
    hook.answerAlways({ status: 200, body: 'ok' });
    await addEndpoint(trpc, workspaceId, hook.url);
    const made = await upload(trpc, workspaceId, 'retried.pdf');
    const requests = await hook.waitFor(4);
    expect(new Set(requests.map((request) => request.headers['webhook-id'])).size).toBe(1);
    expect(bodyOf(requests[3]!).data.key).toBe(made.key);
    // Each retry waited at least half its exponential wait (from 50 ms, equal jitter): 25, 50, 100 ms.
    for (let index = 1; index < 4; index++) {
      expect(requests[index]!.at - requests[index - 1]!.at).toBeGreaterThanOrEqual(25 * 2 ** (index - 1) - 2);
    }

    const delivery = await deliveryOf(trpc, workspaceId, 'delivered');
    expect(delivery.attempts).toBe(4);
    expect(delivery.attemptLog.map((attempt) => attempt.status)).toEqual([500, 500, 500, 200]);
    expect(delivery.attemptLog[0]!.error).toBe('HTTP 500: database is down');
    expect(delivery.attemptLog[3]!.error).toBeNull();
    expect(delivery).toMatchObject({ lastStatus: 200, lastError: null, nextAttemptAt: null, deliveredAt: expect.any(Date) });
    expect(hook.requests).toHaveLength(4);
  });

  it('times out a receiver that never answers, logs the timeout, and retries it', async () => {
    const workspaceId = newWorkspace();
    const trpc = await adminOf(server, workspaceId);
    const hook = await receiver();
    hook.script('hang', 'hang');
    await addEndpoint(trpc, workspaceId, hook.url);
    await upload(trpc, workspaceId, 'slow.pdf');
    const requests = await hook.waitFor(3);
    // The second attempt comes only after the first timed out (500 ms).
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(450);
    const delivery = await deliveryOf(trpc, workspaceId, 'delivered');
    expect(delivery.attempts).toBe(3);
    const [first, second, third] = delivery.attemptLog;
    for (const timedOut of [first!, second!]) {
      expect(timedOut.status).toBeNull();
      expect(timedOut.error).toMatch(/^timeout: no complete answer within 500 ms/);
      expect(timedOut.durationMs).toBeGreaterThanOrEqual(450);
      expect(timedOut.durationMs).toBeLessThan(1_500);
    }
    expect(third).toMatchObject({ status: 204, error: null });
  });

  it('follows no redirect: a 302 is a failed attempt, and the receiver it points at gets nothing', async () => {
    const workspaceId = newWorkspace();
    const trpc = await adminOf(server, workspaceId);
    const elsewhere = await receiver();
    const redirecting = await receiver();
    redirecting.answerAlways({ status: 302, headers: { location: elsewhere.url } });
    await addEndpoint(trpc, workspaceId, redirecting.url);
    await upload(trpc, workspaceId, 'moved.pdf');
    await redirecting.waitFor(2);
    const delivery = await deliveryOf(trpc, workspaceId);
    await eventually(async () => ((await deliveryOf(trpc, workspaceId)).attemptLog.length >= 2 ? true : undefined));
    const { attemptLog } = await deliveryOf(trpc, workspaceId);
    expect(attemptLog[0]).toMatchObject({ status: 302, error: `HTTP 302: redirects are not followed (location: ${elsewhere.url})` });
    expect(delivery.state).toBe('pending');
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('sends a signed webhook.test event on request and answers how it went, recording nothing', async () => {
    const workspaceId = newWorkspace();
    const trpc = await adminOf(server, workspaceId);
    const hook = await receiver();
    const { secret, endpointId } = await addEndpoint(trpc, workspaceId, hook.url);
    const answer = await trpc.webhook.test.mutate({ workspaceId, endpointId });
    expect(answer).toMatchObject({ status: 204, error: null, durationMs: expect.any(Number) });
    expect(hook.requests).toHaveLength(1);
    const event = new Webhook(secret).verify(hook.requests[0]!.body, headersOf(hook.requests[0]!));
    expect(event).toEqual({
      id: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
      type: 'webhook.test',
      timestamp: expect.any(String),
      workspaceId,
      data: {},
    });
    expect((await trpc.webhook.deliveries.query({ workspaceId })).deliveries).toEqual([]);

    hook.script({ status: 503, body: 'maintenance' });
    expect(await trpc.webhook.test.mutate({ workspaceId, endpointId })).toMatchObject({ status: 503, error: 'HTTP 503: maintenance' });
    expect(await codeOf(trpc.webhook.test.mutate({ workspaceId, endpointId: `whk_${'0'.repeat(32)}` }))).toEqual({
      code: 'WEBHOOK_NOT_FOUND',
      status: 404,
    });
  });

  it("lists only the workspace's own deliveries, and only to its admins", async () => {
    const workspaceId = newWorkspace();
    const trpc = await adminOf(server, workspaceId);
    const hook = await receiver();
    const { endpointId } = await addEndpoint(trpc, workspaceId, hook.url);
    await upload(trpc, workspaceId, 'mine.pdf');
    await deliveryOf(trpc, workspaceId, 'delivered');
    const other = newWorkspace();
    const otherAdmin = await adminOf(server, other);
    expect((await otherAdmin.webhook.deliveries.query({ workspaceId: other })).deliveries).toEqual([]);
    expect(await codeOf(otherAdmin.webhook.deliveries.query({ workspaceId }))).toEqual({ code: 'FORBIDDEN', status: 403 });
    expect(await codeOf(otherAdmin.webhook.test.mutate({ workspaceId: other, endpointId }))).toEqual({
      code: 'WEBHOOK_NOT_FOUND',
      status: 404,
    });
    const memberToken = await mintToken({ secret: SECRET, workspaces: [workspaceId], subject: 'bob' });
    const member = createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: `${server.url}/trpc`, transformer: superjson, headers: { authorization: `Bearer ${memberToken}` } })],
    });
    expect(await codeOf(member.webhook.deliveries.query({ workspaceId }))).toEqual({ code: 'FORBIDDEN', status: 403 });
    expect(await codeOf(trpc.webhook.deliveries.query({ workspaceId, limit: 0 }))).toMatchObject({
      code: 'INVALID_PARAMETER',
      status: 400,
    });
  });

  it('pages the deliveries newest first with a cursor', async () => {
    const workspaceId = newWorkspace();
    const trpc = await adminOf(server, workspaceId);
    const hook = await receiver();
    await addEndpoint(trpc, workspaceId, hook.url);
    for (const name of ['a.pdf', 'b.pdf', 'c.pdf']) await upload(trpc, workspaceId, name);
    await hook.waitFor(3);
    const first = await trpc.webhook.deliveries.query({ workspaceId, limit: 2 });
    expect(first.deliveries).toHaveLength(2);
    const rest = await trpc.webhook.deliveries.query({ workspaceId, limit: 2, cursor: first.nextCursor });
    expect(rest.deliveries).toHaveLength(1);
    expect(rest.nextCursor).toBeUndefined();
    const ids = [...first.deliveries, ...rest.deliveries].map((delivery) => delivery.deliveryId);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });
});

describe('webhooks the operator does not allow, and the retry window', () => {
  const receivers: WebhookReceiver[] = [];
  afterAll(async () => {
    for (const started of receivers) await started.close();
  });

  it('never connects to a loopback target the app does not allow, whether an address or a name that resolves to one', async () => {
    // Public targets only: the endpoints are written straight into the catalogue, past webhook.add's check.
    const server = await startLocalServer({
      policy,
      webhooks: { timeoutMs: 500, backoffBaseMs: 50, backoffMaxMs: 100 },
      eventPollIntervalMs: 50,
    });
    try {
      const workspaceId = newWorkspace();
      const trpc = await adminOf(server, workspaceId);
      const byAddress = await startWebhookReceiver();
      const byName = await startWebhookReceiver();
      receivers.push(byAddress, byName);
      for (const url of [byAddress.url, byName.url.replace('127.0.0.1', 'localhost')]) {
        await addDirectly(server.catalog, workspaceId, url);
      }
      await upload(trpc, workspaceId, 'internal.pdf');
      const refused = await eventually(async () => {
        const { deliveries } = await trpc.webhook.deliveries.query({ workspaceId });
        return deliveries.length === 2 && deliveries.every((delivery) => delivery.attempts >= 2 && delivery.attemptLog.length >= 2)
          ? deliveries
          : undefined;
      });
      for (const delivery of refused) {
        expect(delivery.attemptLog[0]!.status).toBeNull();
        expect(delivery.attemptLog[0]!.error).toMatch(/^refused target: (127\.0\.0\.1|::1)/);
      }
      expect(byAddress.requests).toHaveLength(0);
      expect(byName.requests).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  it('marks a delivery failed once its retry window is over, keeps it listed, and redelivers it on request', async () => {
    const server = await startLocalServer({ policy, webhooks: { ...FAST, retryWindowMs: 1_000 }, eventPollIntervalMs: 50 });
    try {
      const workspaceId = newWorkspace();
      const trpc = await adminOf(server, workspaceId);
      const hook = await startWebhookReceiver();
      receivers.push(hook);
      hook.answerAlways({ status: 500 });
      await addEndpoint(trpc, workspaceId, hook.url);
      const started = Date.now();
      await upload(trpc, workspaceId, 'unlucky.pdf');
      const failed = await deliveryOf(trpc, workspaceId, 'failed');
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(failed.attempts).toBeGreaterThanOrEqual(3);
      expect(failed.attemptLog.every((attempt) => attempt.status === 500)).toBe(true);
      expect(failed).toMatchObject({ lastStatus: 500, nextAttemptAt: null, deliveredAt: null });
      const attemptsThen = hook.requests.length;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(hook.requests).toHaveLength(attemptsThen);
      expect((await trpc.webhook.deliveries.query({ workspaceId, state: 'failed' })).deliveries).toHaveLength(1);

      hook.answerAlways({ status: 200 });
      const requeued = await trpc.webhook.redeliver.mutate({ workspaceId, deliveryId: failed.deliveryId });
      expect(requeued.state).toBe('pending');
      const delivered = await deliveryOf(trpc, workspaceId, 'delivered');
      expect(delivered.attempts).toBe(failed.attempts + 1);
      expect(delivered.attemptLog.at(-1)!.status).toBe(200);
      expect(await codeOf(trpc.webhook.redeliver.mutate({ workspaceId, deliveryId: 999_999 }))).toEqual({ code: 'NOT_FOUND', status: 404 });
    } finally {
      await server.close();
    }
  });

  it('sends a redelivery at once, not at the next poll', async () => {
    const server = await startLocalServer({ policy, webhooks: { ...FAST, retryWindowMs: 1 }, eventPollIntervalMs: 30_000 });
    try {
      const workspaceId = newWorkspace();
      const trpc = await adminOf(server, workspaceId);
      const hook = await startWebhookReceiver();
      receivers.push(hook);
      hook.answerAlways({ status: 500 });
      await addEndpoint(trpc, workspaceId, hook.url);
      await upload(trpc, workspaceId, 'again.pdf');
      const failed = await deliveryOf(trpc, workspaceId, 'failed');
      hook.answerAlways({ status: 200 });
      const asked = Date.now();
      await trpc.webhook.redeliver.mutate({ workspaceId, deliveryId: failed.deliveryId });
      const delivered = await deliveryOf(trpc, workspaceId, 'delivered');
      expect(Date.now() - asked).toBeLessThan(2_000);
      expect(delivered.attemptLog.at(-1)!.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

/** As an operator's script might: an endpoint row with no URL check at all. */
async function addDirectly(catalog: Catalog, workspaceId: string, url: string) {
  const added = await catalog.webhooks.add(
    {
      workspaceId,
      url,
      description: null,
      eventTypes: ['asset.created'],
      enabled: true,
      secret: `whsec_${Buffer.from('a key of 24 random bytes').toString('base64')}`,
      createdBy: null,
    },
    { maxPerWorkspace: 20 },
  );
  if (!added) throw new Error('not added');
  return added;
}

/** A pool of the test's own; the server going away at the end of the file is not an error of the test's. */
function quietPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => {});
  return pool;
}

type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] };

/** Every node of an EXPLAIN (FORMAT JSON) plan, flattened. */
function planNodes(plan: unknown): PlanNode[] {
  const roots = (plan as Array<{ Plan: PlanNode }>).map((entry) => entry.Plan);
  const all: PlanNode[] = [];
  const walk = (node: PlanNode) => {
    all.push(node);
    for (const child of node.Plans ?? []) walk(child);
  };
  for (const root of roots) walk(root);
  return all;
}

const postgresResult = await startPostgres();
const postgres = isPostgresSkipped(postgresResult) ? undefined : postgresResult;
afterAll(() => postgres?.destroy());

describe.skipIf(!postgres)('claiming deliveries on PostgreSQL', () => {
  /** `pending` due ones (of distinct assets, so none waits for another) among `finished` delivered ones. */
  async function seed(pool: pg.Pool, options: { pending: number; finished: number; endpointId: string }) {
    await pool.query(
      `insert into webhook_endpoints (id, workspace_id, url, event_types, secret, created_at)
       values ($1, 'ws', 'http://127.0.0.1:9/hook', '{asset.created}', 'whsec_a2V5', now())`,
      [options.endpointId],
    );
    await pool.query(
      `with made as (
         insert into asset_events (id, type, workspace_id, subject, occurred_at, data)
         select 'evt_' || n, 'asset.created', 'ws', 'ws/digital_assets/a' || n, now(), '{}'::jsonb
         from generate_series(1, $1::int) n
         returning seq, id, subject
       )
       insert into webhook_deliveries (endpoint_id, workspace_id, event_seq, event_id, subject, state, next_attempt_at, created_at)
       select $2, 'ws', seq, id, subject,
         case when seq % ($1::int) < $3::int then 'pending' else 'delivered' end, now() - interval '1 minute', now()
       from made`,
      [options.pending + options.finished, options.endpointId, options.pending],
    );
    await pool.query('analyze');
  }

  it('reads the due deliveries from the partial indexes, not by scanning the table', async () => {
    const url = await postgres!.createDatabase();
    const catalog = await openPostgresCatalog({ url });
    const pool = quietPool(url);
    try {
      await seed(pool, { pending: 50, finished: 20_000, endpointId: `whk_${'1'.repeat(32)}` });
      const db = drizzle({ client: pool }) as unknown as SqlDatabase;
      const explained = await db.execute(sql`explain (format json) ${claimStatement(new Date(), 32, 30_000)}`);
      const nodes = planNodes((explained as unknown as { rows: Array<{ 'QUERY PLAN': unknown }> }).rows[0]!['QUERY PLAN']);
      const indexes = nodes.map((node) => node['Index Name']).filter(Boolean);
      expect(indexes).toContain('webhook_deliveries_due');
      expect(indexes).toContain('webhook_deliveries_in_order');
      expect(nodes.filter((node) => node['Node Type'] === 'Seq Scan' && node['Relation Name'] === 'webhook_deliveries')).toEqual([]);
    } finally {
      await pool.end();
      await catalog.close();
    }
  }, 60_000);

  it('never gives one delivery to two dispatchers claiming at the same time', async () => {
    const url = await postgres!.createDatabase();
    const catalogs = await Promise.all([1, 2, 3].map(() => openPostgresCatalog({ url })));
    const pool = quietPool(url);
    try {
      await seed(pool, { pending: 600, finished: 0, endpointId: `whk_${'2'.repeat(32)}` });
      const taken: number[][] = [[], [], []];
      await Promise.all(
        catalogs.map(async (catalog, index) => {
          for (;;) {
            const claimed = await catalog.deliveries.claimDue({ now: new Date(), limit: 16, leaseMs: 60_000 });
            if (claimed.length === 0) return;
            taken[index]!.push(...claimed.map((delivery) => delivery.id));
          }
        }),
      );
      const all = taken.flat();
      expect(all).toHaveLength(600);
      expect(new Set(all).size).toBe(600);
      // Each claimed some: they ran side by side, not one after another.
      for (const mine of taken) expect(mine.length).toBeGreaterThan(0);
    } finally {
      await pool.end();
      for (const catalog of catalogs) await catalog.close();
    }
  }, 60_000);
});
