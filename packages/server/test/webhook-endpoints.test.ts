import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import pg from 'pg';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJwtPolicy } from '../src/auth/jwt-policy.js';
import { mintToken } from '../src/auth/mint-token.js';
import type { Catalog } from '../src/catalog/catalog.js';
import { openPostgresCatalog } from '../src/catalog/postgres.js';
import type { AppRouter } from '../src/index.js';
import { restDocument } from '../src/openapi/index.js';
import { isPostgresSkipped, startPostgres, type TestPostgres } from './support/postgres.js';
import { completeUpload, type RestAnswer, type RestInit, rest, uploadParts } from './support/rest-client.js';
import { startLocalServer, type TestServer } from './support/server.js';

const SECRET = 'a-webhook-endpoints-secret-that-is-long-enough-0123';
const jwtPolicy = () =>
  createJwtPolicy({ mode: 'jwt', secret: SECRET, workspacesClaim: 'workspaces', roleClaim: 'role', adminRole: 'admin' });

const A = 'hooks-a';
const B = 'hooks-b';
/** A public address as a literal, so that no test depends on DNS reaching the internet. */
const PUBLIC_URL = 'https://93.184.215.14/hooks/s3';
const ALL_TYPES = ['asset.created', 'asset.deleted', 'upload.aborted', 'upload.expired'];
const ENDPOINT_FIELDS = ['createdAt', 'createdBy', 'description', 'enabled', 'endpointId', 'eventTypes', 'url'];

type Client = ReturnType<typeof createTRPCClient<AppRouter>>;

