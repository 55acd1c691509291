import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJwtPolicy } from '../src/auth/jwt-policy.js';
import { mintToken } from '../src/auth/mint-token.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { AppError } from '../src/errors.js';
import { putPart, randomData } from './support/bytes.js';
import { TEST_JWT_SECRET, testJwtConfig } from './support/jwt.js';
import { type RestAnswer, type RestInit, rest } from './support/rest-client.js';
import { startLocalServer, type TestServer } from './support/server.js';

const SECRET = TEST_JWT_SECRET;
const jwtConfig = testJwtConfig;

const A = 'tenant-a';
const B = 'tenant-b';

type Answer = RestAnswer;

describe('workspace authorization and a hardened edge', () => {
  let server: TestServer;
  let tokenA: string;
  let tokenB: string;
  let adminToken: string;
  let expiredToken: string;
  let forgedToken: string;
  /** An object and an open upload of workspace B that no other caller may touch. */
  let bObject: { key: string; bytes: Buffer };
  let bUpload: { uploadId: string; assetId: string };
  let aUpload: { uploadId: string; assetId: string };

  const call = (method: string, path: string, token?: string, init: RestInit = {}): Promise<Answer> =>
    rest(server.url, method, path, { ...init, headers: { ...init.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });

  /** tRPC over HTTP without the client: a query (GET) or mutation (POST) of one procedure. */
  const trpc = (kind: 'query' | 'mutation', path: string, input: unknown, token?: string) => {
    const payload = JSON.stringify({ json: input });
    return kind === 'query'
      ? call('GET', `/trpc/${path}`, token, { query: { input: payload } })
      : call('POST', `/trpc/${path}`, token, { json: { json: input } });
  };
  const trpcCode = (answer: Answer) => ({ status: answer.status, code: answer.body?.error?.json?.data?.code });

  const uploadSmallObject = async (workspaceId: string, token: string) => {
    const started = await call('GET', '/s3/start-upload', token, { query: { workspaceId, fileType: 'image/png' } });
    const { uploadId, assetId } = started.body;
    const signed = await call('GET', '/s3/get-upload-url', token, { query: { workspaceId, assetId, UploadId: uploadId, PartNumber: '1' } });
    const bytes = randomData(2048);
    const put = await putPart(signed.body.url, bytes);
    const done = await call('POST', '/s3/complete-upload', token, {
      json: { workspaceId, assetId, uploadId, parts: [{ ETag: put.etag, PartNumber: 1 }] },
    });
    expect(done.status).toBe(200);
    return { key: done.body.key as string, bytes };
  };

  beforeAll(async () => {
    server = await startLocalServer({
      policy: createJwtPolicy(jwtConfig),
      uploads: { allowedFileTypes: ['image/png', 'video/*', 'application/octet-stream'], maxUploadBytes: 6 * 1024 * 1024 },
      corsOrigins: ['https://app.example'],
    });
    tokenA = await mintToken({ secret: SECRET, workspaces: [A] });
    tokenB = await mintToken({ secret: SECRET, workspaces: [B] });
    adminToken = await mintToken({ secret: SECRET, workspaces: [], admin: true });
    expiredToken = await new SignJWT({ workspaces: [A, B] })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(SECRET));
    forgedToken = await mintToken({ secret: `${SECRET}-not-the-server's`, workspaces: [A, B], admin: true });
    bObject = await uploadSmallObject(B, tokenB);
    bUpload = (await call('GET', '/s3/start-upload', tokenB, { query: { workspaceId: B, fileType: 'image/png' } })).body;
    aUpload = (await call('GET', '/s3/start-upload', tokenA, { query: { workspaceId: A, fileType: 'image/png' } })).body;
  });

  afterAll(async () => {
    await server?.close();
  });

  /** B's object still has its bytes and B's upload is still open: nothing A did reached them. */
  const expectBUntouched = async () => {
    const download = await fetch(`${server.url}/s3/download?${new URLSearchParams({ key: bObject.key, workspaceId: B })}`, {
      headers: { authorization: `Bearer ${tokenB}` },
    });
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(bObject.bytes);
    const parts = await call('GET', '/s3/list-parts', tokenB, {
      query: { workspaceId: B, assetId: bUpload.assetId, UploadId: bUpload.uploadId },
    });
    expect(parts.status).toBe(200);
  };

  /** Every REST path that names a workspace, aimed at workspace B's things. */
  const restCallsOnB = () =>
    [
      ['GET', '/s3/start-upload', { query: { workspaceId: B, fileType: 'image/png' } }],
      ['GET', '/s3/get-upload-url', { query: { workspaceId: B, assetId: bUpload.assetId, UploadId: bUpload.uploadId, PartNumber: '1' } }],
      [
        'POST',
        '/s3/complete-upload',
        { json: { workspaceId: B, assetId: bUpload.assetId, uploadId: bUpload.uploadId, parts: [{ ETag: '"x"', PartNumber: 1 }] } },
      ],
      ['GET', '/s3/download', { query: { workspaceId: B, key: bObject.key } }],
      ['DELETE', '/s3/delete', { query: { workspaceId: B, key: bObject.key } }],
      ['GET', '/s3/list-parts', { query: { workspaceId: B, assetId: bUpload.assetId, UploadId: bUpload.uploadId } }],
      ['DELETE', '/s3/abort-upload', { query: { workspaceId: B, assetId: bUpload.assetId, UploadId: bUpload.uploadId } }],
    ] as const;

  /** Every tRPC procedure that names a workspace, aimed at workspace B's things. */
  const procedureCallsOnB = () => {
    const ref = { workspaceId: B, assetId: bUpload.assetId, uploadId: bUpload.uploadId };
    return [
      ['mutation', 'upload.start', { workspaceId: B, fileType: 'image/png' }],
      ['query', 'upload.signPart', { ...ref, partNumber: 1 }],
      ['mutation', 'upload.signParts', { ...ref, partNumbers: [1, 2] }],
      ['query', 'upload.listParts', ref],
      ['mutation', 'upload.complete', { ...ref, parts: [{ partNumber: 1, etag: 'x' }] }],
      ['mutation', 'upload.abort', ref],
      ['query', 'object.downloadUrl', { workspaceId: B, key: bObject.key }],
      ['query', 'object.head', { workspaceId: B, key: bObject.key }],
      ['mutation', 'object.delete', { workspaceId: B, key: bObject.key }],
    ] as const;
  };

  const refusals: Array<[string, () => string | undefined, number, string]> = [
    ['no token', () => undefined, 401, 'UNAUTHORIZED'],
    ['an expired token', () => expiredToken, 401, 'UNAUTHORIZED'],
    ['a token with a wrong signature', () => forgedToken, 401, 'UNAUTHORIZED'],
    ['a malformed token', () => 'not.a.jwt', 401, 'UNAUTHORIZED'],
    ["workspace A's token on workspace B", () => tokenA, 403, 'FORBIDDEN'],
  ];
  describe.each(refusals)('%s', (_name, token, status, code) => {
    it('is refused on every REST path, and B is untouched', async () => {
      for (const [method, path, init] of restCallsOnB()) {
        const answer = await call(method, path, token(), init);
        expect({ path, status: answer.status, body: answer.body }).toEqual({ path, status, body: { error: expect.any(String), code } });
      }
      await expectBUntouched();
    });

    it('is refused by every tRPC procedure, and B is untouched', async () => {
      for (const [kind, path, input] of procedureCallsOnB()) {
        expect({ path, ...trpcCode(await trpc(kind, path, input, token())) }).toEqual({ path, status, code });
      }
      await expectBUntouched();
    });
  });

  describe('bucket configuration needs the admin role', () => {
    it.each([
      ['GET', '/s3/getBucketConfig'],
      ['POST', '/s3/updateBucketConfig'],
    ] as const)('%s %s: 401 without a token, 403 for a workspace token, 200 for an admin', async (method, path) => {
      expect((await call(method, path)).status).toBe(401);
      expect(await call(method, path, tokenA)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
      expect((await call(method, path, adminToken)).status).toBe(200);
    });

    it('over tRPC too', async () => {
      expect(trpcCode(await trpc('query', 'bucket.getCors', undefined, tokenA))).toEqual({ status: 403, code: 'FORBIDDEN' });
      expect(trpcCode(await trpc('mutation', 'bucket.updateCors', undefined))).toEqual({ status: 401, code: 'UNAUTHORIZED' });
    });

    it('custom rules must keep ETag exposed and PUT allowed, and refuse the null origin', async () => {
      const rule = {
        AllowedMethods: ['PUT', 'GET'],
        AllowedOrigins: ['https://app.example'],
        AllowedHeaders: ['*'],
        ExposeHeaders: ['ETag'],
      };
      const bad = [
        [{ ...rule, ExposeHeaders: [] }],
        [{ ...rule, AllowedMethods: ['GET'] }],
        [{ ...rule, AllowedOrigins: ['null'] }],
        [{ ...rule, AllowedMethods: ['PATCH'] }],
        [],
      ];
      for (const CORSRules of bad) {
        expect(await call('POST', '/s3/updateBucketConfig', adminToken, { json: { CORSRules } })).toMatchObject({
          status: 400,
          body: { code: 'INVALID_PARAMETER' },
        });
      }
      expect(await call('POST', '/s3/updateBucketConfig', adminToken, { json: { CORSRules: [rule] } })).toMatchObject({
        status: 200,
        body: { success: true },
      });
      expect((await call('GET', '/s3/getBucketConfig', adminToken)).body.CORSRules).toEqual([rule]);
      expect((await call('POST', '/s3/updateBucketConfig', adminToken)).status).toBe(200);
      expect((await call('GET', '/s3/getBucketConfig', adminToken)).body.CORSRules[0].AllowedOrigins).toEqual(['*']);
    });
  });

  describe('identifiers mixed across workspaces (IDOR)', () => {
    it("A's token with A's workspace cannot reach B's key, upload or asset", async () => {
      const answers = [
        await call('GET', '/s3/download', tokenA, { query: { workspaceId: A, key: bObject.key } }),
        await call('DELETE', '/s3/delete', tokenA, { query: { workspaceId: A, key: bObject.key } }),
        await call('GET', '/s3/get-upload-url', tokenA, {
          query: { workspaceId: A, assetId: bUpload.assetId, UploadId: bUpload.uploadId, PartNumber: '1' },
        }),
        await call('GET', '/s3/get-upload-url', tokenA, {
          query: { workspaceId: A, assetId: aUpload.assetId, UploadId: bUpload.uploadId, PartNumber: '1' },
        }),
        await call('GET', '/s3/get-upload-url', tokenA, {
          query: { workspaceId: A, assetId: bUpload.assetId, UploadId: aUpload.uploadId, PartNumber: '1' },
        }),
        await call('GET', '/s3/list-parts', tokenA, { query: { workspaceId: A, assetId: bUpload.assetId, UploadId: bUpload.uploadId } }),
        await call('DELETE', '/s3/abort-upload', tokenA, {
          query: { workspaceId: A, assetId: bUpload.assetId, UploadId: bUpload.uploadId },
        }),
        await call('POST', '/s3/complete-upload', tokenA, {
          json: { workspaceId: A, assetId: bUpload.assetId, uploadId: bUpload.uploadId, parts: [{ ETag: '"x"', PartNumber: 1 }] },
        }),
      ];
      for (const answer of answers) {
        expect(answer.status).toBeGreaterThanOrEqual(400);
        expect(answer.status).toBeLessThan(500);
        expect(['INVALID_PARAMETER', 'INVALID_UPLOAD_ID', 'NOT_FOUND']).toContain(answer.body.code);
      }
      await expectBUntouched();
    });

    it('a signed URL of B cannot be bent to another key or upload', async () => {
      const signed = await call('GET', '/s3/get-upload-url', tokenB, {
        query: { workspaceId: B, assetId: bUpload.assetId, UploadId: bUpload.uploadId, PartNumber: '1' },
      });
      const url = String(signed.body.url);
      const bent = [
        url.replace(bUpload.assetId, aUpload.assetId),
        url.replace(encodeURIComponent(bUpload.uploadId), encodeURIComponent(aUpload.uploadId)).replace(bUpload.uploadId, aUpload.uploadId),
        url.replace(B, A),
      ].filter((candidate) => candidate !== url);
      expect(bent.length).toBeGreaterThan(0);
      for (const candidate of bent) expect((await putPart(candidate, randomData(10))).status).toBe(403);
    });
  });

  describe('malformed identifiers', () => {
    const tricks = [
      '..',
      '../tenant-b',
      '%2e%2e',
      '%2F',
      '%252F',
      'a\\b',
      'a\u0000b',
      'a\uff0fb',
      'x'.repeat(2048),
      ' ',
      'a b',
      '\r\nX: y',
    ];

    it.each(tricks)('workspaceId, assetId, UploadId and key %j are refused with 4xx before any store call', async (trick) => {
      const answers = [
        await call('GET', '/s3/start-upload', tokenA, { query: { workspaceId: trick, fileType: 'image/png' } }),
        await call('GET', '/s3/get-upload-url', tokenA, {
          query: { workspaceId: A, assetId: trick, UploadId: aUpload.uploadId, PartNumber: '1' },
        }),
        await call('GET', '/s3/get-upload-url', tokenA, {
          query: { workspaceId: A, assetId: aUpload.assetId, UploadId: trick, PartNumber: '1' },
        }),
        await call('GET', '/s3/download', tokenA, { query: { workspaceId: A, key: `${A}/digital_assets/${trick}` } }),
        await call('DELETE', '/s3/delete', tokenA, { query: { workspaceId: A, key: `${A}/digital_assets/${trick}` } }),
      ];
      for (const answer of answers) {
        expect(answer.status).toBeGreaterThanOrEqual(400);
        expect(answer.status).toBeLessThan(500);
        expect(Object.keys(answer.body).sort()).toEqual(['code', 'error']);
      }
      await expectBUntouched();
    });

    it.each([0, 10001, 1.5, 1e3 + 0.5, -1, ' 1', 'Infinity', null, {}, [], '1'])(
      'tRPC partNumber %j is 400 INVALID_PARAMETER',
      async (partNumber) => {
        const answer = await trpc(
          'query',
          'upload.signPart',
          { workspaceId: A, assetId: aUpload.assetId, uploadId: aUpload.uploadId, partNumber },
          tokenA,
        );
        expect(trpcCode(answer)).toEqual({ status: 400, code: 'INVALID_PARAMETER' });
      },
    );

    it.each(['1e3', ' 1', '1 ', '+1', '0x1', '01.0', 'null', '[]', '1,2'])(
      'REST PartNumber %j is 400 INVALID_PARAMETER',
      async (PartNumber) => {
        const answer = await call('GET', '/s3/get-upload-url', tokenA, {
          query: { workspaceId: A, assetId: aUpload.assetId, UploadId: aUpload.uploadId, PartNumber },
        });
        expect(answer).toMatchObject({ status: 400, body: { code: 'INVALID_PARAMETER' } });
      },
    );
  });

  describe('complete-upload part lists', () => {
    const complete = (parts: unknown) =>
      call('POST', '/s3/complete-upload', tokenA, {
        json: { workspaceId: A, assetId: aUpload.assetId, uploadId: aUpload.uploadId, parts },
      });

    it('duplicate, unsorted and missing parts are 400 UPLOAD_FAILED; the upload stays open', async () => {
      const etags = [];
      for (const partNumber of [1, 2]) {
        const signed = await call('GET', '/s3/get-upload-url', tokenA, {
          query: { workspaceId: A, assetId: aUpload.assetId, UploadId: aUpload.uploadId, PartNumber: String(partNumber) },
        });
        etags.push((await putPart(signed.body.url, randomData(1000))).etag);
      }
      const duplicate = await complete([
        { ETag: etags[0], PartNumber: 1 },
        { ETag: etags[0], PartNumber: 1 },
      ]);
      const unsorted = await complete([
        { ETag: etags[1], PartNumber: 2 },
        { ETag: etags[0], PartNumber: 1 },
      ]);
      const missing = await complete([
        { ETag: etags[0], PartNumber: 1 },
        { ETag: etags[1], PartNumber: 3 },
      ]);
      for (const answer of [duplicate, unsorted, missing]) expect(answer).toMatchObject({ status: 400, body: { code: 'UPLOAD_FAILED' } });
      const parts = await call('GET', '/s3/list-parts', tokenA, {
        query: { workspaceId: A, assetId: aUpload.assetId, UploadId: aUpload.uploadId },
      });
      expect(parts.body.parts).toHaveLength(2);
    });

    it('10,000 parts fit in the body; 10,001 are 400 INVALID_PARAMETER', async () => {
      const parts = (count: number) =>
        Array.from({ length: count }, (_, index) => ({ ETag: '"0123456789abcdef0123456789abcdef"', PartNumber: index + 1 }));
      expect(await complete(parts(10_000))).toMatchObject({ status: 400, body: { code: 'UPLOAD_FAILED' } });
      expect(await complete(parts(10_001))).toMatchObject({ status: 400, body: { code: 'INVALID_PARAMETER' } });
    });

    it('an empty list and a list of junk are 400 INVALID_PARAMETER', async () => {
      for (const parts of [[], [null], [{}], 'x', { 1: 'a' }]) {
        const answer = await complete(parts);
        expect(answer.status).toBe(400);
        expect(['INVALID_PARAMETER', 'MISSING_PARAMETER']).toContain(answer.body.code);
      }
    });
  });

  describe('file types', () => {
    it.each([
      'text/html',
      'image/svg+xml',
      'application/javascript',
      'text/javascript',
      'application/xhtml+xml',
      'text/html; charset=utf-8',
      'TEXT/HTML',
    ])('%s is refused with 400 FILE_TYPE_NOT_ALLOWED', async (fileType) => {
      const answer = await call('GET', '/s3/start-upload', tokenA, { query: { workspaceId: A, fileType } });
      expect(answer).toMatchObject({ status: 400, body: { code: 'FILE_TYPE_NOT_ALLOWED' } });
    });

    it.each(['image/png\r\nSet-Cookie: x=1', 'image/png\nX: y', 'image/png"', 'image/png; a=b; c', '*/*'])(
      'header-breaking %j is 400 INVALID_PARAMETER',
      async (fileType) => {
        const answer = await call('GET', '/s3/start-upload', tokenA, { query: { workspaceId: A, fileType } });
        expect(answer).toMatchObject({ status: 400, body: { code: 'INVALID_PARAMETER' } });
      },
    );

    it('allowed types by exact name and by family pass', async () => {
      for (const fileType of ['image/png', 'video/mp4', 'video/webm; codecs="vp9"']) {
        expect((await call('GET', '/s3/start-upload', tokenA, { query: { workspaceId: A, fileType } })).status).toBe(200);
      }
    });

    it('downloads go out as attachments with nosniff', async () => {
      const answer = await call('GET', '/s3/download', tokenB, { query: { workspaceId: B, key: bObject.key } });
      expect(answer.headers.get('content-disposition')).toMatch(/^attachment/);
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    });
  });

  describe('MAX_UPLOAD_BYTES', () => {
    it('refuses to complete an upload whose parts exceed the limit, and keeps the parts', async () => {
      const started = (await call('GET', '/s3/start-upload', tokenA, { query: { workspaceId: A, fileType: 'video/mp4' } })).body;
      const parts = [];
      for (const [index, size] of [5 * 1024 * 1024, 2 * 1024 * 1024].entries()) {
        const signed = await call('GET', '/s3/get-upload-url', tokenA, {
          query: { workspaceId: A, assetId: started.assetId, UploadId: started.uploadId, PartNumber: String(index + 1) },
        });
        parts.push({ ETag: (await putPart(signed.body.url, randomData(size))).etag, PartNumber: index + 1 });
      }
      const answer = await call('POST', '/s3/complete-upload', tokenA, {
        json: { workspaceId: A, assetId: started.assetId, uploadId: started.uploadId, parts },
      });
      expect(answer).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });
      const listed = await call('GET', '/s3/list-parts', tokenA, {
        query: { workspaceId: A, assetId: started.assetId, UploadId: started.uploadId },
      });
      expect(listed.body.parts).toHaveLength(2);
    });
  });

  describe('declared part sizes', () => {
    it('signs URLs pinned to each declared size, and refuses sizes over MAX_UPLOAD_BYTES before signing', async () => {
      const started = (await call('GET', '/s3/start-upload', tokenA, { query: { workspaceId: A, fileType: 'video/mp4' } })).body;
      const ref = { workspaceId: A, assetId: started.assetId, uploadId: started.uploadId };
      const tooBig = await trpc(
        'mutation',
        'upload.signParts',
        { ...ref, partNumbers: [1, 2], partSizes: [5 * 1024 * 1024, 2 * 1024 * 1024] },
        tokenA,
      );
      expect(trpcCode(tooBig)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
      const mismatched = await trpc('mutation', 'upload.signParts', { ...ref, partNumbers: [1, 2], partSizes: [10] }, tokenA);
      expect(trpcCode(mismatched)).toEqual({ status: 400, code: 'INVALID_PARAMETER' });

      const signed = await trpc('mutation', 'upload.signParts', { ...ref, partNumbers: [1], partSizes: [100] }, tokenA);
      expect(signed.status).toBe(200);
      const url = signed.body.result.data.json.parts[0].url as string;
      expect((await putPart(url, randomData(101))).status).toBe(403);
      expect((await putPart(url, randomData(100))).status).toBe(200);
    });
  });

  describe('API CORS and security headers', () => {
    it('echoes only allowlisted origins, never * with credentials', async () => {
      const allowed = await call('OPTIONS', '/s3/start-upload', undefined, {
        headers: {
          origin: 'https://app.example',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
      const other = await call('OPTIONS', '/s3/start-upload', undefined, {
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
      });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('API answers carry helmet security headers', async () => {
      const answer = await call('GET', '/s3/start-upload', tokenA, { query: { workspaceId: A, fileType: 'image/png' } });
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('content-security-policy')).toBeTruthy();
      expect(answer.headers.get('x-frame-options')).toBeTruthy();
    });

    it('API answers, which carry signed URLs, may not be cached, and so carry no validator', async () => {
      const started = await call('GET', '/s3/start-upload', tokenA, { query: { workspaceId: A, fileType: 'image/png' } });
      const signed = await call('GET', '/s3/get-upload-url', tokenA, {
        query: { workspaceId: A, assetId: started.body.assetId, UploadId: started.body.uploadId, PartNumber: '1' },
      });
      const viaTrpc = await trpc(
        'mutation',
        'upload.signParts',
        { workspaceId: A, assetId: started.body.assetId, uploadId: started.body.uploadId, partNumbers: [1] },
        tokenA,
      );
      for (const answer of [started, signed, viaTrpc]) {
        expect(answer.status).toBe(200);
        expect(answer.headers.get('cache-control')).toBe('no-store');
        expect(answer.headers.get('etag')).toBeNull();
      }
    });
  });

  describe('property: no input produces a 5xx or a stack trace', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('..', '%2e%2e', '%2F', '%252F', '\\', '\u0000', '\uff0f', 'x'.repeat(3000), A, B, 'image/png', '1', '0', '10001'),
    );

    it('REST query paths', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('/s3/start-upload', '/s3/get-upload-url', '/s3/download', '/s3/list-parts'),
          fc.dictionary(fc.constantFrom('workspaceId', 'fileType', 'assetId', 'UploadId', 'PartNumber', 'key'), text),
          async (path, query) => {
            const answer = await call('GET', path, tokenA, { query });
            expect(answer.status).toBeLessThan(500);
            expect(JSON.stringify(answer.body ?? '')).not.toMatch(/\bat .+\.(ts|js):\d+/);
          },
        ),
        { numRuns: 150 },
      );
    });

    it('complete-upload bodies', async () => {
      await fc.assert(
        fc.asyncProperty(fc.anything(), async (body) => {
          const answer = await call('POST', '/s3/complete-upload', tokenA, { json: body });
          expect(answer.status).toBeLessThan(500);
          expect(JSON.stringify(answer.body ?? '')).not.toMatch(/\bat .+\.(ts|js):\d+/);
        }),
        { numRuns: 100 },
      );
    });

    it('tRPC procedure inputs', async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('upload.complete', 'upload.signParts', 'upload.start'), fc.anything(), async (path, input) => {
          const answer = await trpc('mutation', path, input, tokenA);
          expect(answer.status).toBeLessThan(500);
        }),
        { numRuns: 100 },
      );
    });
  });
});

