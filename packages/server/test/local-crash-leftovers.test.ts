import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { API_MAIN, type ApiProcess, killApi, runScript } from './support/api-process.js';
import { MiB, randomData, sha256 } from './support/bytes.js';
import { useCleanups } from './support/cleanups.js';
import { completeUpload, downloadUrl, rest, type StartedUpload, uploadParts } from './support/rest-client.js';

const { defer, tempDir } = useCleanups();

/**
 * Power cuts at each point of the local store's complete and delete (a SIGKILL the API process
 * sends itself right after one file-system call, injected by a preload module), then a restart:
 * the start-up sweep must leave the data folder holding the live objects and nothing else, and
 * the live objects must still read byte-exact.
 */
const CRASH_AT = fileURLToPath(new URL('./support/crash-at.mjs', import.meta.url));

/** Crash leftovers older than this are swept; short, so the test waits a second, not two hours. */
const ORPHAN_AGE = { LOCAL_ORPHAN_AGE_SECONDS: '1' };

interface CrashPoint {
  call: 'rename' | 'rm' | 'linkSync' | 'unlinkSync';
  from?: string;
  to?: string;
  /** Which matching call crashes: the first object's complete makes the same calls before. */
  nth?: number;
}

const ID = '[0-9a-f]{32}';

/** Where complete (of the second object) and delete can be cut, as the file-system call just done. */
const POINTS = {
  /** complete: the first part linked into the staged folder in tmp/, the others not yet. */
  staging: { call: 'linkSync', from: '^uploads/', to: `^tmp/${ID}/\\d{5}$`, nth: 2 },
  /** complete: the staged folder renamed into blobs/, no metadata names it yet. */
  blobBeforeMetadata: { call: 'rename', from: '^tmp/', to: '^blobs/', nth: 2 },
  /** complete: the metadata renamed into place (the commit), the upload folder still there. */
  metadataBeforeUploadRemoved: { call: 'rename', from: '^tmp/', to: '^meta/', nth: 2 },
  /** complete: the upload folder renamed into tmp/, its removal not begun. */
  uploadFolderRetired: { call: 'rename', from: '^uploads/', to: '^tmp/', nth: 2 },
  /** complete retried over its own committed object: the replaced blob renamed into tmp/, not removed. */
  replacedBlobRetired: { call: 'rename', from: '^blobs/', to: '^tmp/' },
  /** delete: the metadata removed, the blob not yet moved out of blobs/. */
  deleteBeforeBlobRetired: { call: 'rm', from: '^meta/' },
  /** delete: the blob moved into tmp/ and its first segment unlinked, the rest not. */
  deleteMidRemoval: { call: 'unlinkSync', from: `^tmp/${ID}/\\d{5}$` },
} satisfies Record<string, CrashPoint>;

function crashingAt(point: CrashPoint): Record<string, string> {
  return { NODE_OPTIONS: `--import=${CRASH_AT}`, CRASH_AT: JSON.stringify(point) };
}

/** Starts the API and waits until it listens: on a busy 2-core machine a start can take 20 s. */
async function started(env: Record<string, string>): Promise<ApiProcess> {
  const api = runScript(API_MAIN, env);
  defer(() => killApi(api));
  const line = await api.waitForLog((entry) => typeof entry.url === 'string' && entry.msg !== undefined, 60_000);
  api.url = line.url as string;
  return api;
}

/** Resolves once the process killed itself at its crash point. */
async function crashed(api: ApiProcess): Promise<void> {
  expect(await api.exited).toEqual({ code: null, signal: 'SIGKILL' });
  // Leftovers must be older than the sweep's age when the next process starts.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
}

/** Sends a request whose answer never comes: the process dies while serving it. */
function sendAndForget(url: string, init: RequestInit): void {
  fetch(url, init).then(
    (response) => response.body?.cancel(),
    () => undefined,
  );
}

function completeAndForget(baseUrl: string, upload: StartedUpload): void {
  const { workspaceId, assetId, uploadId, parts } = upload;
  sendAndForget(`${baseUrl}/s3/complete-upload`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workspaceId, assetId, uploadId, parts }),
  });
}

function deleteUrl(baseUrl: string, upload: StartedUpload): string {
  const url = new URL('/s3/delete', baseUrl);
  url.searchParams.set('workspaceId', upload.workspaceId);
  url.searchParams.set('key', upload.key);
  return url.toString();
}

interface Stored {
  upload: StartedUpload;
  bytes: Buffer;
}

async function storeObject(baseUrl: string, workspaceId: string, parts: Buffer[]): Promise<Stored> {
  const upload = await uploadParts(baseUrl, workspaceId, parts);
  const answer = await completeUpload(baseUrl, upload);
  expect(answer.status).toBe(200);
  return { upload, bytes: Buffer.concat(parts) };
}

/**
 * Bytes on disk under the store's folders, each file counted once however many names (hard
 * links) it has: what `du` would say. The catalogue's folder beside them is not the store's.
 */
