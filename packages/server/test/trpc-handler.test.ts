import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowAllPolicy } from '../src/auth/policy.js';
import { openPgliteCatalog } from '../src/catalog/pglite.js';
import { DEFAULT_ALLOWED_FILE_TYPES } from '../src/config.js';
import { type AppDependencies, createRequestContext } from '../src/http/request-context.js';
import { trpcHandler } from '../src/http/trpc-handler.js';
import { silentLogger } from '../src/logger.js';
import { appRouter } from '../src/router/index.js';
import { useLocalHarness } from './support/local-harness-fixture.js';

/** Small, so that the limit is reached without megabytes of test data. */
const MAX_BODY = 4096;

interface Exchange {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Sent in pieces with chunked encoding (no content-length), as a streaming client would. */
  chunked?: boolean;
}

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

/** The headers a tRPC client or a proxy acts on; Date and the framing headers differ by design. */
const COMPARED_HEADERS = ['content-type', 'vary', 'allow', 'set-cookie'];

describe('tRPC handler: answers exactly as @trpc/server’s Express adapter does', () => {
  // One instant for every URL the store signs: answers compared byte for byte must not differ in
  // their expiry because the second ticked between the two calls.
  const signedAt = Date.now();
  const harness = useLocalHarness({ now: () => signedAt });
  let server: Server;
  let base = '';
  const workspaceId = 'ws-handler';
  let uploadRef: { workspaceId: string; assetId: string; uploadId: string };

  beforeAll(async () => {
    const deps: AppDependencies = {
      downloadIdleTimeoutMs: 60_000,
      store: harness.store,
      catalog: await openPgliteCatalog(),
      policy: allowAllPolicy,
      uploads: { allowedFileTypes: DEFAULT_ALLOWED_FILE_TYPES },
      quotas: {},
      logger: silentLogger,
    };
    const app = express();
    app.use(
      '/reference',
      createExpressMiddleware({
        router: appRouter,
        maxBodySize: MAX_BODY,
        createContext: ({ req, res }) => createRequestContext(deps, req, res),
      }),
    );
    app.use(
      '/ours',
      trpcHandler({ router: appRouter, maxBodySize: MAX_BODY, createContext: (req, res) => createRequestContext(deps, req, res) }),
    );
    server = createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const assetId = 'YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4';
    const { uploadId } = await harness.store.createMultipartUpload(`${workspaceId}/digital_assets/${assetId}`, 'application/pdf');
    uploadRef = { workspaceId, assetId, uploadId };
  });
  afterAll(async () => {
    server?.closeAllConnections();
    server?.close();
  });

  const send = (mount: string, exchange: Exchange): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...exchange.headers };
      if (exchange.body !== undefined && !exchange.chunked) headers['content-length'] = String(Buffer.byteLength(exchange.body));
      const outgoing = httpRequest(`${base}/${mount}${exchange.path}`, { method: exchange.method, headers, agent: false }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => {
          const picked: Answer['headers'] = {};
          for (const name of COMPARED_HEADERS) picked[name] = incoming.headers[name]?.toString();
          resolve({ status: incoming.statusCode!, headers: picked, body: Buffer.concat(chunks).toString() });
        });
        incoming.on('error', reject);
      });
      // A server that answers before reading the whole body may close while the rest is sent.
      outgoing.on('error', (error: NodeJS.ErrnoException) =>
        error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error),
      );
      if (exchange.chunked && exchange.body !== undefined) {
        const half = Math.floor(exchange.body.length / 2);
        outgoing.write(exchange.body.slice(0, half));
        outgoing.end(exchange.body.slice(half));
      } else {
        outgoing.end(exchange.body);
      }
    });

  const query = (path: string, input: unknown, headers: Record<string, string> = {}): Exchange => ({
    method: 'GET',
    path: `/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`,
    headers,
  });
  const mutation = (path: string, input: unknown, headers: Record<string, string> = {}): Exchange => ({
    method: 'POST',
    path: `/${path}`,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ json: input }),
  });
  const batch = (method: 'GET' | 'POST', paths: string[], inputs: unknown[], headers: Record<string, string> = {}): Exchange => {
    const encoded = JSON.stringify(Object.fromEntries(inputs.map((input, index) => [index, { json: input }])));
    return method === 'GET'
      ? { method, path: `/${paths.join(',')}?batch=1&input=${encodeURIComponent(encoded)}`, headers }
      : { method, path: `/${paths.join(',')}?batch=1`, headers: { 'content-type': 'application/json', ...headers }, body: encoded };
  };

  const cases: Record<string, () => Exchange> = {
    'a query': () => query('upload.listParts', uploadRef),
    'a mutation': () => mutation('object.delete', { workspaceId, key: `${workspaceId}/digital_assets/bm90aGluZ2hlcmVhdGFsbGF0YWxsMDA` }),
    'a query that fails in the store': () =>
      query('object.head', { workspaceId, key: `${workspaceId}/digital_assets/bm90aGluZ2hlcmVhdGFsbGF0YWxsMDA` }),
    'an input that fails validation': () => mutation('upload.signParts', { ...uploadRef, partNumbers: [0, 0] }),
    'a call of another workspace’s upload': () => query('upload.listParts', { ...uploadRef, workspaceId: 'ws-other' }),
    'an unknown procedure': () => query('upload.nothing', {}),
    'a query sent as POST': () => mutation('upload.listParts', uploadRef),
    'a mutation sent as GET': () => query('object.delete', { workspaceId, key: 'x' }),
    'a body that is not JSON': () => ({
      method: 'POST',
      path: '/object.delete',
      headers: { 'content-type': 'application/json' },
      body: '{"json":',
    }),
    'an unsupported content type': () => ({
      method: 'POST',
      path: '/object.delete',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    }),
    'a POST without a body': () => ({ method: 'POST', path: '/object.delete', headers: { 'content-type': 'application/json' } }),
    'a batch of queries, one failing': () => batch('GET', ['upload.listParts', 'object.head'], [uploadRef, { workspaceId, key: 'nope' }]),
    'a batch of mutations': () =>
      batch(
        'POST',
        ['object.delete', 'object.delete'],
        [
          { workspaceId, key: `${workspaceId}/digital_assets/bm90aGluZ2hlcmVhdGFsbGF0YWxsMDA` },
          { workspaceId, key: 'bad key' },
        ],
      ),
    'a streamed (jsonl) batch': () =>
      batch('GET', ['upload.listParts', 'object.head'], [uploadRef, { workspaceId, key: 'nope' }], { 'trpc-accept': 'application/jsonl' }),
    'a HEAD request': () => ({ method: 'HEAD', path: '/upload.listParts' }),
    'a body over the limit, declared by content-length': () =>
      mutation('upload.signParts', { ...uploadRef, partNumbers: Array.from({ length: 2000 }, (_, index) => index + 1) }),
    'a body over the limit, sent chunked': () => ({
      ...mutation('upload.signParts', { ...uploadRef, partNumbers: Array.from({ length: 2000 }, (_, index) => index + 1) }),
      chunked: true,
    }),
    'a body just under the limit, sent chunked': () => ({
      ...mutation('upload.signParts', { ...uploadRef, partNumbers: [1, 2, 3] }),
      chunked: true,
    }),
  };

  for (const [name, make] of Object.entries(cases)) {
    it(`answers ${name} with the same status, headers and bytes`, async () => {
      const reference = await send('reference', make());
      const ours = await send('ours', make());
      expect(ours).toEqual(reference);
    });
  }

  it('refuses a body over the limit with 413 PAYLOAD_TOO_LARGE in tRPC’s error shape', async () => {
    const answer = await send('ours', cases['a body over the limit, sent chunked']!());
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error.json.data).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 });
  });

  it('answers an unsupported content type as the caller’s mistake (400 INVALID_PARAMETER), not as a server failure', async () => {
    const answer = await send('ours', cases['an unsupported content type']!());
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error.json).toMatchObject({
      message: 'Unsupported content-type "text/plain',
      data: { code: 'INVALID_PARAMETER' },
    });
  });

  it('answers a call in one response with its length, not in chunks', async () => {
    const answer = await fetch(`${base}/ours/upload.listParts?input=${encodeURIComponent(JSON.stringify({ json: uploadRef }))}`);
    const body = await answer.text();
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    expect(JSON.parse(body)).toEqual({ result: { data: { json: { parts: [], checksumAlgorithm: null } } } });
  });
});
