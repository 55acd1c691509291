import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLocalStore, type LocalStore } from '../src/storage/local/index.js';
import { MiB, randomData, sha256 } from './support/bytes.js';
import { useCleanups } from './support/cleanups.js';
import { completeUpload, downloadUrl, openDownload, rest, type StartedUpload, uploadParts } from './support/rest-client.js';
import { startServer, type TestServer } from './support/server.js';

const { defer, tempDir } = useCleanups();

/** Leftovers older than a second are swept: the tests wait a second, not the default two hours. */
const AGE_MS = 1_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Past the sweep's age, with room for coarse file timestamps. */
const ageLeftovers = () => sleep(AGE_MS + 200);

async function localServer(dir: string): Promise<TestServer & { store: LocalStore }> {
  const server = await startServer(async (publicUrl) => ({ store: await createLocalStore({ dir, publicUrl, orphanAgeMs: AGE_MS }) }));
  defer(() => server.close());
  return server as TestServer & { store: LocalStore };
}

const newId = () => randomBytes(16).toString('hex');

/** What a crash leaves in blobs/: a folder of segment files no metadata names. */
async function plantBlob(dir: string, segments: Buffer[]): Promise<string> {
  const folder = join(dir, 'blobs', newId());
  await mkdir(folder);
  for (const [index, bytes] of segments.entries()) await writeFile(join(folder, String(index + 1).padStart(5, '0')), bytes);
  return folder;
}

async function plantTemp(dir: string, bytes: Buffer): Promise<string> {
  const file = join(dir, 'tmp', newId());
  await writeFile(file, bytes);
  return file;
}

function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