function trpcClient(server: TestServer, token?: string): Client {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${server.url}/trpc`,
        transformer: superjson,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      }),
    ],
  });
}

/** The app's code and HTTP status of a refused tRPC call. */
async function trpcRefusal(call: Promise<unknown>): Promise<{ code?: string; httpStatus?: number; message: string }> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'the call was refused').toBeInstanceOf(TRPCClientError);
  const { data, message } = error as TRPCClientError<AppRouter>;
  return { code: data?.code, httpStatus: data?.httpStatus, message };
}

function restCall(server: TestServer, token: string | undefined) {
  return (method: string, path: string, init: RestInit = {}): Promise<RestAnswer> =>
    rest(server.url, method, path, { ...init, headers: { ...init.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
}

/** A refusal over REST: the documented `{ error, code }` body and nothing else. */
function refusal(answer: RestAnswer) {
  expect(Object.keys(answer.body ?? {}).sort(), answer.text).toEqual(['code', 'error']);
  return { status: answer.status, code: answer.body.code as string, error: answer.body.error as string };
}

/** The answer fits what the served document promises for this operation and status (as openapi-conformance checks). */
function expectDocumented(method: string, templatePath: string, answer: RestAnswer): void {
  const operation = restDocument().paths[templatePath]?.[method.toLowerCase()];
  expect(operation, `${method} ${templatePath} is documented`).toBeDefined();
  const response = operation!.responses[String(answer.status)];
  expect(response, `${method} ${templatePath} documents ${answer.status}: ${answer.text.slice(0, 200)}`).toBeDefined();
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  const schema = response!.content!['application/json']!.schema;
  const checked = z.fromJSONSchema(schema as never).safeParse(answer.body);
  expect(checked.success, `${method} ${templatePath} ${answer.status}: ${answer.text.slice(0, 300)}`).toBe(true);
}

describe('webhook endpoints, administered per workspace', () => {
  let server: TestServer;
  let adminA: string;
  let adminB: string;
  let memberA: string;
  let admin: Client;

  beforeAll(async () => {
    server = await startLocalServer({ policy: jwtPolicy() });
    adminA = await mintToken({ secret: SECRET, workspaces: [A], admin: true, subject: 'admin-of-a' });
    adminB = await mintToken({ secret: SECRET, workspaces: [B], admin: true, subject: 'admin-of-b' });
    memberA = await mintToken({ secret: SECRET, workspaces: [A], subject: 'member-of-a' });
    admin = trpcClient(server, adminA);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('adds, lists, updates, rotates the secret of and removes an endpoint over tRPC', async () => {
    const added = await admin.webhook.add.mutate({ workspaceId: A, url: PUBLIC_URL, description: 'thumbnails' });
    expect(added).toMatchObject({
      url: PUBLIC_URL,
      description: 'thumbnails',
      eventTypes: ALL_TYPES,
      enabled: true,
      createdBy: 'admin-of-a',
    });
    expect(added.endpointId).toMatch(/^whk_[0-9a-f]{32}$/);
    expect(added.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(added.createdAt).toBeInstanceOf(Date);
    const { secret, ...described } = added;

    const listed = await admin.webhook.list.query({ workspaceId: A });
    expect(listed.endpoints).toEqual([described]);
    expect(Object.keys(listed.endpoints[0]!).sort()).toEqual(ENDPOINT_FIELDS);

    const updated = await admin.webhook.update.mutate({
      workspaceId: A,
      endpointId: added.endpointId,
      url: 'https://8.8.8.8:8443/other',
      eventTypes: ['asset.created', 'asset.deleted'],
      enabled: false,
      description: null,
    });
    expect(updated).toEqual({
      ...described,
      url: 'https://8.8.8.8:8443/other',
      eventTypes: ['asset.created', 'asset.deleted'],
      enabled: false,
      description: null,
    });
    // Fields not given are kept.
    expect(await admin.webhook.update.mutate({ workspaceId: A, endpointId: added.endpointId, enabled: true })).toEqual({
      ...updated,
      enabled: true,
    });

    const rotated = await admin.webhook.rotateSecret.mutate({ workspaceId: A, endpointId: added.endpointId });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(secret);
    expect(rotated.endpointId).toBe(added.endpointId);

    expect(await admin.webhook.remove.mutate({ workspaceId: A, endpointId: added.endpointId })).toEqual({ success: true });
    expect((await admin.webhook.list.query({ workspaceId: A })).endpoints).toEqual([]);
    expect(await trpcRefusal(admin.webhook.remove.mutate({ workspaceId: A, endpointId: added.endpointId }))).toMatchObject({
      code: 'WEBHOOK_NOT_FOUND',
      httpStatus: 404,
    });
  });

  it('does the same over REST at /s3/webhooks, answering the shapes of tRPC and of the document', async () => {
    const call = restCall(server, adminA);
    const query = { workspaceId: A };

    const added = await call('POST', '/s3/webhooks', { query, json: { url: PUBLIC_URL, eventTypes: ['asset.created'] } });
    expect(added.status, added.text).toBe(200);
    expectDocumented('POST', '/s3/webhooks', added);
    expect(added.body).toMatchObject({ url: PUBLIC_URL, eventTypes: ['asset.created'], enabled: true, description: null });
    const { endpointId, secret } = added.body as { endpointId: string; secret: string };
    const at = `/s3/webhooks/${endpointId}`;

    const listed = await call('GET', '/s3/webhooks', { query });
    expectDocumented('GET', '/s3/webhooks', listed);
    const { secret: _secret, ...described } = added.body;
    expect(listed.body).toEqual({ endpoints: [described] });
    expect(listed.text).not.toContain(secret);
    // tRPC answers the same endpoint, its date a Date instead of ISO text.
    const viaTrpc = (await admin.webhook.list.query(query)).endpoints;
    expect(viaTrpc.map((endpoint) => ({ ...endpoint, createdAt: endpoint.createdAt.toISOString() }))).toEqual(listed.body.endpoints);

    const patched = await call('PATCH', at, { query, json: { enabled: false, description: 'paused' } });
    expectDocumented('PATCH', '/s3/webhooks/{endpointId}', patched);
    expect(patched.body).toEqual({ ...described, enabled: false, description: 'paused' });

    const rotated = await call('POST', `${at}/rotate-secret`, { query });
    expectDocumented('POST', '/s3/webhooks/{endpointId}/rotate-secret', rotated);
    expect(rotated.body.secret).not.toBe(secret);
    expect((await call('GET', '/s3/webhooks', { query })).text).not.toContain(rotated.body.secret);

    const removed = await call('DELETE', at, { query });
    expectDocumented('DELETE', '/s3/webhooks/{endpointId}', removed);
    expect(removed.body).toEqual({ success: true });
    const again = await call('DELETE', at, { query });
    expectDocumented('DELETE', '/s3/webhooks/{endpointId}', again);
    expect(refusal(again)).toMatchObject({ status: 404, code: 'WEBHOOK_NOT_FOUND' });
    expect((await call('GET', '/s3/webhooks', { query })).body).toEqual({ endpoints: [] });
  });

  it('gives a secret that the standardwebhooks library signs and verifies with, and that rotation retires', async () => {
    const { endpointId, secret } = await admin.webhook.add.mutate({ workspaceId: A, url: PUBLIC_URL });
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    const payload = JSON.stringify({ id: 'evt_0123', type: 'asset.created', data: {} });
    const signedAt = new Date();
    const headers = {
      'webhook-id': 'evt_0123',
      'webhook-timestamp': String(Math.floor(signedAt.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign('evt_0123', signedAt, payload),
    };
    expect(new Webhook(secret).verify(payload, headers)).toEqual(JSON.parse(payload));

    const { secret: rotated } = await admin.webhook.rotateSecret.mutate({ workspaceId: A, endpointId });
    expect(() => new Webhook(rotated).verify(payload, headers)).toThrow(WebhookVerificationError);
    await admin.webhook.remove.mutate({ workspaceId: A, endpointId });
  });

  describe('refuses URLs that are not absolute http(s) URLs without credentials or fragment: 400 INVALID_PARAMETER', () => {
    it.each([
      ['ftp://93.184.215.14/hooks', /must be an http: or https: URL, not ftp:/],
      ['file:///etc/passwd', /not file:/],
      ['javascript:alert(1)', /not javascript:/],
      ['data:text/plain,hello', /not data:/],
      ['gopher://93.184.215.14/', /not gopher:/],
      ['/hooks/relative', /must be an absolute http: or https: URL/],
      ['not a url', /must be an absolute http: or https: URL/],
      ['https://user:password@93.184.215.14/hooks', /must not carry a user name or password/],
      ['https://token@93.184.215.14/hooks', /must not carry a user name or password/],
      ['https://93.184.215.14/hooks#part', /must not have a fragment/],
      ['https://93.184.215.14/hooks#', /must not have a fragment/],
      [`https://93.184.215.14/${'a'.repeat(2048)}`, /at most 2048 characters/],
    ])('%s', async (url, message) => {
      const answer = await restCall(server, adminA)('POST', '/s3/webhooks', { query: { workspaceId: A }, json: { url } });
      expectDocumented('POST', '/s3/webhooks', answer);
      const refused = refusal(answer);
      expect(refused).toMatchObject({ status: 400, code: 'INVALID_PARAMETER' });
      expect(refused.error).toMatch(/^url: /);
      expect(refused.error).toMatch(message);

      const viaTrpc = await trpcRefusal(admin.webhook.add.mutate({ workspaceId: A, url }));
      expect(viaTrpc).toMatchObject({ code: 'INVALID_PARAMETER', httpStatus: 400 });
      expect(viaTrpc.message).toMatch(message);
    });

    it('a URL that is not a string, and event types that are empty, repeated or unknown', async () => {
      const call = restCall(server, adminA);
      const add = (json: unknown) => call('POST', '/s3/webhooks', { query: { workspaceId: A }, json });
      expect(refusal(await add({ url: 42 }))).toMatchObject({ status: 400, code: 'INVALID_PARAMETER', error: 'url: must be a string' });
      expect(refusal(await add({}))).toMatchObject({ status: 400, code: 'MISSING_PARAMETER', error: 'url: is required' });
      expect(refusal(await add({ url: PUBLIC_URL, eventTypes: [] }))).toMatchObject({ status: 400, code: 'INVALID_PARAMETER' });
      const repeated = refusal(await add({ url: PUBLIC_URL, eventTypes: ['asset.created', 'asset.created'] }));
      expect(repeated).toMatchObject({ status: 400, code: 'INVALID_PARAMETER', error: 'eventTypes: must list each event type once' });
      const unknown = refusal(await add({ url: PUBLIC_URL, eventTypes: ['asset.renamed'] }));
      expect(unknown.error).toMatch(/^eventTypes\.0: must be one of asset\.created/);
      // PostgreSQL text holds no NUL: the fuzzer's description made the database's update fail (500).
      const withNul = refusal(await add({ url: PUBLIC_URL, description: 'a\u0000b' }));
      expect(withNul).toMatchObject({ status: 400, code: 'INVALID_PARAMETER', error: 'description: must not contain NUL characters' });
      expect((await admin.webhook.list.query({ workspaceId: A })).endpoints).toEqual([]);
    });
  });

  describe('refuses private, loopback and link-local targets without the operator opt-in: 400 WEBHOOK_TARGET_NOT_ALLOWED', () => {
    // WHATWG URL parsing reads the decimal, hex and octal spellings as 127.0.0.1: the check sees what a connection would.
    it.each([
      ['http://127.0.0.1/hook', '127.0.0.1', 'loopback'],
      ['http://127.1.2.3:8080/hook', '127.1.2.3', 'loopback'],
      ['http://localhost:3000/hook', '(localhost resolves to it)', 'loopback'],
      ['http://[::1]/hook', '::1', 'loopback'],
      ['http://[::ffff:127.0.0.1]/hook', '::ffff:7f00:1', 'loopback'],
      ['http://10.0.0.1/hook', '10.0.0.1', 'private'],
      ['http://192.168.1.1/hook', '192.168.1.1', 'private'],
      ['http://172.16.0.1/hook', '172.16.0.1', 'private'],
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', 'link-local'],
      ['http://[fe80::1]/hook', 'fe80::1', 'link-local'],
      ['http://[fc00::1]/hook', 'fc00::1', 'unique local'],
      ['http://0.0.0.0/hook', '0.0.0.0', 'unspecified'],
      ['http://100.64.0.1/hook', '100.64.0.1', 'carrier-grade NAT'],
      ['http://2130706433/hook', '127.0.0.1', 'loopback'],
      ['http://0x7f000001/hook', '127.0.0.1', 'loopback'],
      ['http://0177.0.0.1/hook', '127.0.0.1', 'loopback'],
    ])('%s', async (url, address, range) => {
      const answer = await restCall(server, adminA)('POST', '/s3/webhooks', { query: { workspaceId: A }, json: { url } });
      expectDocumented('POST', '/s3/webhooks', answer);
      const refused = refusal(answer);
      expect(refused).toMatchObject({ status: 400, code: 'WEBHOOK_TARGET_NOT_ALLOWED' });
      expect(refused.error).toContain(address);
      expect(refused.error).toContain(`in the ${range} range`);
      expect(refused.error).toContain('WEBHOOK_ALLOWED_PRIVATE_TARGETS');

      const viaTrpc = await trpcRefusal(admin.webhook.add.mutate({ workspaceId: A, url }));
      expect(viaTrpc).toMatchObject({ code: 'WEBHOOK_TARGET_NOT_ALLOWED', httpStatus: 400 });
      expect(viaTrpc.message).toContain(address);
    });

    it('checks the URL an update gives too, and leaves the endpoint as it was', async () => {
      const { endpointId, secret: _secret, ...before } = await admin.webhook.add.mutate({ workspaceId: A, url: PUBLIC_URL });
      const answer = await restCall(server, adminA)('PATCH', `/s3/webhooks/${endpointId}`, {
        query: { workspaceId: A },
        json: { url: 'http://0x7f000001:9/', enabled: false },
      });
      expect(refusal(answer)).toMatchObject({ status: 400, code: 'WEBHOOK_TARGET_NOT_ALLOWED' });
      expect((await admin.webhook.list.query({ workspaceId: A })).endpoints).toEqual([{ endpointId, ...before }]);
      await admin.webhook.remove.mutate({ workspaceId: A, endpointId });
    });

    it('a host name that does not resolve is 400 INVALID_PARAMETER', async () => {
      const answer = await restCall(server, adminA)('POST', '/s3/webhooks', {
        query: { workspaceId: A },
        json: { url: 'https://no-such-host.invalid/hook' },
      });
      expect(refusal(answer)).toMatchObject({
        status: 400,
        code: 'INVALID_PARAMETER',
        error: expect.stringMatching(/no-such-host\.invalid does not resolve/),
      });
    });
  });

  describe('who may administer webhooks', () => {
    let endpointOfA: string;
    beforeAll(async () => {
      endpointOfA = (await admin.webhook.add.mutate({ workspaceId: A, url: PUBLIC_URL })).endpointId;
    });
    afterAll(async () => {
      await admin.webhook.remove.mutate({ workspaceId: A, endpointId: endpointOfA });
    });

    it('a member of the workspace without the admin role is 403 FORBIDDEN, over REST and tRPC', async () => {
      const call = restCall(server, memberA);
      const query = { workspaceId: A };
      const answers = [
        await call('GET', '/s3/webhooks', { query }),
        await call('POST', '/s3/webhooks', { query, json: { url: PUBLIC_URL } }),
        await call('PATCH', `/s3/webhooks/${endpointOfA}`, { query, json: { enabled: false } }),
        await call('POST', `/s3/webhooks/${endpointOfA}/rotate-secret`, { query }),
        await call('DELETE', `/s3/webhooks/${endpointOfA}`, { query }),
      ];
      for (const answer of answers)
        expect(refusal(answer)).toMatchObject({ status: 403, code: 'FORBIDDEN', error: expect.stringMatching(/admin role/) });

      const member = trpcClient(server, memberA);
      const ref = { workspaceId: A, endpointId: endpointOfA };
      for (const call of [
        () => member.webhook.add.mutate({ workspaceId: A, url: PUBLIC_URL }),
        () => member.webhook.list.query({ workspaceId: A }),
        () => member.webhook.update.mutate({ ...ref, enabled: false }),
        () => member.webhook.rotateSecret.mutate(ref),
        () => member.webhook.remove.mutate(ref),
      ]) {
        expect(await trpcRefusal(call())).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403 });
      }
      expect((await admin.webhook.list.query({ workspaceId: A })).endpoints.map((endpoint) => endpoint.enabled)).toEqual([true]);
    });

    it('without a token is 401 UNAUTHORIZED', async () => {
      expect(refusal(await restCall(server, undefined)('GET', '/s3/webhooks', { query: { workspaceId: A } }))).toMatchObject({
        status: 401,
        code: 'UNAUTHORIZED',
      });
    });

    it('an admin whose token lists workspace A is 403 FORBIDDEN in B: adding, listing, removing', async () => {
      const endpointOfB = (await trpcClient(server, adminB).webhook.add.mutate({ workspaceId: B, url: PUBLIC_URL })).endpointId;
      const call = restCall(server, adminA);
      const query = { workspaceId: B };
      for (const [method, path, template, init] of [
        ['POST', '/s3/webhooks', '/s3/webhooks', { query, json: { url: PUBLIC_URL } }],
        ['GET', '/s3/webhooks', '/s3/webhooks', { query }],
        ['DELETE', `/s3/webhooks/${endpointOfB}`, '/s3/webhooks/{endpointId}', { query }],
      ] as const) {
        const answer = await call(method, path, init);
        expectDocumented(method, template, answer);
        expect(refusal(answer)).toMatchObject({ status: 403, code: 'FORBIDDEN', error: `this token may not use workspace ${B}` });
      }
      for (const refused of [
        () => admin.webhook.add.mutate({ workspaceId: B, url: PUBLIC_URL }),
        () => admin.webhook.list.query({ workspaceId: B }),
        () => admin.webhook.remove.mutate({ workspaceId: B, endpointId: endpointOfB }),
      ]) {
        expect(await trpcRefusal(refused())).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403 });
      }
      const ofB = trpcClient(server, adminB);
      expect((await ofB.webhook.list.query({ workspaceId: B })).endpoints.map((endpoint) => endpoint.endpointId)).toEqual([endpointOfB]);
      await ofB.webhook.remove.mutate({ workspaceId: B, endpointId: endpointOfB });
    });

    it("another workspace's endpoint id is 404 WEBHOOK_NOT_FOUND, as an unknown one is, and is left alone", async () => {
      const ofB = trpcClient(server, adminB);
      const endpointOfB = (await ofB.webhook.add.mutate({ workspaceId: B, url: PUBLIC_URL })).endpointId;
      const unknown = `whk_${'0'.repeat(32)}`;
      const call = restCall(server, adminA);
      const query = { workspaceId: A };
      for (const endpointId of [endpointOfB, unknown]) {
        for (const answer of [
          await call('PATCH', `/s3/webhooks/${endpointId}`, { query, json: { url: 'https://8.8.4.4/stolen' } }),
          await call('POST', `/s3/webhooks/${endpointId}/rotate-secret`, { query }),
          await call('DELETE', `/s3/webhooks/${endpointId}`, { query }),
        ]) {
          const refused = refusal(answer);
          // The same words for both: nothing tells that the id exists elsewhere.
          expect(refused).toEqual({ status: 404, code: 'WEBHOOK_NOT_FOUND', error: `no webhook endpoint ${endpointId} in workspace ${A}` });
        }
        const ref = { workspaceId: A, endpointId };
        for (const refused of [
          () => admin.webhook.update.mutate({ ...ref, enabled: false }),
          () => admin.webhook.rotateSecret.mutate(ref),
          () => admin.webhook.remove.mutate(ref),
        ]) {
          expect(await trpcRefusal(refused())).toMatchObject({ code: 'WEBHOOK_NOT_FOUND', httpStatus: 404 });
        }
      }
      expect((await ofB.webhook.list.query({ workspaceId: B })).endpoints).toMatchObject([
        { endpointId: endpointOfB, url: PUBLIC_URL, enabled: true },
      ]);
      await ofB.webhook.remove.mutate({ workspaceId: B, endpointId: endpointOfB });
    });

    it('a malformed endpoint id is 400 INVALID_PARAMETER', async () => {
      const answer = await restCall(server, adminA)('DELETE', '/s3/webhooks/not-an-id', { query: { workspaceId: A } });
      expect(refusal(answer)).toEqual({
        status: 400,
        code: 'INVALID_PARAMETER',
        error: 'endpointId: must be an endpoint id returned by webhook.add',
      });
    });
  });

  it('refuses the 21st endpoint of a workspace, also when 21 adds race, and takes one again once one is removed', async () => {
    const C = 'hooks-full';
    const ofC = trpcClient(server, await mintToken({ secret: SECRET, workspaces: [C], admin: true }));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 21 }, (_, index) => ofC.webhook.add.mutate({ workspaceId: C, url: `${PUBLIC_URL}/${index}` })),
    );
    const added = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as TRPCClientError<AppRouter>] : []));
    expect(added).toHaveLength(20);
    expect(refused).toHaveLength(1);
    expect({ code: refused[0]!.data?.code, message: refused[0]!.message }).toEqual({
      code: 'INVALID_PARAMETER',
      message: `workspace ${C} already has 20 webhook endpoints, the most a workspace may have; remove one first`,
    });
    expect((await ofC.webhook.list.query({ workspaceId: C })).endpoints).toHaveLength(20);

    const overRest = await rest(server.url, 'POST', '/s3/webhooks', {
      query: { workspaceId: C },
      json: { url: PUBLIC_URL },
      headers: { authorization: `Bearer ${await mintToken({ secret: SECRET, workspaces: [C], admin: true })}` },
    });
    expect(refusal(overRest)).toMatchObject({
      status: 400,
      code: 'INVALID_PARAMETER',
      error: expect.stringContaining('20 webhook endpoints'),
    });

    await ofC.webhook.remove.mutate({ workspaceId: C, endpointId: added[0]!.endpointId });
    expect((await ofC.webhook.add.mutate({ workspaceId: C, url: PUBLIC_URL })).url).toBe(PUBLIC_URL);
  });
});

