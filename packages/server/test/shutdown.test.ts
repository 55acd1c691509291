import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { openPgliteCatalog } from '../src/catalog/pglite.js';
import { createApp } from '../src/http/app.js';
import { createDrainState } from '../src/http/drain.js';
import { listen } from '../src/http/server.js';
import { createLocalStore } from '../src/storage/local/index.js';
import { type ApiProcess, killApi, startApi } from './support/api-process.js';
import { MiB, randomData, sha256 } from './support/bytes.js';
import { useCleanups } from './support/cleanups.js';
import { completeUpload, downloadUrl, openDownload, uploadParts } from './support/rest-client.js';

const { defer, tempDir } = useCleanups();

async function testCatalog() {
  const catalog = await openPgliteCatalog();
  defer(() => catalog.close());
  return catalog;
}

async function apiWithObject(env: Record<string, string>, size: number): Promise<{ api: ApiProcess; url: string; data: Buffer }> {
  const api = await startApi({ STORAGE_DIR: await tempDir('shutdown-test-'), ...env });
  defer(() => killApi(api));
  const data = randomData(size);
  const upload = await uploadParts(api.url, 'ws-shutdown', [data]);
  expect((await completeUpload(api.url, upload)).status).toBe(200);
  return { api, url: downloadUrl(api.url, 'ws-shutdown', upload.key), data };
}

/** Resolves once a connection to `url` is refused (the listener is closed). */
async function connectionRefused(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return false;
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
  }
}

describe('graceful shutdown of the API process', () => {
  it('finishes a download in flight after SIGTERM, refuses new connections, then exits 0', { timeout: 60_000 }, async () => {
    const { api, url, data } = await apiWithObject({ SHUTDOWN_GRACE_MS: '20000' }, 24 * MiB);
    const response = await openDownload(url);
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.pause();

    api.child.kill('SIGTERM');
    await api.waitForLog((line) => line.msg === 'shutting down: refusing new connections, draining requests');
    await expect.poll(() => connectionRefused(api.url), { timeout: 5_000 }).toBe(true);
    expect(api.child.exitCode).toBeNull();

    response.resume();
    await once(response, 'end');
    expect(response.complete).toBe(true);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(data));
    const exit = await api.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(api.logs.some((line) => line.msg === 'stopped')).toBe(true);
  });

  it('cuts what is still open when the grace period ends, and exits 0', { timeout: 60_000 }, async () => {
    const { api, url, data } = await apiWithObject({ SHUTDOWN_GRACE_MS: '1000' }, 32 * MiB);
    const response = await openDownload(url);
    await once(response, 'data');
    response.pause();

    // The cut surfaces as an 'aborted' error on the response; it is what this test waits for.
    response.on('error', () => {});
    const started = Date.now();
    api.child.kill('SIGTERM');
    const exit = await api.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(6_000);
    let received = 0;
    response.on('data', (chunk: Buffer) => (received += chunk.length));
    const closed = new Promise((resolve) => response.once('close', resolve));
    response.resume();
    await closed;
    expect(response.complete).toBe(false);
    expect(received).toBeLessThan(data.length);
  });

  it('answers readiness 503 and closes each connection once draining begins; liveness stays 200', { timeout: 30_000 }, async () => {
    const dir = await tempDir('shutdown-test-');
    const store = await createLocalStore({ dir, publicUrl: 'http://127.0.0.1' });
    const drain = createDrainState();
    const running = await listen(createApp({ store, catalog: await testCatalog(), drain }), { host: '127.0.0.1', port: 0, drain });
    defer(() => running.close());
    expect((await fetch(`${running.url}/readyz`)).status).toBe(200);

    // What a request on a keep-alive connection sees between SIGTERM and the end of the drain.
    drain.begin();
    const ready = await fetch(`${running.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'draining' });
    expect(ready.headers.get('connection')).toBe('close');
    const live = await fetch(`${running.url}/healthz`);
    expect(live.status).toBe(200);
    expect(live.headers.get('connection')).toBe('close');
  });

  it('begins draining when close() is called', { timeout: 10_000 }, async () => {
    const dir = await tempDir('shutdown-test-');
    const store = await createLocalStore({ dir, publicUrl: 'http://127.0.0.1' });
    const drain = createDrainState();
    const running = await listen(createApp({ store, catalog: await testCatalog(), drain }), { host: '127.0.0.1', port: 0, drain });
    const closing = running.close();
    expect(drain.draining).toBe(true);
    await closing;
    expect(await connectionRefused(running.url)).toBe(true);
  });

  it('answers 408 to a client that sends its headers too slowly (slowloris)', { timeout: 20_000 }, async () => {
    const dir = await tempDir('shutdown-test-');
    const store = await createLocalStore({ dir, publicUrl: 'http://127.0.0.1' });
    const running = await listen(createApp({ store, catalog: await testCatalog() }), { host: '127.0.0.1', port: 0, headersTimeoutMs: 500 });
    defer(() => running.close());
    const socket = connect(Number(new URL(running.url).port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /healthz HTTP/1.1\r\nHost: test\r\n');
    const drip = setInterval(() => socket.write('X-Slow: y\r\n'), 100);
    const started = Date.now();
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      clearInterval(drip);
    });
    // The server closes after its 408; a header line still on its way then meets a reset, which
    // events.once would turn into a rejection: only the close matters here.
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('close', resolve));
    clearInterval(drip);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