async function download(server: TestServer, upload: StartedUpload): Promise<Buffer> {
  const response = await fetch(downloadUrl(server.url, upload.workspaceId, upload.key));
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

async function storeObject(server: TestServer, parts: Buffer[]): Promise<{ upload: StartedUpload; bytes: Buffer }> {
  const upload = await uploadParts(server.url, 'ws-sweep', parts);
  expect((await completeUpload(server.url, upload)).status).toBe(200);
  return { upload, bytes: Buffer.concat(parts) };
}

/** Reads a download that was left paused, to its end. */
async function readRest(response: Awaited<ReturnType<typeof openDownload>>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('the local store sweeps crash leftovers', () => {
  it('removes unreferenced blobs and temp entries older than the age, and nothing live', async () => {
    const dir = await tempDir('orphan-sweep-');
    const server = await localServer(dir);
    const live = await storeObject(server, [randomData(MiB)]);
    const openParts = [randomData(MiB)];
    const open = await uploadParts(server.url, 'ws-sweep', openParts);
    const [partFile] = await readdir(join(dir, 'uploads', open.uploadId)).then((names) => names.filter((name) => name.endsWith('.part')));

    // A complete cut after moving its staged folder into blobs/: the segment is a link to the part.
    const linkedOrphan = await plantBlob(dir, []);
    await link(join(dir, 'uploads', open.uploadId, partFile!), join(linkedOrphan, '00001'));
    // A delete cut before it moved the blob out, and a temp file of a cut write.
    const ownOrphan = await plantBlob(dir, [randomData(512 * 1024), randomData(256 * 1024)]);
    const staleTemp = await plantTemp(dir, randomData(100 * 1024));
    await ageLeftovers();
    // As a commit in flight and a write in progress look: too young to judge.
    const freshBlob = await plantBlob(dir, [randomData(1024)]);
    const freshTemp = await plantTemp(dir, randomData(1024));

    const report = await server.store.sweepOrphans!();
    // The linked segment frees nothing: the open upload still holds the part.
    expect(report).toEqual({ removed: 3, bytes: 512 * 1024 + 256 * 1024 + 100 * 1024 });
    expect(await exists(linkedOrphan)).toBe(false);
    expect(await exists(ownOrphan)).toBe(false);
    expect(await exists(staleTemp)).toBe(false);
    expect(await exists(freshBlob)).toBe(true);
    expect(await exists(freshTemp)).toBe(true);

    expect(sha256(await download(server, live.upload))).toBe(sha256(live.bytes));
    expect((await completeUpload(server.url, open)).status).toBe(200);
    expect(sha256(await download(server, open))).toBe(sha256(Buffer.concat(openParts)));
  });

  it('sweeps at start-up too', async () => {
    const dir = await tempDir('orphan-sweep-');
    await (await createLocalStore({ dir, publicUrl: 'http://127.0.0.1', orphanAgeMs: AGE_MS })).close?.();
    const orphan = await plantBlob(dir, [randomData(1024), randomData(1024)]);
    const temp = await plantTemp(dir, randomData(1024));
    await ageLeftovers();
    const store = await createLocalStore({ dir, publicUrl: 'http://127.0.0.1', orphanAgeMs: AGE_MS });
    expect(await exists(orphan)).toBe(false);
    expect(await exists(temp)).toBe(false);
    // Opened for the cleanup command, which sweeps in its own run: the folder is left as it is.
    const later = await plantTemp(dir, randomData(1024));
    await ageLeftovers();
    const forCommand = await createLocalStore({ dir, publicUrl: 'http://127.0.0.1', orphanAgeMs: AGE_MS, sweepAtStart: false });
    expect(await exists(later)).toBe(true);
    expect(await forCommand.sweepOrphans!()).toEqual({ removed: 1, bytes: 1024 });
    await store.close?.();
  });

  it('leaves every blob when a metadata file cannot be read, and says why', async () => {
    const dir = await tempDir('orphan-sweep-');
    const server = await localServer(dir);
    const live = await storeObject(server, [randomData(1024)]);
    await mkdir(join(dir, 'meta', 'ws-sweep', 'digital_assets'), { recursive: true });
    await writeFile(join(dir, 'meta', 'ws-sweep', 'digital_assets', 'damaged.json'), '{"key":');
    const orphans = [await plantBlob(dir, [randomData(1024)]), await plantBlob(dir, [randomData(1024)])];
    const temp = await plantTemp(dir, randomData(2048));
    await ageLeftovers();

    const report = await server.store.sweepOrphans!();
    expect(report).toEqual({ removed: 1, bytes: 2048, skipped: expect.stringContaining('object metadata is damaged') });
    for (const orphan of orphans) expect(await exists(orphan)).toBe(true);
    expect(await exists(temp)).toBe(false);
    // The store still opens on the folder, and serves what it can.
    await (await createLocalStore({ dir, publicUrl: 'http://127.0.0.1', orphanAgeMs: AGE_MS })).close?.();
    expect(sha256(await download(server, live.upload))).toBe(sha256(live.bytes));
  });
});

describe('the sweep never harms a live operation', () => {
  // Bigger than what the socket buffers take from a paused reader, so the second segment is opened after the sweep.
  const bigParts = () => [randomData(16 * MiB), randomData(2 * MiB)];

  it('a reader holding a blob the sweep removes reads it to the end', { timeout: 30_000 }, async () => {
    const dir = await tempDir('orphan-sweep-');
    const server = await localServer(dir);
    const object = await storeObject(server, bigParts());
    await ageLeftovers();
    const reader = await openDownload(downloadUrl(server.url, object.upload.workspaceId, object.upload.key));
    expect(reader.statusCode).toBe(200);
    reader.pause();
    // A delete cut between removing the metadata and moving the blob out, while this reader reads.
    await rm(join(dir, 'meta', `${object.upload.key}.json`));

    expect(await server.store.sweepOrphans!()).toMatchObject({ removed: 1 });
    expect(await readdir(join(dir, 'blobs'))).toEqual([]);
    expect(sha256(await readRest(reader))).toBe(sha256(object.bytes));
    // The last reader gone, the swept blob goes too.
    await expect.poll(() => readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('a download of a deleted object outlives sweeps by another process on the same folder', { timeout: 30_000 }, async () => {
    const dir = await tempDir('orphan-sweep-');
    const server = await localServer(dir);
    const object = await storeObject(server, bigParts());
    const reader = await openDownload(downloadUrl(server.url, object.upload.workspaceId, object.upload.key));
    expect(reader.statusCode).toBe(200);
    reader.pause();
    const deleted = await rest(server.url, 'DELETE', '/s3/delete', { query: { workspaceId: 'ws-sweep', key: object.upload.key } });
    expect(deleted.status).toBe(200);
    expect(await readdir(join(dir, 'tmp'))).toHaveLength(1);

    // The cleanup command's store: it cannot see this process's readers, only the files' times.
    const other = await createLocalStore({ dir, publicUrl: 'http://127.0.0.1', orphanAgeMs: AGE_MS });
    for (let sweep = 0; sweep < 4; sweep += 1) {
      await sleep(AGE_MS / 2);
      expect(await other.sweepOrphans!()).toEqual({ removed: 0, bytes: 0 });
    }
    expect(sha256(await readRest(reader))).toBe(sha256(object.bytes));
    await expect.poll(() => readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('a part body still arriving is not swept, however long it takes', { timeout: 30_000 }, async () => {
    const dir = await tempDir('orphan-sweep-');
    const server = await localServer(dir);
    const started = await rest(server.url, 'GET', '/s3/start-upload', {
      query: { workspaceId: 'ws-sweep', fileType: 'application/octet-stream' },
    });
    const { uploadId, assetId } = started.body as { uploadId: string; assetId: string };
    const signed = await rest(server.url, 'GET', '/s3/get-upload-url', {
      query: { workspaceId: 'ws-sweep', assetId, UploadId: uploadId, PartNumber: '1' },
    });
    const chunks = Array.from({ length: 10 }, () => randomData(640 * 1024));
    const body = Buffer.concat(chunks);

    // A slow link: a chunk every quarter second, the whole body taking longer than the sweep's age.
    const answer = new Promise<{ status: number; etag: string }>((resolve, reject) => {
      const put = request(
        signed.body.url as string,
        { method: 'PUT', agent: false, headers: { 'content-length': body.length } },
        (response) => {
          response.resume();
          response.on('end', () => resolve({ status: response.statusCode ?? 0, etag: String(response.headers.etag) }));
        },
      );
      put.on('error', reject);
      (async () => {
        for (const chunk of chunks) {
          put.write(chunk);
          await sleep(250);
        }
        put.end();
      })().catch(reject);
    });
    let sweeps = 0;
    let arrived = false;
    void answer.finally(() => {
      arrived = true;
    });
    while (!arrived) {
      expect(await server.store.sweepOrphans!()).toEqual({ removed: 0, bytes: 0 });
      sweeps += 1;
      await sleep(200);
    }
    expect(sweeps).toBeGreaterThan(10);
    const put = await answer;
    expect(put.status).toBe(200);

    const upload: StartedUpload = {
      workspaceId: 'ws-sweep',
      assetId,
      uploadId,
      key: `ws-sweep/digital_assets/${assetId}`,
      parts: [{ PartNumber: 1, ETag: put.etag }],
    };
    expect((await completeUpload(server.url, upload)).status).toBe(200);
    expect(sha256(await download(server, upload))).toBe(sha256(body));
  });
});