describe('JWKS tokens (RS256)', () => {
  let jwks: Server;
  let server: TestServer;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const { port } = jwks.address() as AddressInfo;
    server = await startLocalServer({
      policy: createJwtPolicy({
        ...jwtConfig,
        secret: undefined,
        jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
        issuer: 'https://idp.example',
      }),
    });
    (globalThis as Record<string, unknown>).__rsKey = privateKey;
  });
  afterAll(async () => {
    await server?.close();
    jwks?.close();
  });

  const sign = async (claims: Record<string, unknown>, key: CryptoKey, issuer = 'https://idp.example') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(issuer).setExpirationTime('5m').sign(key);

  it('accepts a token signed by the published key and refuses others', async () => {
    const key = (globalThis as Record<string, unknown>).__rsKey as CryptoKey;
    const start = (token: string) =>
      fetch(`${server.url}/s3/start-upload?workspaceId=${A}&fileType=image/png`, { headers: { authorization: `Bearer ${token}` } });
    expect((await start(await sign({ workspaces: [A] }, key))).status).toBe(200);
    expect((await start(await sign({ workspaces: [A] }, key, 'https://other.example'))).status).toBe(401);
    const stranger = await generateKeyPair('RS256');
    expect((await start(await sign({ workspaces: [A] }, stranger.privateKey))).status).toBe(401);
    const hs = await mintToken({ secret: SECRET, workspaces: [A] });
    expect((await start(hs)).status).toBe(401);
  });
});