describe('targets the operator allows (WEBHOOK_ALLOWED_PRIVATE_TARGETS)', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });
  const startWith = async (allowedPrivateTargets: string[]) => {
    const server = await startLocalServer({ policy: jwtPolicy(), webhooks: { allowedPrivateTargets } });
    servers.push(server);
    return trpcClient(server, await mintToken({ secret: SECRET, workspaces: [A], admin: true }));
  };

  it('`loopback` accepts loopback in every spelling, and still refuses private and link-local', async () => {
    const admin = await startWith(['loopback']);
    const accepted = [
      ['http://127.0.0.1:9/hook', 'http://127.0.0.1:9/hook'],
      ['http://localhost:8080/hook', 'http://localhost:8080/hook'],
      ['http://[::1]/hook', 'http://[::1]/hook'],
      ['http://[::ffff:127.0.0.1]/hook', 'http://[::ffff:7f00:1]/hook'],
      // Stored as WHATWG reads it, the form the dispatcher connects to.
      ['http://2130706433/hook', 'http://127.0.0.1/hook'],
      ['http://0x7f000001/hook', 'http://127.0.0.1/hook'],
      ['http://0177.0.0.1/hook', 'http://127.0.0.1/hook'],
    ];
    for (const [url, stored] of accepted) expect((await admin.webhook.add.mutate({ workspaceId: A, url: url! })).url).toBe(stored);
    for (const url of ['http://10.0.0.1/', 'http://169.254.169.254/', 'http://[fe80::1]/', 'http://100.64.0.1/']) {
      expect(await trpcRefusal(admin.webhook.add.mutate({ workspaceId: A, url }))).toMatchObject({ code: 'WEBHOOK_TARGET_NOT_ALLOWED' });
    }
  });

  it('a subnet, `127.0.0.1/32`, accepts exactly that address', async () => {
    const admin = await startWith(['127.0.0.1/32']);
    expect((await admin.webhook.add.mutate({ workspaceId: A, url: 'http://127.0.0.1:4000/' })).url).toBe('http://127.0.0.1:4000/');
    for (const url of ['http://127.0.0.2/', 'http://[::1]/']) {
      expect(await trpcRefusal(admin.webhook.add.mutate({ workspaceId: A, url }))).toMatchObject({ code: 'WEBHOOK_TARGET_NOT_ALLOWED' });
    }
  });
});

