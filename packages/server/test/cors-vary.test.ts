import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomData } from './support/bytes.js';
import { completeUpload, downloadUrl, rest, uploadParts } from './support/rest-client.js';
import { startLocalServer, type TestServer } from './support/server.js';

// Every answer whose CORS headers depend on the request's Origin says so with `Vary: Origin`, also
// the answers that echo no origin: otherwise a browser or proxy cache may serve an answer made for
// one origin (or for none) to another, with the wrong Access-Control-Allow-Origin.
const ALLOWED = 'https://app.example';
const OTHER = 'https://elsewhere.example.net';
/** An allowed origin, one not allowed, and no Origin at all. */
const ORIGIN_HEADERS: Record<string, string>[] = [{ Origin: ALLOWED }, { Origin: OTHER }, {}];

function varies(response: { headers: Headers }, name = 'Origin'): boolean {
  return (response.headers.get('vary') ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .includes(name.toLowerCase());
}

async function send(url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, init);
  await response.arrayBuffer();
  return response;
}

describe('Vary: Origin on the API in allowlist CORS mode (API_CORS_ORIGINS)', () => {
  let server: TestServer;
  const workspaceId = 'ws-cors-vary';
  let download = '';

  beforeAll(async () => {
    server = await startLocalServer({ corsOrigins: [ALLOWED] });
    const upload = await uploadParts(server.url, workspaceId, [randomData(2048)]);
    expect((await completeUpload(server.url, upload)).status).toBe(200);
    download = downloadUrl(server.url, workspaceId, upload.key);
  });
  afterAll(async () => {
    await server?.close();
  });

  const config = () => `${server.url}/s3/getBucketConfig`;

  it('echoes an allowed origin, with Vary: Origin', async () => {
    const answer = await send(config(), { headers: { Origin: ALLOWED } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(varies(answer)).toBe(true);
  });

  it('answers an origin not on the list without CORS headers, but with Vary: Origin', async () => {
    const answer = await send(config(), { headers: { Origin: OTHER } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(varies(answer)).toBe(true);
  });

  it('answers a request without Origin with Vary: Origin', async () => {
    const answer = await send(config());
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(varies(answer)).toBe(true);
  });

  it('sends Vary: Origin on downloads, the one cacheable answer, whatever the origin', async () => {
    for (const headers of ORIGIN_HEADERS) {
      const answer = await fetch(download, { headers });
      expect(answer.status).toBe(200);
      expect((await answer.arrayBuffer()).byteLength).toBe(2048);
      expect(varies(answer)).toBe(true);
    }
  });

  it('sends Vary: Origin on error answers to an origin not on the list', async () => {
    const answer = await rest(server.url, 'GET', '/s3/start-upload', { headers: { Origin: OTHER } });
    expect(answer).toMatchObject({ status: 400, body: { code: 'MISSING_PARAMETER' } });
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(varies(answer)).toBe(true);
  });

  it('sends Vary: Origin on preflights, allowed or not, and on tRPC', async () => {
    const preflight = (origin: string) =>
      send(`${server.url}/s3/start-upload`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
      });
    const allowed = await preflight(ALLOWED);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(varies(allowed)).toBe(true);
    const refused = await preflight(OTHER);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(varies(refused)).toBe(true);

    const trpc = await send(`${server.url}/trpc/bucket.getCors`, { headers: { Origin: OTHER } });
    expect(trpc.headers.get('access-control-allow-origin')).toBeNull();
    expect(varies(trpc)).toBe(true);
  });
});

describe('CORS that does not depend on the origin', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startLocalServer({ corsOrigins: '*' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers every origin with *, the same answer for all', async () => {
    for (const headers of ORIGIN_HEADERS) {
      const answer = await send(`${server.url}/s3/getBucketConfig`, { headers });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    }
  });
});

describe("Vary: Origin on the local store's signed URLs (CORS from the bucket rules)", () => {
  let server: TestServer;
  const workspaceId = 'ws-signed-vary';
  let partUrl = '';
  let getUrl = '';

  beforeAll(async () => {
    server = await startLocalServer();
    await server.store.putCorsRules([
      { AllowedMethods: ['PUT', 'GET'], AllowedOrigins: [ALLOWED], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] },
    ]);
    const upload = await uploadParts(server.url, workspaceId, [randomData(1024)]);
    expect((await completeUpload(server.url, upload)).status).toBe(200);
    getUrl = await server.store.signGetUrl(upload.key, 600);
    const open = await uploadParts(server.url, workspaceId, []);
    const signed = await rest(server.url, 'GET', '/s3/get-upload-url', {
      query: { workspaceId, assetId: open.assetId, UploadId: open.uploadId, PartNumber: '1' },
    });
    partUrl = signed.body.url;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('on part PUTs from an allowed origin, another origin and none', async () => {
    for (const [headers, allowOrigin] of [
      [{ Origin: ALLOWED }, ALLOWED],
      [{ Origin: OTHER }, null],
      [{}, null],
    ] as const) {
      const answer = await send(partUrl, { method: 'PUT', body: 'bytes', headers });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('access-control-allow-origin')).toBe(allowOrigin);
      expect(varies(answer)).toBe(true);
    }
  });

  it('on signed GETs, and on refusals of a bad signature', async () => {
    for (const headers of ORIGIN_HEADERS) {
      const answer = await send(getUrl, { headers });
      expect(answer.status).toBe(200);
      expect(varies(answer)).toBe(true);
    }
    const forged = new URL(getUrl);
    forged.searchParams.set('expires', String(Number(forged.searchParams.get('expires') ?? 0) + 1));
    const refused = await send(forged.toString(), { headers: { Origin: OTHER } });
    expect(refused.status).toBe(403);
    expect(varies(refused)).toBe(true);
  });

  it('on preflights, the refused ones too', async () => {
    const preflight = (origin: string) =>
      send(partUrl, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'PUT' } });
    const allowed = await preflight(ALLOWED);
    expect(allowed.status).toBe(200);
    expect(varies(allowed)).toBe(true);
    const refused = await preflight(OTHER);
    expect(refused.status).toBe(403);
    expect(varies(refused)).toBe(true);
    expect(varies(refused, 'Access-Control-Request-Method')).toBe(true);
  });
});