describe('running open', () => {
  it('is refused in production unless AUTH_DISABLED=true', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/AUTH_JWT_SECRET/);
    expect(loadConfig({ NODE_ENV: 'production', AUTH_DISABLED: 'true' }).auth).toEqual({ mode: 'open' });
    expect(loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET }).auth.mode).toBe('jwt');
  });

  it('names the variable at fault', () => {
    expect(() => loadConfig({ AUTH_JWT_SECRET: 'short' })).toThrow(/AUTH_JWT_SECRET/);
    expect(() => loadConfig({ STORAGE: 's3' })).toThrow(/AWS_BUCKET/);
    expect(() => loadConfig({ AWS_BUCKET: 'b', AWS_ENDPOINT_URL: 'not a url' })).toThrow(/AWS_ENDPOINT_URL/);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
  });
});

describe("an embedding app's own policy", () => {
  it('decides every workspace call before the store, with the codes it throws', async () => {
    const seen: string[] = [];
    const server = await startLocalServer({
      policy: {
        authorizeWorkspace: (caller, workspaceId) => {
          seen.push(workspaceId);
          if (caller.headers['x-member-of'] !== workspaceId) throw new AppError('FORBIDDEN', `not a member of ${workspaceId}`);
        },
        authorizeAdmin: () => {
          throw new AppError('FORBIDDEN', 'no admins here');
        },
      },
    });
    try {
      const start = (member: string) =>
        fetch(`${server.url}/s3/start-upload?workspaceId=ws-1&fileType=image/png`, { headers: { 'x-member-of': member } });
      expect((await start('ws-1')).status).toBe(200);
      const refused = await start('ws-2');
      expect(refused.status).toBe(403);
      expect(await refused.json()).toEqual({ error: 'not a member of ws-1', code: 'FORBIDDEN' });
      expect((await fetch(`${server.url}/s3/getBucketConfig`)).status).toBe(403);
      expect(seen).toEqual(['ws-1', 'ws-1']);
    } finally {
      await server.close();
    }
  });
});