async function storeDiskUse(dir: string): Promise<number> {
  const inodes = new Map<string, number>();
  const walk = async (path: string): Promise<void> => {
    const info = await lstat(path);
    if (info.isDirectory()) {
      for (const name of await readdir(path)) await walk(join(path, name));
      return;
    }
    inodes.set(`${info.dev}:${info.ino}`, info.size);
  };
  for (const folder of ['meta', 'blobs', 'uploads', 'tmp', 'bucket']) await walk(join(dir, folder));
  return [...inodes.values()].reduce((total, size) => total + size, 0);
}

/** Metadata, upload records and the like: a few KiB beside the objects' bytes. */
const SMALL_FILES = 64 * 1024;

/** The store holds exactly `live`: their bytes (plus small files), one blob each, nothing in tmp/. */
async function expectOnlyLive(baseUrl: string, dir: string, live: Stored[], gone: Stored[] = []): Promise<void> {
  const liveBytes = live.reduce((total, object) => total + object.bytes.length, 0);
  const used = await storeDiskUse(dir);
  expect(used).toBeGreaterThanOrEqual(liveBytes);
  expect(used - liveBytes).toBeLessThan(SMALL_FILES);
  expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  expect(await readdir(join(dir, 'blobs'))).toHaveLength(live.length);
  for (const object of live) {
    const response = await fetch(downloadUrl(baseUrl, object.upload.workspaceId, object.upload.key));
    expect(response.status).toBe(200);
    expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(sha256(object.bytes));
  }
  for (const object of gone) {
    const response = await fetch(downloadUrl(baseUrl, object.upload.workspaceId, object.upload.key));
    await response.arrayBuffer();
    expect(response.status).toBe(404);
  }
}

const keeperParts = () => [randomData(1 * MiB)];
const secondParts = () => [randomData(5 * MiB), randomData(2 * MiB)];

describe('a local store cut by a crash in complete leaves nothing behind once it restarts', () => {
  const completeCrashes = [
    ['while staging the parts', [POINTS.staging]],
    ['after moving the staged folder into blobs/, before the metadata', [POINTS.blobBeforeMetadata]],
    ['after the metadata, before the upload folder is removed', [POINTS.metadataBeforeUploadRemoved]],
    ['after moving the upload folder into tmp/, before removing it', [POINTS.uploadFolderRetired]],
    // The first cut leaves the upload open over a committed object; its retry replaces that object and is cut too.
    ['while a retried complete replaces the object it committed', [POINTS.metadataBeforeUploadRemoved, POINTS.replacedBlobRetired]],
  ] as const;

  it.each(completeCrashes)('killed %s', { timeout: 120_000 }, async (_name, points) => {
    const dir = await tempDir('crash-leftovers-');
    const env = { STORAGE_DIR: dir, ...ORPHAN_AGE };
    let api = await started({ ...env, ...crashingAt(points[0]) });
    const keeper = await storeObject(api.url, 'ws-crash', keeperParts());
    const parts = secondParts();
    const second: Stored = { upload: await uploadParts(api.url, 'ws-crash', parts), bytes: Buffer.concat(parts) };
    completeAndForget(api.url, second.upload);
    await crashed(api);
    for (const point of points.slice(1)) {
      api = await started({ ...env, ...crashingAt(point) });
      completeAndForget(api.url, second.upload);
      await crashed(api);
    }

    api = await started(env);
    // The client retries the complete whose answer it never got.
    const retried = await completeUpload(api.url, second.upload);
    expect({ status: retried.status, body: retried.body }).toMatchObject({ status: 200, body: { success: true, key: second.upload.key } });
    await expectOnlyLive(api.url, dir, [keeper, second]);
    expect(await readdir(join(dir, 'uploads'))).toEqual([]);

    // Deleting the object frees its bytes: no leftover still holds a link to its parts.
    const deleted = await rest(api.url, 'DELETE', '/s3/delete', { query: { workspaceId: 'ws-crash', key: second.upload.key } });
    expect(deleted).toMatchObject({ status: 200, body: { success: true } });
    await expectOnlyLive(api.url, dir, [keeper], [second]);
  });
});

describe('a local store cut by a crash in delete leaves nothing behind once it restarts', () => {
  const deleteCrashes = [
    ['after removing the metadata, before the blob is moved out', POINTS.deleteBeforeBlobRetired],
    ['in the middle of removing the blob', POINTS.deleteMidRemoval],
  ] as const;

  it.each(deleteCrashes)('killed %s', { timeout: 120_000 }, async (_name, point) => {
    const dir = await tempDir('crash-leftovers-');
    const env = { STORAGE_DIR: dir, ...ORPHAN_AGE };
    let api = await started({ ...env, ...crashingAt(point) });
    const keeper = await storeObject(api.url, 'ws-crash', keeperParts());
    const second = await storeObject(api.url, 'ws-crash', secondParts());
    sendAndForget(deleteUrl(api.url, second.upload), { method: 'DELETE' });
    await crashed(api);

    api = await started(env);
    await expectOnlyLive(api.url, dir, [keeper], [second]);
    // The client retries the delete whose answer it never got.
    const retried = await rest(api.url, 'DELETE', '/s3/delete', { query: { workspaceId: 'ws-crash', key: second.upload.key } });
    expect(retried).toMatchObject({ status: 200, body: { success: true } });
    await expectOnlyLive(api.url, dir, [keeper], [second]);
  });
});
