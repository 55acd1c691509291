import { afterEach, describe, expect, it } from 'vitest';
import type { Catalog } from '../src/catalog/catalog.js';
import { withOpenUploadCache } from '../src/catalog/open-upload-cache.js';
import { openPgliteCatalog } from '../src/catalog/pglite.js';
import { putPart } from './support/bytes.js';
import { gate } from './support/gate.js';
import { completeUpload, rest, uploadParts } from './support/rest-client.js';
import { startLocalServer, type TestServer } from './support/server.js';

const newWorkspace = () => `ws-cache-${Math.random().toString(36).slice(2, 8)}`;

/**
 * The PGlite catalogue without its own cache, its `findUpload` counted per upload id and, when a
 * test asks, held after it read the row (a lookup overtaken by a change): fault injection around
 * the real database, under the cache the test puts on top.
 */
async function countedCatalog() {
  const inner = await openPgliteCatalog({ openUploadCache: false });
  const reads = new Map<string, number>();
  let holdNext: { read: () => void; released: Promise<void> } | undefined;
  const counted: Catalog = {
    ...inner,
    findUpload: async (workspaceId, uploadId) => {
      reads.set(uploadId, (reads.get(uploadId) ?? 0) + 1);
      const row = await inner.findUpload(workspaceId, uploadId);
      const hold = holdNext;
      holdNext = undefined;
      if (hold) {
        hold.read();
        await hold.released;
      }
      return row;
    },
  };
  return {
    catalog: withOpenUploadCache(counted),
    readsOf: (uploadId: string) => reads.get(uploadId) ?? 0,
    /** Holds the next lookup once it has read its row; `read` resolves then, `release()` lets it answer. */
    holdNextLookup() {
      const hold = gate();
      holdNext = { read: hold.arrive, released: hold.released };
      return { hasRead: hold.arrived, release: hold.release };
    },
  };
}

describe('open uploads remembered by the embedded catalogue (signing without a database read per part)', () => {
  let server: TestServer | undefined;
  let catalog: Catalog | undefined;
  afterEach(async () => {
    await server?.close();
    await catalog?.close();
    server = catalog = undefined;
  });

  const setUp = async () => {
    const counted = await countedCatalog();
    catalog = counted.catalog;
    server = await startLocalServer({ catalog });
    return { ...counted, url: server.url };
  };
  const signPart = (url: string, query: { workspaceId: string; assetId: string; uploadId: string }, partNumber = 1) =>
    rest(url, 'GET', '/s3/get-upload-url', {
      query: { workspaceId: query.workspaceId, assetId: query.assetId, UploadId: query.uploadId, PartNumber: String(partNumber) },
    });

  it('signs 50 parts one call at a time with one read of the upload, and every URL takes its part', async () => {
    const { url, readsOf } = await setUp();
    const workspaceId = newWorkspace();
    const started = await rest(url, 'GET', '/s3/start-upload', { query: { workspaceId, fileType: 'application/octet-stream' } });
    const ref = { workspaceId, assetId: started.body.assetId as string, uploadId: started.body.uploadId as string };
    const answers = [];
    for (let partNumber = 1; partNumber <= 50; partNumber++) answers.push(await signPart(url, ref, partNumber));

    expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(200));
    expect(readsOf(ref.uploadId)).toBe(1);
    const put = await putPart(answers[49]!.body.url as string, Buffer.from('the fiftieth part'));
    expect(put.status).toBe(200);
  });

  it('refuses a completed upload at once (404 INVALID_UPLOAD_ID), though it was remembered as open', async () => {
    const { url } = await setUp();
    const upload = await uploadParts(url, newWorkspace(), [Buffer.from('one part')]);
    expect((await signPart(url, upload)).status).toBe(200);

    expect((await completeUpload(url, upload)).status).toBe(200);

    const after = await signPart(url, upload);
    expect(after).toMatchObject({ status: 404, body: { code: 'INVALID_UPLOAD_ID' } });
  });

  it('refuses an aborted upload at once, and one the cleanup job expired', async () => {
    const { url } = await setUp();
    const aborted = await uploadParts(url, newWorkspace(), [Buffer.from('aborted')]);
    const expired = await uploadParts(url, newWorkspace(), [Buffer.from('expired')]);
    expect((await signPart(url, aborted)).status).toBe(200);
    expect((await signPart(url, expired)).status).toBe(200);

    const abort = await rest(url, 'DELETE', '/s3/abort-upload', {
      query: { workspaceId: aborted.workspaceId, assetId: aborted.assetId, UploadId: aborted.uploadId },
    });
    expect(abort.status).toBe(200);
    await catalog!.finishUpload(expired.workspaceId, expired.uploadId, 'expired');

    expect(await signPart(url, aborted)).toMatchObject({ status: 404, body: { code: 'INVALID_UPLOAD_ID' } });
    expect(await signPart(url, expired)).toMatchObject({ status: 404, body: { code: 'INVALID_UPLOAD_ID' } });
  });

  it("refuses another workspace naming a remembered upload's ids, and another asset id under the right workspace", async () => {
    const { url } = await setUp();
    const upload = await uploadParts(url, newWorkspace(), [Buffer.from('mine')]);
    expect((await signPart(url, upload)).status).toBe(200);

    const foreign = await signPart(url, { ...upload, workspaceId: newWorkspace() });
    const otherAssetId = `${upload.assetId.slice(0, -1)}${upload.assetId.endsWith('0') ? '1' : '0'}`;
    const otherAsset = await signPart(url, { ...upload, assetId: otherAssetId });

    expect(foreign).toMatchObject({ status: 404, body: { code: 'INVALID_UPLOAD_ID' } });
    expect(otherAsset.status).toBe(404);
    expect(['INVALID_UPLOAD_ID', 'INVALID_PARAMETER']).toContain(otherAsset.body.code);
  });

  it('does not keep what a lookup read before a complete that finished while it was on its way', async () => {
    const { url, holdNextLookup } = await setUp();
    const upload = await uploadParts(url, newWorkspace(), [Buffer.from('raced')]);
    // Signing its part remembered it: a change (a reservation that grows nothing) forgets it, so
    // the next signing reads the database.
    await catalog!.reserve(upload.workspaceId, upload.uploadId, 0, {});
    const held = holdNextLookup();
    // This signing reads the upload open, then waits; the complete runs to its end meanwhile.
    const overtaken = signPart(url, upload);
    await held.hasRead;
    expect((await completeUpload(url, upload)).status).toBe(200);
    held.release();
    expect((await overtaken).status).toBe(200);

    const after = await signPart(url, upload);
    expect(after).toMatchObject({ status: 404, body: { code: 'INVALID_UPLOAD_ID' } });
  });
});