describe('the catalogue keeps workspaces apart', () => {
  let server: TestServer;
  const tokens: Record<string, string> = {};
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const trpc = (kind: 'query' | 'mutation', path: string, input: unknown, token: string) => {
    const payload = JSON.stringify({ json: input });
    return kind === 'query'
      ? rest(server.url, 'GET', `/trpc/${path}`, { query: { input: payload }, headers: bearer(token) })
      : rest(server.url, 'POST', `/trpc/${path}`, { json: { json: input }, headers: bearer(token) });
  };
  const codeOf = (answer: Answer) => ({ status: answer.status, code: answer.body?.error?.json?.data?.code });
  const data = (answer: Answer) => answer.body.result.data.json;

  beforeAll(async () => {
    server = await startLocalServer({ policy: createJwtPolicy(jwtConfig) });
    tokens.a = await mintToken({ secret: SECRET, workspaces: [A], subject: 'alice@example.com' });
    tokens.b = await mintToken({ secret: SECRET, workspaces: [B], subject: 'bob@example.com' });
    tokens.admin = await mintToken({ secret: SECRET, workspaces: [], admin: true });
    return () => server.close();
  });

  const uploadAs = async (workspaceId: string, token: string, fileName: string) => {
    const started = data(await trpc('mutation', 'upload.start', { workspaceId, fileType: 'image/png', fileName }, token));
    const ref = { workspaceId, assetId: started.assetId, uploadId: started.uploadId };
    const signed = data(await trpc('mutation', 'upload.signParts', { ...ref, partNumbers: [1] }, token));
    const put = await putPart(signed.parts[0].url, randomData(100));
    return { ...ref, key: started.key as string, parts: [{ partNumber: 1, etag: put.etag }] };
  };

  it('records who started an upload and made the asset, as the token says', async () => {
    const upload = await uploadAs(A, tokens.a!, 'alice.png');
    const open = data(await trpc('query', 'upload.listOpen', { workspaceId: A }, tokens.a!));
    expect(open.uploads.find((item: { uploadId: string }) => item.uploadId === upload.uploadId)).toMatchObject({
      startedBy: 'alice@example.com',
    });
    await trpc(
      'mutation',
      'upload.complete',
      { workspaceId: A, assetId: upload.assetId, uploadId: upload.uploadId, parts: upload.parts },
      tokens.a!,
    );
    const head = data(await trpc('query', 'object.head', { workspaceId: A, key: upload.key }, tokens.a!));
    expect(head).toMatchObject({ fileName: 'alice.png', createdBy: 'alice@example.com' });
  });

  it("never lists, counts or finishes another workspace's uploads and assets", async () => {
    const bUpload = await uploadAs(B, tokens.b!, 'secret-plan.png');
    expect(codeOf(await trpc('query', 'object.list', { workspaceId: B }, tokens.a!))).toEqual({ status: 403, code: 'FORBIDDEN' });
    expect(codeOf(await trpc('query', 'upload.listOpen', { workspaceId: B }, tokens.a!))).toEqual({ status: 403, code: 'FORBIDDEN' });
    expect(codeOf(await trpc('query', 'workspace.usage', { workspaceId: B }, tokens.a!))).toEqual({ status: 403, code: 'FORBIDDEN' });
    // B's upload id under A's own workspace: unknown there, and nothing is recorded for A.
    const hijack = await trpc(
      'mutation',
      'upload.complete',
      { workspaceId: A, assetId: bUpload.assetId, uploadId: bUpload.uploadId, parts: bUpload.parts },
      tokens.a!,
    );
    expect(codeOf(hijack)).toMatchObject({ status: 404, code: 'INVALID_UPLOAD_ID' });
    const aAbort = await trpc(
      'mutation',
      'upload.abort',
      { workspaceId: A, assetId: bUpload.assetId, uploadId: bUpload.uploadId },
      tokens.a!,
    );
    expect(codeOf(aAbort)).toMatchObject({ status: 404, code: 'INVALID_UPLOAD_ID' });
    const aList = data(await trpc('query', 'object.list', { workspaceId: A }, tokens.a!));
    expect(aList.objects.map((object: { fileName: string }) => object.fileName)).not.toContain('secret-plan.png');
    const bOpen = data(await trpc('query', 'upload.listOpen', { workspaceId: B }, tokens.b!));
    expect(bOpen.uploads.map((item: { uploadId: string }) => item.uploadId)).toContain(bUpload.uploadId);
  });

  it('lets only an admin set a quota', async () => {
    expect(codeOf(await trpc('mutation', 'workspace.setQuota', { workspaceId: A, quotaBytes: 10 }, tokens.a!))).toEqual({
      status: 403,
      code: 'FORBIDDEN',
    });
    const set = await trpc('mutation', 'workspace.setQuota', { workspaceId: A, quotaBytes: 10_000_000 }, tokens.admin!);
    expect(set.status).toBe(200);
    expect(data(set)).toMatchObject({ quotaBytes: 10_000_000, quotaOverridden: true });
  });
});

