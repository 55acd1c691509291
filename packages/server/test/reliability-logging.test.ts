import { once } from 'node:events';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, wantsPrettyLogs } from '../src/logger.js';
import { putPart, randomData } from './support/bytes.js';
import { useCleanups } from './support/cleanups.js';
import { rest } from './support/rest-client.js';
import { answerS3Error, fakeS3Store, startFakeS3 } from './support/s3-fake-server.js';
import { startLocalServer, startServer, type TestServer } from './support/server.js';

type Line = Record<string, unknown>;

/** A logger whose JSON lines the test reads back. */
function capturedLogger() {
  const lines: Line[] = [];
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString('utf8').split('\n').filter(Boolean)) {
        raw.push(text);
        lines.push(JSON.parse(text) as Line);
      }
      callback();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines, raw };
}

const { defer } = useCleanups();

async function localServer(logger: ReturnType<typeof createLogger>): Promise<TestServer> {
  const server = await startLocalServer({ logger });
  defer(() => server.close());
  return server;
}

/** The closing line of the request with this id (written when its response finished). */
async function requestLine(lines: Line[], reqId: string): Promise<Line> {
  await expect.poll(() => lines.some((line) => line.reqId === reqId && line.status !== undefined)).toBe(true);
  return lines.find((line) => line.reqId === reqId && line.status !== undefined)!;
}

