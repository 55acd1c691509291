import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { SignJWT } from 'jose';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJwtPolicy } from '../src/auth/jwt-policy.js';
import { mintToken } from '../src/auth/mint-token.js';
import { openPgliteCatalog } from '../src/catalog/pglite.js';
import { loadConfig } from '../src/config.js';
import { createContextInner } from '../src/context.js';
import { type AppRouter, mintUppyCapability } from '../src/index.js';
import { createLogger } from '../src/logger.js';
import { createServerCaller } from '../src/router/index.js';
import { createCapabilityIssuer } from '../src/uppy/capability.js';
import { capabilityPolicy } from '../src/uppy/capability-policy.js';
import { MiB, randomData } from './support/bytes.js';
import { companion, putToUrl } from './support/companion-client.js';
import { TEST_JWT_SECRET, testJwtConfig } from './support/jwt.js';
import { rest } from './support/rest-client.js';
import { startLocalServer, type TestServer } from './support/server.js';

const SECRET = 'an-uppy-capability-secret-long-enough-42';
const newWorkspace = () => `ws-${randomUUID().slice(0, 8)}`;

function trpcWith(server: TestServer, token?: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${server.url}/trpc`,
        transformer: superjson,
        headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
      }),
    ],
  });
}

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    // tRPC clients carry the code in data; the server-side caller throws the AppError itself.
    const data = (error as { data?: { code?: string; httpStatus?: number } }).data;
    const own = error as { appCode?: string; status?: number };
    return { code: data?.code ?? own.appCode, status: data?.httpStatus ?? own.status, message: (error as Error).message };
  }
  throw new Error('expected a refusal');
}

/** A capability signed with the server's secret but not as uppy.capability mints them. */
function forge(claims: Record<string, unknown>, exp: number, iat = Math.floor(Date.now() / 1000) - 60) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setAudience('s3-service:uppy')
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(SECRET));
}

describe('upload capabilities', () => {
  let server: TestServer;
  const lines: string[] = [];
  beforeAll(async () => {
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(line) } });
    server = await startLocalServer({
      policy: createJwtPolicy(testJwtConfig),
      uppy: { capabilitySecret: SECRET, maxCapabilitySeconds: 7200, formMaxBytes: 1 * MiB },
      corsOrigins: ['https://app.example'],
      logger,
    });
  });
  afterAll(async () => server?.close());

  const tokenFor = (workspaceId: string, subject = 'user-1') => mintToken({ secret: TEST_JWT_SECRET, workspaces: [workspaceId], subject });

  it('are minted by uppy.capability for a caller of the workspace, with an absolute endpoint and an expiry', async () => {
    const workspaceId = newWorkspace();
    const before = Date.now();
    const minted = await trpcWith(server, await tokenFor(workspaceId)).uppy.capability.mutate({ workspaceId });
    expect(minted.endpoint).toBe(`${server.url}/uppy/${minted.capability}`);
    const expiresAt = Date.parse(minted.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3_599_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3_601_000);
  });

  it('are refused to a token of another workspace (403) and to no token (401)', async () => {
    const workspaceId = newWorkspace();
    const foreign = trpcWith(server, await tokenFor(newWorkspace()));
    expect(await refusal(foreign.uppy.capability.mutate({ workspaceId }))).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    expect(await refusal(trpcWith(server).uppy.capability.mutate({ workspaceId }))).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('live at most UPPY_CAPABILITY_MAX_SECONDS', async () => {
    const workspaceId = newWorkspace();
    const trpc = trpcWith(server, await tokenFor(workspaceId));
    expect(await refusal(trpc.uppy.capability.mutate({ workspaceId, expiresInSeconds: 7201 }))).toMatchObject({
      code: 'INVALID_PARAMETER',
      status: 400,
    });
    expect(await refusal(trpc.uppy.capability.mutate({ workspaceId, expiresInSeconds: 0 }))).toMatchObject({ code: 'INVALID_PARAMETER' });
    const longest = await trpc.uppy.capability.mutate({ workspaceId, expiresInSeconds: 7200 });
    expect(Date.parse(longest.expiresAt)).toBeGreaterThan(Date.now() + 7_190_000);
  });

  it('are minted over REST at POST /s3/uppy-capability too', async () => {
    const workspaceId = newWorkspace();
    const headers = { authorization: `Bearer ${await tokenFor(workspaceId)}` };
    const minted = await rest(server.url, 'POST', '/s3/uppy-capability', { json: { workspaceId, expiresInSeconds: 60 }, headers });
    expect(minted.status).toBe(200);
    expect(minted.body.endpoint).toBe(`${server.url}/uppy/${minted.body.capability}`);
    const foreign = await rest(server.url, 'POST', '/s3/uppy-capability', { json: { workspaceId: newWorkspace() }, headers });
    expect(foreign).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
  });

  it('record the minting caller as who started the upload', async () => {
    const workspaceId = newWorkspace();
    const { endpoint } = await trpcWith(server, await tokenFor(workspaceId, 'alice')).uppy.capability.mutate({ workspaceId });
    const { uploadId } = (await companion(endpoint).createMultipartUpload('a.pdf', 'application/pdf')).body;
    expect(await server.catalog.findUpload(workspaceId, uploadId)).toMatchObject({ startedBy: 'alice' });
  });

  it('refuse an expired capability with 401 "has expired" and store nothing', async () => {
    const workspaceId = newWorkspace();
    const now = Math.floor(Date.now() / 1000);
    const expired = await forge({ ws: workspaceId }, now - 1, now - 100);
    const uppy = companion(`${server.url}/uppy/${expired}`);
    for (const answer of [await uppy.createMultipartUpload('a.pdf', 'application/pdf'), await uppy.params('a.pdf', 'application/pdf')]) {
      expect(answer).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED', error: 'the upload capability has expired' } });
    }
    expect((await server.catalog.listOpenUploads(workspaceId, { limit: 10 })).uploads).toEqual([]);
  });

  it('refuse a tampered, foreign-signed, over-long or malformed capability with 401 "is not valid"', async () => {
    const workspaceId = newWorkspace();
    const { capability } = await trpcWith(server, await tokenFor(workspaceId)).uppy.capability.mutate({ workspaceId });
    const [header, payload, signature] = capability.split('.');
    const otherPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), ws: 'victim' }),
    ).toString('base64url');
    const elsewhere = await mintUppyCapability({ secret: 'another-servers-secret-of-enough-length', workspaceId, baseUrl: server.url });
    const now = Math.floor(Date.now() / 1000);
    const candidates = [
      `${header}.${otherPayload}.${signature}`,
      `${capability.slice(0, -2)}${capability.endsWith('AA') ? 'BB' : 'AA'}`,
      elsewhere.capability,
      await forge({ ws: workspaceId }, now + 7201 + 60, now),
      await mintToken({ secret: SECRET, workspaces: [workspaceId] }),
      'not-a-jwt',
    ];
    for (const bad of candidates) {
      const answer = await companion(`${server.url}/uppy/${bad}`).createMultipartUpload('a.pdf', 'application/pdf');
      expect(answer).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED', error: 'the upload capability is not valid' } });
    }
    // The capability is judged before the body is even parsed.
    const unparsed = await rest(server.url, 'POST', '/uppy/not-a-jwt/s3/multipart', {
      body: '{',
      headers: { 'content-type': 'application/json' },
    });
    expect(unparsed).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
  });

  it('refuse a key of another workspace (403) and a key outside the layout (400), storing nothing', async () => {
    const mine = newWorkspace();
    const theirs = newWorkspace();
    const { endpoint: theirEndpoint } = await trpcWith(server, await tokenFor(theirs)).uppy.capability.mutate({ workspaceId: theirs });
    const victim = (await companion(theirEndpoint).createMultipartUpload('secret.pdf', 'application/pdf')).body;
    const { endpoint } = await trpcWith(server, await tokenFor(mine)).uppy.capability.mutate({ workspaceId: mine });
    const attacker = companion(endpoint);

    for (const answer of [
      await attacker.signPart(victim.key, victim.uploadId, 1),
      await attacker.signParts(victim.key, victim.uploadId, [1]),
      await attacker.listParts(victim.key, victim.uploadId),
      await attacker.complete(victim.key, victim.uploadId, [{ partNumber: 1, etag: 'x' }]),
      await attacker.abort(victim.key, victim.uploadId),
      await attacker.postForm(`${endpoint}/s3/form`, { key: victim.key, uploadId: victim.uploadId }, new Blob(['overwrite'])),
    ]) {
      expect(answer).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    }
    // The victim's upload id under the attacker's own prefix: the upload is not of that asset.
    const ownKey = `${mine}/digital_assets/${victim.assetId}`;
    expect(await attacker.signPart(ownKey, victim.uploadId, 1)).toMatchObject({ status: 404, body: { code: 'INVALID_UPLOAD_ID' } });
    for (const key of [`${mine}/../${theirs}/digital_assets/${victim.assetId}`, 'elsewhere', `${mine}/digital_assets/`]) {
      expect(await attacker.listParts(key, victim.uploadId)).toMatchObject({ status: 400, body: { code: 'INVALID_PARAMETER' } });
    }
    expect(await attacker.listParts('', victim.uploadId)).toMatchObject({ status: 400, body: { code: 'MISSING_PARAMETER' } });
    // The victim's upload is untouched and still theirs.
    expect(await companion(theirEndpoint).listParts(victim.key, victim.uploadId)).toMatchObject({ status: 200, body: [] });
    expect(await server.store.headObject(victim.key)).toBeNull();
  });

  it('grant no administration: the capability policy refuses admin procedures', async () => {
    const workspaceId = newWorkspace();
    const catalog = await openPgliteCatalog();
    try {
      const policy = capabilityPolicy({ workspaceId, expiresAt: 0 });
      const caller = createServerCaller(
        createContextInner({
          store: server.store,
          catalog,
          policy,
          uploads: { allowedFileTypes: ['*/*'] },
          quotas: {},
          logger: createLogger({ level: 'silent' }),
        }),
      );
      expect(await refusal(caller.bucket.getCors())).toMatchObject({ code: 'FORBIDDEN' });
      expect(await refusal(caller.workspace.setQuota({ workspaceId, quotaBytes: 1 }))).toMatchObject({ code: 'FORBIDDEN' });
      expect(await refusal(caller.webhook.list({ workspaceId }))).toMatchObject({ code: 'FORBIDDEN' });
      expect(await refusal(caller.object.list({ workspaceId: newWorkspace() }))).toMatchObject({ code: 'FORBIDDEN' });
    } finally {
      await catalog.close();
    }
    // Nor is it a bearer token of the API.
    const { capability } = await trpcWith(server, await tokenFor(workspaceId)).uppy.capability.mutate({ workspaceId });
    expect(await refusal(trpcWith(server, capability).object.list.query({ workspaceId }))).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('refuse a form past UPPY_FORM_MAX_BYTES with 413 PAYLOAD_TOO_LARGE and end its upload', async () => {
    const workspaceId = newWorkspace();
    const uppy = companion((await trpcWith(server, await tokenFor(workspaceId)).uppy.capability.mutate({ workspaceId })).endpoint);
    for (const size of [1 * MiB + 1, 6 * MiB]) {
      const { url, fields } = (await uppy.params('big.bin', 'application/octet-stream')).body;
      const posted = await uppy.postForm(url, fields, new Blob([new Uint8Array(randomData(size))]));
      expect(posted).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });
      expect(await server.store.headObject(fields.key)).toBeNull();
      expect(await uppy.listParts(fields.key, fields.uploadId)).toMatchObject({ status: 404, body: { code: 'INVALID_UPLOAD_ID' } });
    }
    expect((await server.catalog.listOpenUploads(workspaceId, { limit: 10 })).uploads).toEqual([]);
  });

  it('are checked on every request: an upload that outlives its capability continues under a fresh one', async () => {
    const workspaceId = newWorkspace();
    const shortLived = await forge({ ws: workspaceId }, Math.floor(Date.now() / 1000) + 2);
    const first = companion(`${server.url}/uppy/${shortLived}`);
    const { key, uploadId } = (await first.createMultipartUpload('long.bin', 'application/octet-stream')).body;
    const signed = await first.signPart(key, uploadId, 1);
    const put = await putToUrl(signed.body.url, Buffer.from('part one'));
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect(await first.listParts(key, uploadId)).toMatchObject({ status: 401, body: { error: 'the upload capability has expired' } });
    // The app mints a fresh endpoint and hands it to uppy.getPlugin('AwsS3').setOptions({ companionEndpoint }).
    const fresh = companion((await trpcWith(server, await tokenFor(workspaceId)).uppy.capability.mutate({ workspaceId })).endpoint);
    expect((await fresh.listParts(key, uploadId)).body).toEqual([{ PartNumber: 1, ETag: `"${put.etag}"`, Size: 8 }]);
    expect((await fresh.complete(key, uploadId, [{ partNumber: 1, etag: put.etag! }])).status).toBe(200);
  });

  it('refuse a form whose bytes contradict its type with 415 FILE_TYPE_MISMATCH, keeping nothing', async () => {
    const workspaceId = newWorkspace();
    const uppy = companion((await trpcWith(server, await tokenFor(workspaceId)).uppy.capability.mutate({ workspaceId })).endpoint);
    const { url, fields } = (await uppy.params('cat.png', 'image/png')).body;
    const html = new Blob(['<!DOCTYPE html><html><script>alert(1)</script></html>'], { type: 'image/png' });
    expect(await uppy.postForm(url, fields, html)).toMatchObject({ status: 415, body: { code: 'FILE_TYPE_MISMATCH' } });
    expect(await server.store.headObject(fields.key)).toBeNull();
    expect(await server.catalog.findAsset(workspaceId, fields.key)).toBeNull();
    expect((await server.catalog.listOpenUploads(workspaceId, { limit: 10 })).uploads).toEqual([]);
  });

  it('end the upload of a form whose client goes away mid-body', async () => {
    const workspaceId = newWorkspace();
    const uppy = companion((await trpcWith(server, await tokenFor(workspaceId)).uppy.capability.mutate({ workspaceId })).endpoint);
    const { url, fields } = (await uppy.params('cut.bin', 'application/octet-stream')).body;
    const boundary = 'uppyboundary42';
    const head = [
      ...Object.entries(fields as Record<string, string>).map(
        ([name, value]) => `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      ),
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="cut.bin"\r\ncontent-type: application/octet-stream\r\n\r\n`,
    ].join('');
    const request = httpRequest(url, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + 900 * 1024) },
    });
    request.on('error', () => {});
    request.write(head);
    request.write(randomData(512 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 200));
    request.destroy();
    await expect
      .poll(async () => (await server.catalog.listOpenUploads(workspaceId, { limit: 10 })).uploads, { timeout: 5_000 })
      .toEqual([]);
    expect(await server.store.headObject(fields.key)).toBeNull();
  });

  it('refuse a form without file or fields, and a body that is no form, with 400', async () => {
    const workspaceId = newWorkspace();
    const { endpoint } = await trpcWith(server, await tokenFor(workspaceId)).uppy.capability.mutate({ workspaceId });
    const uppy = companion(endpoint);
    const { fields } = (await uppy.params('a.txt', 'text/plain')).body;
    expect(await uppy.postForm(`${endpoint}/s3/form`, {}, new Blob(['x']))).toMatchObject({
      status: 400,
      body: { code: 'MISSING_PARAMETER' },
    });
    const noFile = await rest(endpoint, 'POST', `${new URL(endpoint).pathname}/s3/form`, {
      body: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(noFile).toMatchObject({ status: 400, body: { code: 'MISSING_PARAMETER' } });
    const notAForm = await rest(endpoint, 'POST', `${new URL(endpoint).pathname}/s3/form`, { json: fields });
    expect(notAForm).toMatchObject({ status: 400, body: { code: 'INVALID_PARAMETER', error: 'the body must be multipart/form-data' } });
    expect((await server.catalog.findUpload(workspaceId, fields.uploadId))?.state).toBe('open');
    // schemathesis found this one: a part header busboy cannot read.
    const malformed = await rest(endpoint, 'POST', `${new URL(endpoint).pathname}/s3/form`, {
      body: '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b\r\nno header line\r\n\r\nx\r\n--b--\r\n',
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
    });
    expect(malformed).toMatchObject({ status: 400, body: { code: 'INVALID_PARAMETER' } });
  });

  it('leave the capability out of the request log', async () => {
    const workspaceId = newWorkspace();
    const { endpoint, capability } = await trpcWith(server, await tokenFor(workspaceId)).uppy.capability.mutate({ workspaceId });
    const uppy = companion(endpoint);
    const { key, uploadId } = (await uppy.createMultipartUpload('a.bin', 'application/octet-stream')).body;
    const signed = await uppy.signPart(key, uploadId, 1);
    await putToUrl(signed.body.url, Buffer.from('x'));
    await companion(`${server.url}/uppy/${capability}x`).listParts(key, uploadId);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const logged = lines.filter((line) => line.includes('/uppy/'));
    expect(logged.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(line).not.toContain(capability);
    expect(logged.some((line) => line.includes('"url":"/uppy/[capability]/s3/multipart"'))).toBe(true);
  });

  it('answer a CORS preflight from an allowed origin of another site', async () => {
    const workspaceId = newWorkspace();
    const { endpoint } = await trpcWith(server, await tokenFor(workspaceId)).uppy.capability.mutate({ workspaceId });
    const preflight = await fetch(`${endpoint}/s3/multipart`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    const created = await fetch(`${endpoint}/s3/multipart`, {
      method: 'POST',
      headers: { origin: 'https://app.example', 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'a.bin', type: 'application/octet-stream', metadata: {} }),
    });
    expect(created.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(created.headers.get('access-control-expose-headers')).toContain('ETag');
  });

  it('answer unknown paths below an endpoint with 404 NOT_FOUND JSON', async () => {
    const workspaceId = newWorkspace();
    const { endpoint } = await trpcWith(server, await tokenFor(workspaceId)).uppy.capability.mutate({ workspaceId });
    expect(await rest(endpoint, 'GET', `${new URL(endpoint).pathname}/s3/nothing`)).toMatchObject({
      status: 404,
      body: { code: 'NOT_FOUND' },
    });
  });
});

describe('UPPY_* settings', () => {
  it('default to one day and 100 MiB, and hide the secret', () => {
    expect(loadConfig({}).uppy).toEqual({ capabilitySecret: undefined, maxCapabilitySeconds: 86_400, formMaxBytes: 100 * MiB });
    expect(() => loadConfig({ UPPY_CAPABILITY_SECRET: 'short' })).toThrow(
      /^UPPY_CAPABILITY_SECRET=\(hidden, 5 characters\): must be at least 32/,
    );
    expect(() => loadConfig({ UPPY_FORM_MAX_BYTES: '0' })).toThrow(/^UPPY_FORM_MAX_BYTES=0/);
  });

  it('a capability minted by mintUppyCapability works against a server with the same secret', async () => {
    const issuer = createCapabilityIssuer({ secret: SECRET });
    const { capability, endpoint } = await mintUppyCapability({ secret: SECRET, workspaceId: 'ws-embed', baseUrl: 'https://api.example/' });
    expect(endpoint).toBe(`https://api.example/uppy/${capability}`);
    expect(await issuer.verify(capability)).toMatchObject({ workspaceId: 'ws-embed' });
  });
});