describe('on PostgreSQL', () => {
  let postgres: TestPostgres | undefined;
  let skipped: string | undefined;
  let catalog: Catalog;
  let databaseUrl: string;
  let server: TestServer;

  beforeAll(async () => {
    const started = await startPostgres();
    if (isPostgresSkipped(started)) {
      skipped = started.skipped;
      return;
    }
    postgres = started;
    databaseUrl = await postgres.createDatabase();
    catalog = await openPostgresCatalog({ url: databaseUrl });
    // No dispatcher: the delivery made for the upload below stays pending, for the removal to take with it.
    server = await startLocalServer({ catalog, webhooks: { allowedPrivateTargets: ['loopback'] }, dispatchWebhooks: false });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await catalog?.close();
    await postgres?.destroy();
  });

  it('adds and lists endpoints, and removing one removes its pending deliveries', async (context) => {
    if (skipped) context.skip();
    const admin = trpcClient(server);
    const added = await admin.webhook.add.mutate({ workspaceId: A, url: 'http://127.0.0.1:9/hook', eventTypes: ['asset.created'] });
    const other = await admin.webhook.add.mutate({ workspaceId: A, url: PUBLIC_URL, enabled: false });
    const { secret: _secret, ...described } = added;
    const listed = (await admin.webhook.list.query({ workspaceId: A })).endpoints;
    expect(listed.map((endpoint) => endpoint.endpointId)).toEqual([added.endpointId, other.endpointId]);
    expect(listed[0]).toEqual(described);

    const upload = await uploadParts(server.url, A, [Buffer.from('webhook endpoints on postgres')]);
    expect((await completeUpload(server.url, upload)).status).toBe(200);

    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const deliveries = async () =>
        (await client.query('select endpoint_id, state from webhook_deliveries order by id')).rows as Array<{
          endpoint_id: string;
          state: string;
        }>;
      // The enabled endpoint got the event; the disabled one did not.
      expect(await deliveries()).toEqual([{ endpoint_id: added.endpointId, state: 'pending' }]);
      await admin.webhook.remove.mutate({ workspaceId: A, endpointId: added.endpointId });
      expect(await deliveries()).toEqual([]);
    } finally {
      await client.end();
    }
    expect((await admin.webhook.list.query({ workspaceId: A })).endpoints.map((endpoint) => endpoint.endpointId)).toEqual([
      other.endpointId,
    ]);
  });
});