describe('request logs', () => {
  it('write one line per request: id, method, route, status, latency, workspace', async () => {
    const { logger, lines } = capturedLogger();
    const server = await localServer(logger);
    const answer = await rest(server.url, 'GET', '/s3/start-upload', {
      query: { workspaceId: 'ws-logs', fileType: 'image/png' },
      headers: { 'X-Request-Id': 'lb-7f3a.42' },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-request-id')).toBe('lb-7f3a.42');
    const line = await requestLine(lines, 'lb-7f3a.42');
    expect(line).toMatchObject({
      level: 30,
      service: 's3-service',
      method: 'GET',
      route: '/s3/start-upload',
      status: 200,
      workspace: 'ws-logs',
      completed: true,
      msg: 'GET /s3/start-upload 200',
    });
    expect(typeof line.latencyMs).toBe('number');
    expect(typeof line.time).toBe('string');
  });

  it('replace an X-Request-Id that is not a sane token, and echo the one used', async () => {
    const { logger, lines } = capturedLogger();
    const server = await localServer(logger);
    for (const offered of ['has spaces in it', 'x'.repeat(200), 'line\\nbreak', '"quoted"']) {
      const answer = await rest(server.url, 'GET', '/healthz', { headers: { 'X-Request-Id': offered } });
      const used = answer.headers.get('x-request-id')!;
      expect(used).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      await requestLine(lines, used);
    }
  });

  it('name the tRPC procedure as the route and the error code of a failed call', async () => {
    const { logger, lines } = capturedLogger();
    const server = await localServer(logger);
    const input = encodeURIComponent(JSON.stringify({ json: { workspaceId: 'ws-logs', key: 'ws-logs/digital_assets/missing' } }));
    const answer = await rest(server.url, 'GET', `/trpc/object.head?input=${input}`, { headers: { 'X-Request-Id': 'trpc-1' } });
    expect(answer.status).toBe(404);
    expect(await requestLine(lines, 'trpc-1')).toMatchObject({
      route: '/trpc/object.head',
      status: 404,
      workspace: 'ws-logs',
      code: 'NOT_FOUND',
      error: 'no object at ws-logs/digital_assets/missing',
    });
  });

  it('never contain bearer tokens or URL signatures', async () => {
    const { logger, lines, raw } = capturedLogger();
    const server = await localServer(logger);
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzZWNyZXQiOnRydWV9.c2lnbmF0dXJlLXNlY3JldA';
    await rest(server.url, 'GET', '/s3/start-upload', {
      query: { workspaceId: 'ws-logs', fileType: 'image/png' },
      headers: { Authorization: `Bearer ${token}`, 'X-Request-Id': 'with-token' },
    });
    const started = await rest(server.url, 'GET', '/s3/start-upload', { query: { workspaceId: 'ws-logs', fileType: 'image/png' } });
    const signed = await rest(server.url, 'GET', '/s3/get-upload-url', {
      query: { workspaceId: 'ws-logs', assetId: started.body.assetId, UploadId: started.body.uploadId, PartNumber: '1' },
    });
    const signature = new URL(signed.body.url as string).searchParams.get('signature')!;
    expect(signature.length).toBeGreaterThan(16);
    expect((await putPart(signed.body.url as string, randomData(1024))).status).toBe(200);
    // A signature-bearing URL that fails, too: failures are where details get logged.
    const tampered = new URL(signed.body.url as string);
    tampered.searchParams.set('signature', 'ab'.repeat(32));
    expect((await putPart(tampered.toString(), randomData(16))).status).toBe(403);

    await requestLine(lines, 'with-token');
    await expect.poll(() => lines.filter((line) => typeof line.url === 'string' && line.url.includes('signature=')).length).toBe(2);
    const everything = raw.join('\n');
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(signature);
    expect(everything).not.toContain('ab'.repeat(32));
    expect(everything).toContain('signature=[redacted]');
  });

  it('record a client that left in the middle of its request body as such, not as a server failure', async () => {
    const { logger, lines } = capturedLogger();
    const server = await localServer(logger);
    const { hostname, port } = new URL(server.url);
    const started = await rest(server.url, 'GET', '/s3/start-upload', { query: { workspaceId: 'ws-logs', fileType: 'image/png' } });
    const signed = await rest(server.url, 'GET', '/s3/get-upload-url', {
      query: { workspaceId: 'ws-logs', assetId: started.body.assetId, UploadId: started.body.uploadId, PartNumber: '1' },
    });
    const partUrl = new URL(signed.body.url as string);
    for (const [method, path, reqId] of [
      ['POST', '/s3/complete-upload', 'gone-mid-body-rest'],
      ['POST', '/trpc/upload.complete', 'gone-mid-body-trpc'],
      ['PUT', `${partUrl.pathname}${partUrl.search}`, 'gone-mid-body-part'],
    ] as const) {
      const socket = connect(Number(port), hostname);
      await once(socket, 'connect');
      socket.write(
        `${method} ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nX-Request-Id: ${reqId}\r\n\r\n{"json":`,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.destroy();
      const line = await requestLine(lines, reqId);
      expect(line).toMatchObject({ status: 499, completed: false, level: 30 });
      expect(line).not.toHaveProperty('code');
    }
  });

  it("carry S3's request id and the error of a failed store call", async () => {
    const fake = await startFakeS3((_request, response, index) =>
      answerS3Error(response, 500, 'InternalError', 'We encountered an internal error.', `s3-req-${index}`),
    );
    defer(() => fake.close());
    const { logger, lines, raw } = capturedLogger();
    const server = await startServer(
      async () => ({
        store: fakeS3Store(fake.endpoint, { credentials: { accessKeyId: 'AKIALOGTEST', secretAccessKey: 'log-test-secret-never-logged' } }),
      }),
      { logger },
    );
    defer(() => server.close());
    const answer = await rest(server.url, 'GET', '/s3/start-upload', {
      query: { workspaceId: 'ws-logs', fileType: 'image/png' },
      headers: { 'X-Request-Id': 'store-failure' },
    });
    expect(answer.status).toBe(502);
    expect(answer.body.error).toContain('request id s3-req-2');
    const line = await requestLine(lines, 'store-failure');
    expect(line).toMatchObject({ level: 50, status: 502, code: 'S3_ERROR', storeRequestId: 's3-req-2', workspace: 'ws-logs' });
    expect((line.err as { message: string }).message).toMatch(/CreateMultipartUpload failed: InternalError/);
    expect(raw.join('\n')).not.toContain('log-test-secret-never-logged');
    // The SDK's raw HTTP response is not dumped into the line.
    expect(raw.find((text) => text.includes('"reqId":"store-failure"'))!.length).toBeLessThan(8_000);
  });
});

describe('log format', () => {
  it('is pretty only in development on a terminal', () => {
    expect(wantsPrettyLogs('development', true)).toBe(true);
    expect(wantsPrettyLogs('development', false)).toBe(false);
    expect(wantsPrettyLogs('test', true)).toBe(false);
    expect(wantsPrettyLogs('production', true)).toBe(false);
  });
});
