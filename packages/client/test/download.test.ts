import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../server/src/errors.js';
import { createS3ServiceClient, type S3ServiceClient, S3ServiceError, type UploadResult } from '../src/index.js';
import { downloadToFile } from '../src/node.js';
import { startLocalServer, type TestServer } from './support/client.js';
import { hashBody, randomData, sha256 } from './support/data.js';

const workspaceId = 'client-download';

describe('download, downloadUrl and delete', () => {
  let server: TestServer;
  let client: S3ServiceClient;
  let dir: string;
  const data = randomData(300_000);
  let uploaded: UploadResult;

  beforeAll(async () => {
    server = await startLocalServer();
    client = createS3ServiceClient({ url: `${server.url}/` });
    dir = await mkdtemp(join(tmpdir(), 's3-client-download-'));
    uploaded = await client.upload(new Blob([data], { type: 'image/webp' }), { workspaceId });
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('download streams the object with its type and length', async () => {
    const response = await client.download({ key: uploaded.key, workspaceId });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/webp');
    expect(response.headers.get('content-length')).toBe(String(data.byteLength));
    expect(await hashBody(response)).toEqual({ sha256: sha256(data), size: data.byteLength });
  });

  it('download takes a byte range', async () => {
    const response = await client.download({ key: uploaded.key, workspaceId, range: { start: 10, end: 19 } });
    expect(response.status).toBe(206);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(data.subarray(10, 20));
  });

  it("download turns the REST error body into an S3ServiceError with the server's code", async () => {
    const missing = await client
      .download({ key: `${workspaceId}/digital_assets/nothing-here`, workspaceId })
      .catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(S3ServiceError);
    expect(missing).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    const foreign = await client.download({ key: 'other-ws/digital_assets/x', workspaceId }).catch((error: unknown) => error);
    expect(foreign).toBeInstanceOf(S3ServiceError);
    expect((foreign as S3ServiceError).status).toBeGreaterThanOrEqual(400);
  });

  it('download reports an unreachable service as NETWORK_ERROR', async () => {
    const offline = createS3ServiceClient({ url: 'http://127.0.0.1:1' });
    await expect(offline.download({ key: uploaded.key, workspaceId })).rejects.toMatchObject({
      name: 'S3ServiceError',
      code: 'NETWORK_ERROR',
    });
    await expect(offline.downloadUrl({ key: uploaded.key, workspaceId })).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
  });

  it('downloadUrl signs a GET URL that serves the bytes', async () => {
    const { url, expiresIn } = await client.downloadUrl({ key: uploaded.key, workspaceId, expiresIn: 60 });
    expect(expiresIn).toBe(60);
    const response = await fetch(url);
    expect(await hashBody(response)).toEqual({ sha256: sha256(data), size: data.byteLength });
  });

  it('downloadUrl answers NOT_FOUND for a missing object', async () => {
    await expect(client.downloadUrl({ key: `${workspaceId}/digital_assets/nothing-here`, workspaceId })).rejects.toMatchObject({
      name: 'S3ServiceError',
      code: 'NOT_FOUND',
      status: 404,
    });
  });

  it('downloadToFile (Node) saves the object to a path', async () => {
    const path = join(dir, 'saved.webp');
    const saved = await downloadToFile(client, { key: uploaded.key, workspaceId }, path);
    expect(saved).toMatchObject({ path, size: data.byteLength, contentType: 'image/webp' });
    expect(sha256(await readFile(path))).toBe(sha256(data));
  });

  it('downloadToFile leaves no file behind when the download fails', async () => {
    const path = join(dir, 'never.bin');
    await expect(downloadToFile(client, { key: `${workspaceId}/digital_assets/nothing-here`, workspaceId }, path)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect((await readdir(dir)).filter((name) => name.startsWith('never'))).toEqual([]);
  });

  it('delete removes the object', async () => {
    const doomed = await client.upload(randomData(10), { workspaceId });
    await expect(client.delete({ key: doomed.key, workspaceId })).resolves.toEqual({ success: true });
    await expect(client.download({ key: doomed.key, workspaceId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('headers', () => {
  let server: TestServer;
  const token = 'Bearer let-me-in';

  beforeAll(async () => {
    server = await startLocalServer({
      policy: {
        authorizeWorkspace: (caller) => {
          if (caller.headers.authorization !== token) throw new AppError('UNAUTHORIZED', 'no valid credentials');
        },
        authorizeAdmin: () => {
          throw new AppError('FORBIDDEN', 'no');
        },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('sends the headers function’s result to the service, and not to the signed part URLs', async () => {
    const seen: Array<{ method: string; authorization: string | null }> = [];
    const recording: typeof fetch = (input, init) => {
      seen.push({ method: init?.method ?? 'GET', authorization: new Headers(init?.headers).get('authorization') });
      return fetch(input, init);
    };
    const authed = createS3ServiceClient({ url: server.url, fetch: recording, headers: async () => ({ authorization: token }) });
    const data = randomData(1000);
    const result = await authed.upload(data, { workspaceId });
    expect(await hashBody(await authed.download({ key: result.key, workspaceId }))).toEqual({ sha256: sha256(data), size: 1000 });
    expect(seen.filter((request) => request.method === 'PUT').map((request) => request.authorization)).toEqual([null]);
    expect(seen.filter((request) => request.method !== 'PUT').every((request) => request.authorization === token)).toBe(true);
  });

  it('without them the service refuses with UNAUTHORIZED', async () => {
    const anonymous = createS3ServiceClient({ url: server.url });
    await expect(anonymous.upload(randomData(10), { workspaceId })).rejects.toMatchObject({
      name: 'UploadError',
      code: 'UNAUTHORIZED',
      status: 401,
    });
    await expect(anonymous.download({ key: `${workspaceId}/digital_assets/x`, workspaceId })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });
});
