import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJwtPolicy } from '../src/auth/jwt-policy.js';
import { mintToken } from '../src/auth/mint-token.js';
import { restDocument } from '../src/openapi/index.js';
import type { OpenApiDocument, ResponseObject } from '../src/openapi/types.js';
import { putPart, randomData } from './support/bytes.js';
import { type RestAnswer, type RestInit, rest } from './support/rest-client.js';
import { startLocalServer, type TestServer } from './support/server.js';

type Answer = RestAnswer;

/**
 * Every answer of the live server, held against the document it serves: a documented status, a
 * documented content type, the required headers, and a body that fits the schema. The same checks
 * schemathesis makes in `pnpm fuzz`, here on the paths a fuzzer cannot reach alone (a completed
 * upload, authorization, rate limits).
 */
function expectConforms(document: OpenApiDocument, method: string, path: string, answer: Answer): void {
  const operation = document.paths[path]?.[method.toLowerCase()];
  expect(operation, `${method} ${path} is documented`).toBeDefined();
  const response: ResponseObject | undefined = operation!.responses[String(answer.status)];
  expect(response, `${method} ${path} documents ${answer.status}: ${answer.text.slice(0, 200)}`).toBeDefined();

  for (const [name, header] of Object.entries(response!.headers ?? {})) {
    const value = answer.headers.get(name);
    if (header.required) expect(value, `${name} header`).not.toBeNull();
    if (value === null) continue;
    const coerced = (header.schema as { type?: string }).type === 'integer' ? Number(value) : value;
    expect(z.fromJSONSchema(header.schema as never).safeParse(coerced).success, `${name}: ${value}`).toBe(true);
  }

  const contentType = answer.headers.get('content-type') ?? '';
  const media = Object.keys(response!.content ?? {});
  if (media.includes('application/json')) {
    expect(contentType).toMatch(/^application\/json/);
    const schema = response!.content!['application/json']!.schema;
    const checked = z.fromJSONSchema(schema as never).safeParse(JSON.parse(answer.text));
    expect(checked.success, `${method} ${path} ${answer.status} body ${answer.text.slice(0, 300)}: ${checked.error?.message}`).toBe(true);
  } else {
    expect(media).toContain('*/*');
  }
  expect(answer.text).not.toMatch(/\n\s+at |\.(ts|js):\d+:\d+/);
}

function call(server: TestServer, method: string, path: string, init: RestInit = {}): Promise<Answer> {
  return rest(server.url, method, path, init);
}