describe('token lifetimes: exp is required, and bounded', () => {
  let server: TestServer;
  const HOUR = 3600;
  const now = () => Math.floor(Date.now() / 1000);
  const key = new TextEncoder().encode(SECRET);
  /** An HS256 token of workspace A with exactly the time claims given. */
  const token = (claims: { iat?: number; exp?: number }) => {
    const jwt = new SignJWT({ workspaces: [A] }).setProtectedHeader({ alg: 'HS256' });
    if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
    if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
    return jwt.sign(key);
  };
  const startOverRest = (jwt: string) =>
    rest(server.url, 'GET', '/s3/start-upload', {
      query: { workspaceId: A, fileType: 'image/png' },
      headers: { authorization: `Bearer ${jwt}` },
    });
  const startOverTrpc = (jwt: string) =>
    rest(server.url, 'POST', '/trpc/upload.start', {
      json: { json: { workspaceId: A, fileType: 'image/png' } },
      headers: { authorization: `Bearer ${jwt}` },
    });

  beforeAll(async () => {
    server = await startLocalServer({ policy: createJwtPolicy({ ...jwtConfig, maxTokenLifetimeSeconds: 2 * HOUR }) });
    return () => server.close();
  });

  it('refuses a signed token without exp, which would be good for ever, with 401 UNAUTHORIZED on REST and tRPC', async () => {
    const forever = await token({ iat: now() });
    expect(await startOverRest(forever)).toMatchObject({
      status: 401,
      body: { error: 'the bearer token has no exp claim; tokens must say when they expire', code: 'UNAUTHORIZED' },
    });
    const overTrpc = await startOverTrpc(forever);
    expect(overTrpc.status).toBe(401);
    expect(overTrpc.body.error.json).toMatchObject({
      message: 'the bearer token has no exp claim; tokens must say when they expire',
      data: { code: 'UNAUTHORIZED', httpStatus: 401 },
    });
  });

  it('refuses a token issued for longer than the longest lifetime, counted from iat', async () => {
    const long = await startOverRest(await token({ iat: now(), exp: now() + 3 * HOUR }));
    expect(long).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    expect(long.body.error).toBe(`the bearer token is valid for ${3 * HOUR} s; this server accepts tokens valid for at most ${2 * HOUR} s`);
    // Issued a day ago for a day and a half: twelve hours left, but its lifetime is still too long.
    const old = await startOverRest(await token({ iat: now() - 24 * HOUR, exp: now() + 12 * HOUR }));
    expect(old).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
  });

  it('counts from now when iat is absent or in the future', async () => {
    expect((await startOverRest(await token({ exp: now() + 3 * HOUR }))).status).toBe(401);
    expect((await startOverRest(await token({ iat: now() + 2 * HOUR, exp: now() + 3 * HOUR }))).status).toBe(401);
    expect((await startOverRest(await token({ exp: now() + HOUR }))).status).toBe(200);
  });

  it('accepts a token within the lifetime, including one of exactly the longest lifetime', async () => {
    expect((await startOverRest(await mintToken({ secret: SECRET, workspaces: [A] }))).status).toBe(200);
    expect((await startOverTrpc(await mintToken({ secret: SECRET, workspaces: [A], expiresIn: '2h' }))).status).toBe(200);
    expect((await startOverRest(await token({ iat: now() - HOUR, exp: now() + HOUR }))).status).toBe(200);
  });

  it('defaults to one day (AUTH_MAX_TOKEN_LIFETIME_SECONDS), where 0 leaves only exp required', async () => {
    const configured = (env: Record<string, string>) => {
      const { auth } = loadConfig({ AUTH_JWT_SECRET: SECRET, ...env });
      return auth.mode === 'jwt' ? auth.maxTokenLifetimeSeconds : undefined;
    };
    expect(configured({})).toBe(86_400);
    expect(configured({ AUTH_MAX_TOKEN_LIFETIME_SECONDS: '600' })).toBe(600);
    expect(() => configured({ AUTH_MAX_TOKEN_LIFETIME_SECONDS: 'forever' })).toThrow(/^AUTH_MAX_TOKEN_LIFETIME_SECONDS=forever: /);

    const unbounded = await startLocalServer({
      policy: createJwtPolicy({ ...jwtConfig, maxTokenLifetimeSeconds: configured({ AUTH_MAX_TOKEN_LIFETIME_SECONDS: '0' }) }),
    });
    const byDefault = await startLocalServer({ policy: createJwtPolicy(jwtConfig) });
    try {
      const start = (target: TestServer, jwt: string) =>
        fetch(`${target.url}/s3/start-upload?workspaceId=${A}&fileType=image/png`, { headers: { authorization: `Bearer ${jwt}` } });
      const yearLong = await token({ iat: now(), exp: now() + 365 * 24 * HOUR });
      expect((await start(unbounded, yearLong)).status).toBe(200);
      expect((await start(unbounded, await token({ iat: now() }))).status).toBe(401);
      expect((await start(byDefault, yearLong)).status).toBe(401);
      expect((await start(byDefault, await token({ iat: now(), exp: now() + 24 * HOUR }))).status).toBe(200);
    } finally {
      await unbounded.close();
      await byDefault.close();
    }
  });

  it('mintToken (and `pnpm token`) refuses to mint a token the server would refuse', async () => {
    await expect(mintToken({ secret: SECRET, workspaces: [A], expiresIn: '2d', maxLifetimeSeconds: 86_400 })).rejects.toThrow(
      'a token valid for 172800 s would be refused: the server accepts at most 86400 s (AUTH_MAX_TOKEN_LIFETIME_SECONDS)',
    );
    await expect(mintToken({ secret: SECRET, workspaces: [A], expiresIn: '1d', maxLifetimeSeconds: 86_400 })).resolves.toMatch(/^ey/);
  });
});
