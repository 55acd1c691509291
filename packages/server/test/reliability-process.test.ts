import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createS3Store } from '../src/storage/s3/index.js';
import { API_MAIN, type ApiProcess, killApi, runScript, startApi } from './support/api-process.js';
import { MiB, randomData, sha256 } from './support/bytes.js';
import { useCleanups } from './support/cleanups.js';
import { completeUpload, downloadUrl, type StartedUpload, uploadParts } from './support/rest-client.js';
import { apiEnvFor } from './support/s3-emulator.js';
import { useS3Emulator } from './support/s3-emulator-fixture.js';
import { closedPortEndpoint } from './support/s3-fake-server.js';
import { s3StoreOptions } from './support/s3-harness.js';

const { defer, tempDir } = useCleanups();

async function started(env: Record<string, string>): Promise<ApiProcess> {
  const api = await startApi(env);
  defer(() => killApi(api));
  return api;
}

const s3 = useS3Emulator();

function s3Env(overrides: Record<string, string> = {}): Record<string, string> {
  return { ...apiEnvFor(s3.emulator), ...overrides };
}

describe('start-up against a store that cannot serve', () => {
  it('refuses to start on a bucket that does not exist, naming AWS_BUCKET', { timeout: 30_000 }, async (context) => {
    s3.skipUnlessRunning(context);
    const api = runScript(API_MAIN, s3Env({ AWS_BUCKET: 'no-such-bucket-here' }));
    defer(() => killApi(api));
    expect(await api.exited).toEqual({ code: 1, signal: null });
    expect(api.stderr()).toMatch(/AWS_BUCKET=no-such-bucket-here: no such bucket at http:\/\/127\.0\.0\.1:\d+/);
    expect(api.logs.some((line) => typeof line.url === 'string')).toBe(false);
  });

  it('refuses to start when nothing answers at the endpoint, naming AWS_ENDPOINT_URL', { timeout: 30_000 }, async () => {
    const endpoint = await closedPortEndpoint();
    const api = runScript(API_MAIN, {
      AWS_BUCKET: 'some-bucket',
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'AKIASTARTUPTEST',
      AWS_SECRET_ACCESS_KEY: 'startup-test-secret',
    });
    defer(() => killApi(api));
    expect(await api.exited).toEqual({ code: 1, signal: null });
    expect(api.stderr()).toContain(`AWS_ENDPOINT_URL=${endpoint}: nothing answers there`);
    expect(api.stderr()).toMatch(/ECONNREFUSED/);
  });
});

/** Sends complete-upload and never waits for the answer: the process is about to be killed. */
function sendCompleteAndForget(baseUrl: string, upload: StartedUpload): void {
  const body = JSON.stringify({ workspaceId: upload.workspaceId, assetId: upload.assetId, uploadId: upload.uploadId, parts: upload.parts });
  const req = request(`${baseUrl}/s3/complete-upload`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  req.on('error', () => {});
  req.end(body);
}

async function downloadAll(url: string): Promise<Buffer> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

/** Makes the local store's complete slow enough to be killed in its middle (fault injection). */
const SLOW_PART_LINKS = { NODE_OPTIONS: `--import=${fileURLToPath(new URL('./support/slow-part-links.mjs', import.meta.url))}` };

/** Resolves once the local store has staged the object's first segment in its tmp/ folder: mid-complete. */
async function assemblyStarted(dir: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const staged = await readdir(join(dir, 'tmp')).catch(() => [] as string[]);
    const segments = await Promise.all(staged.map((name) => readdir(join(dir, 'tmp', name)).catch(() => [] as string[])));
    if (segments.some((names) => names.length > 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('the complete never started assembling');
}

describe('a complete cut short by SIGKILL, then retried', () => {
  const parts = [randomData(16 * MiB), randomData(16 * MiB), randomData(3 * MiB)];
  const whole = Buffer.concat(parts);

  it('succeeds on a local store killed while assembling: object intact, no duplicate', { timeout: 60_000 }, async () => {
    const dir = await tempDir('process-test-');
    const first = await started({ STORAGE_DIR: dir, ...SLOW_PART_LINKS });
    const upload = await uploadParts(first.url, 'ws-crash', parts);
    sendCompleteAndForget(first.url, upload);
    await assemblyStarted(dir);
    first.child.kill('SIGKILL');
    await first.exited;
    // Killed in the middle: the upload still holds its parts, and no object was committed.
    expect(await readdir(join(dir, 'uploads'))).toHaveLength(1);
    expect(await readdir(join(dir, 'meta/ws-crash/digital_assets')).catch(() => [])).toEqual([]);

    const second = await started({ STORAGE_DIR: dir });
    const retried = await completeUpload(second.url, upload);
    expect({ status: retried.status, body: retried.body }).toMatchObject({ status: 200, body: { success: true, key: upload.key } });
    expect(sha256(await downloadAll(downloadUrl(second.url, 'ws-crash', upload.key)))).toBe(sha256(whole));
    // One object in the workspace, and the upload is closed.
    expect(await readdir(join(dir, 'meta/ws-crash/digital_assets'))).toEqual([`${upload.assetId}.json`]);
    expect(await readdir(join(dir, 'uploads'))).toEqual([]);
    // A retry of the retry (its answer lost too) still answers the same object.
    expect((await completeUpload(second.url, upload)).status).toBe(200);
  });

  it('succeeds on the S3 store after a kill mid-complete', { timeout: 60_000 }, async (context) => {
    s3.skipUnlessRunning(context);
    const workspaceId = `ws-crash-${Date.now().toString(36)}`;
    // One catalogue folder for both processes, as one server restarted.
    const catalogDir = await tempDir('process-test-');
    const first = await started(s3Env({ STORAGE_DIR: catalogDir }));
    const upload = await uploadParts(first.url, workspaceId, parts);
    sendCompleteAndForget(first.url, upload);
    await new Promise((resolve) => setTimeout(resolve, 20));
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await started(s3Env({ STORAGE_DIR: catalogDir }));
    expect(await (await fetch(`${second.url}/readyz`)).json()).toEqual({ status: 'ready', store: 's3', catalog: 'pglite' });
    const retried = await completeUpload(second.url, upload);
    expect({ status: retried.status, body: retried.body }).toMatchObject({ status: 200, body: { success: true, key: upload.key } });
    expect(sha256(await downloadAll(downloadUrl(second.url, workspaceId, upload.key)))).toBe(sha256(whole));
    // One object in the workspace, and no multipart upload left open behind it.
    const listed = await fetch(`${second.url}/trpc/object.list?input=${encodeURIComponent(JSON.stringify({ json: { workspaceId } }))}`);
    const objects = ((await listed.json()) as { result: { data: { json: { objects: Array<{ key: string }> } } } }).result.data.json.objects;
    expect(objects.map((object) => object.key)).toEqual([upload.key]);
    const store = createS3Store(s3StoreOptions(s3.emulator));
    defer(async () => store.close?.());
    const pending = [];
    for await (const open of store.listPendingUploads({ initiatedBefore: new Date(Date.now() + 3_600_000) })) {
      if (open.key === upload.key) pending.push(open);
    }
    expect(pending).toEqual([]);
  });
});