describe('the live /s3 answers conform to the served OpenAPI document', () => {
  let server: TestServer;
  let document: OpenApiDocument;
  const workspaceId = 'conformance';

  /** Calls and checks in one step; returns the answer for the flow to continue with. */
  const checked = async (method: string, path: string, init: Parameters<typeof call>[3] = {}) => {
    const answer = await call(server, method, path, init);
    expectConforms(document, method, path, answer);
    return answer;
  };

  beforeAll(async () => {
    server = await startLocalServer();
    const served = await call(server, 'GET', '/s3/openapi.json');
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toMatch(/^application\/json/);
    document = JSON.parse(served.text) as OpenApiDocument;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves the same document the router was built from', () => {
    expect(document).toEqual(JSON.parse(JSON.stringify(restDocument())));
  });

  it('the whole upload flow, download with ranges, delete and abort', async () => {
    expect((await checked('POST', '/s3/updateBucketConfig')).status).toBe(200);
    expect((await checked('GET', '/s3/getBucketConfig')).status).toBe(200);

    const started = JSON.parse((await checked('GET', '/s3/start-upload', { query: { workspaceId, fileType: 'image/png' } })).text);
    const ids = { UploadId: started.uploadId, assetId: started.assetId, workspaceId };
    const signed = JSON.parse((await checked('GET', '/s3/get-upload-url', { query: { ...ids, PartNumber: '1' } })).text);
    const bytes = randomData(4096);
    const put = await putPart(signed.url, bytes);
    expect((await checked('GET', '/s3/list-parts', { query: ids })).status).toBe(200);
    const completed = await checked('POST', '/s3/complete-upload', {
      json: { uploadId: started.uploadId, assetId: started.assetId, workspaceId, parts: [{ ETag: put.etag, PartNumber: 1 }] },
    });
    expect(completed.status).toBe(200);
    const { key } = JSON.parse(completed.text);

    expect((await checked('GET', '/s3/download', { query: { key, workspaceId } })).status).toBe(200);
    const partial = await checked('GET', '/s3/download', { query: { key, workspaceId }, headers: { range: 'bytes=10-19' } });
    expect({ status: partial.status, range: partial.headers.get('content-range') }).toEqual({ status: 206, range: 'bytes 10-19/4096' });
    expect((await checked('GET', '/s3/download', { query: { key, workspaceId }, headers: { range: 'bytes=5000-' } })).status).toBe(416);
    expect((await checked('DELETE', '/s3/delete', { query: { key, workspaceId } })).status).toBe(200);
    expect((await checked('GET', '/s3/download', { query: { key, workspaceId } })).status).toBe(404);

    const other = JSON.parse((await checked('GET', '/s3/start-upload', { query: { workspaceId, fileType: 'video/mp4' } })).text);
    const otherIds = { UploadId: other.uploadId, assetId: other.assetId, workspaceId };
    expect((await checked('DELETE', '/s3/abort-upload', { query: otherIds })).status).toBe(200);
    expect((await checked('GET', '/s3/list-parts', { query: otherIds })).status).toBe(404);
  });

  it('error answers carry a documented code for their status', async () => {
    expect((await checked('GET', '/s3/get-upload-url', { query: { workspaceId } })).status).toBe(400);
    expect((await checked('GET', '/s3/start-upload', { query: { workspaceId, fileType: 'text/html' } })).status).toBe(400);
    expect((await checked('GET', '/s3/download', { query: { workspaceId, key: 'other/digital_assets/abc' } })).status).toBe(400);
    const unknown = { workspaceId, assetId: 'abc', UploadId: '0123456789abcdef' };
    expect((await checked('GET', '/s3/get-upload-url', { query: { ...unknown, PartNumber: '1' } })).status).toBe(404);
    expect(
      (await checked('POST', '/s3/complete-upload', { body: '{"uploadId":', headers: { 'content-type': 'application/json' } })).status,
    ).toBe(400);
  });

  // Found by schemathesis: `[{}]` used to read as "no body" and applied the default CORS rules.
  it.each([['[{}]'], ['"rules"'], ['7'], ['null']])('a JSON body %s that is not an object is 400 INVALID_PARAMETER', async (body) => {
    for (const path of ['/s3/updateBucketConfig', '/s3/complete-upload']) {
      const answer = await checked('POST', path, { body, headers: { 'content-type': 'application/json' } });
      expect({ status: answer.status, code: JSON.parse(answer.text).code }).toEqual({ status: 400, code: 'INVALID_PARAMETER' });
    }
  });
});

describe('refusals by authorization and rate limits conform too', () => {
  const SECRET = 'a-conformance-secret-that-is-long-enough-012345';
  let server: TestServer;
  let document: OpenApiDocument;

  beforeAll(async () => {
    server = await startLocalServer({
      policy: createJwtPolicy({ mode: 'jwt', secret: SECRET, workspacesClaim: 'workspaces', roleClaim: 'role', adminRole: 'admin' }),
      rateLimits: { windowMs: 60_000, perIp: 6, perWorkspace: 0 },
    });
    document = restDocument();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('401 without a token, 403 outside its workspaces or without the admin role, then 429 with Retry-After', async () => {
    const token = await mintToken({ secret: SECRET, workspaces: ['mine'] });
    const auth = { authorization: `Bearer ${token}` };
    const steps: Array<[string, string, Parameters<typeof call>[3], number]> = [
      ['GET', '/s3/start-upload', { query: { workspaceId: 'mine', fileType: 'image/png' } }, 401],
      ['GET', '/s3/start-upload', { query: { workspaceId: 'theirs', fileType: 'image/png' }, headers: auth }, 403],
      ['GET', '/s3/getBucketConfig', { headers: auth }, 403],
      ['POST', '/s3/updateBucketConfig', {}, 401],
    ];
    for (const [method, path, init, status] of steps) {
      const answer = await call(server, method, path, init);
      expect(answer.status).toBe(status);
      expectConforms(document, method, path, answer);
    }
    let answer: Answer | undefined;
    for (let attempt = 0; attempt < 10 && answer?.status !== 429; attempt += 1) answer = await call(server, 'GET', '/s3/openapi.json');
    expect(answer!.status).toBe(429);
    expectConforms(document, 'GET', '/s3/openapi.json', answer!);
    expect(JSON.parse(answer!.text).code).toBe('RATE_LIMITED');
  });
});
