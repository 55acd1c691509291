import { createHash, randomBytes } from 'node:crypto';
import { readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { beforeAll, describe, expect, it } from 'vitest';
import { assetKey, newAssetId } from '../src/storage/keys.js';
import { OpenUploads } from '../src/storage/local/open-uploads.js';
import { PartNumberSet } from '../src/storage/local/part-number-set.js';
import type { ObjectStore } from '../src/storage/store.js';
import { putPart } from './support/bytes.js';
import { startLocalHarness } from './support/local-harness.js';
import { useLocalHarness } from './support/local-harness-fixture.js';
import { localPartEtagHex } from './support/local-part-etag.js';

/**
 * Open uploads on the local store: their records are served from memory, which must not outlive
 * a folder that another process (the cleanup-uploads command) removed, and a part commit finds an
 * earlier file of its part number without listing the folder, while listings still come from disk.
 */

const newKey = () => assetKey('local-uploads', newAssetId());

function md5Hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

async function signPart(store: ObjectStore, key: string, uploadId: string, partNumber = 1): Promise<string> {
  const [url] = await store.signPartUrls(key, uploadId, [partNumber], 3600);
  return url!;
}

/** What another process's abort does: the folder vanishes without this store being told. */
async function removeBehindTheCache(dir: string, uploadId: string): Promise<void> {
  await rename(join(dir, 'uploads', uploadId), join(dir, 'tmp', `removed-${uploadId}`));
  await rm(join(dir, 'tmp', `removed-${uploadId}`), { recursive: true });
}

async function partFiles(dir: string, uploadId: string): Promise<string[]> {
  return (await readdir(join(dir, 'uploads', uploadId))).filter((name) => name.endsWith('.part')).sort();
}

describe('local store: open uploads', () => {
  const harness = useLocalHarness({ minPartSize: 1 });
  let store: ObjectStore;
  beforeAll(() => {
    store = harness.store;
  });

  describe('an upload whose folder another process removed', () => {
    let key: string;
    let uploadId: string;
    let url: string;

    beforeAll(async () => {
      key = newKey();
      ({ uploadId } = await store.createMultipartUpload(key, 'text/plain'));
      url = await signPart(store, key, uploadId);
      // Used once, so the store has the upload in memory with its parts.
      expect((await putPart(url, Buffer.from('first'))).status).toBe(200);
      await removeBehindTheCache(harness.dir, uploadId);
    });

    it('refuses a part PUT with 404 INVALID_UPLOAD_ID and leaves no temp file', async () => {
      const response = await fetch(url, { method: 'PUT', body: 'late part' });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ code: 'INVALID_UPLOAD_ID' });
      expect(await readdir(join(harness.dir, 'tmp'))).toEqual([]);
      expect(await readdir(join(harness.dir, 'uploads'))).not.toContain(uploadId);
    });

    it('answers INVALID_UPLOAD_ID to listParts, complete, abort and the check before signing', async () => {
      await expect(store.listParts(key, uploadId)).rejects.toMatchObject({ appCode: 'INVALID_UPLOAD_ID' });
      await expect(
        store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: md5Hex(Buffer.from('first')) }]),
      ).rejects.toMatchObject({
        appCode: 'INVALID_UPLOAD_ID',
      });
      await expect(store.abortMultipartUpload(key, uploadId)).rejects.toMatchObject({ appCode: 'INVALID_UPLOAD_ID' });
      await expect(store.assertUploadOpen(key, uploadId)).rejects.toMatchObject({ appCode: 'INVALID_UPLOAD_ID' });
    });
  });

  it('refuses each operation once the folder is gone, also when it is the first one after the removal', async () => {
    const operations: Array<(key: string, uploadId: string) => Promise<unknown>> = [
      (key, uploadId) => store.assertUploadOpen(key, uploadId),
      (key, uploadId) => store.listParts(key, uploadId),
      (key, uploadId) => store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: 'a'.repeat(32) }]),
      (key, uploadId) => store.abortMultipartUpload(key, uploadId),
    ];
    for (const operation of operations) {
      const key = newKey();
      const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
      await store.assertUploadOpen(key, uploadId);
      await removeBehindTheCache(harness.dir, uploadId);
      await expect(operation(key, uploadId)).rejects.toMatchObject({ appCode: 'INVALID_UPLOAD_ID' });
    }
  });

  it('still refuses an upload of another key, from memory as from disk', async () => {
    const key = newKey();
    const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
    await expect(store.assertUploadOpen(newKey(), uploadId)).rejects.toMatchObject({ appCode: 'INVALID_UPLOAD_ID' });
    await expect(store.listParts(newKey(), uploadId)).rejects.toMatchObject({ appCode: 'INVALID_UPLOAD_ID' });
    await store.assertUploadOpen(key, uploadId);
  });

  it('replaces a re-uploaded part: one file per part number, the newer bytes win', async () => {
    const key = newKey();
    const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
    const urls = await store.signPartUrls(key, uploadId, [1, 2, 3], 3600);
    for (const [index, text] of ['one', 'two', 'three'].entries()) await putPart(urls[index]!, Buffer.from(text));
    const again = await putPart(urls[1]!, Buffer.from('TWO, again'));
    expect(await partFiles(harness.dir, uploadId)).toHaveLength(3);
    expect(await store.listParts(key, uploadId)).toEqual([
      { partNumber: 1, etag: `"${localPartEtagHex(Buffer.from('one'))}"`, size: 3 },
      { partNumber: 2, etag: again.etag, size: 10 },
      { partNumber: 3, etag: `"${localPartEtagHex(Buffer.from('three'))}"`, size: 5 },
    ]);
  });

  it('replaces a part uploaded before a restart, through a store that has not seen the upload', async () => {
    const key = newKey();
    const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
    await putPart(await signPart(store, key, uploadId, 4), Buffer.from('before the restart'));
    const restarted = await startLocalHarness({ dir: harness.dir, minPartSize: 1 });
    try {
      const url = await signPart(restarted.store, key, uploadId, 4);
      const reply = await putPart(url, Buffer.from('after'));
      expect(reply.status).toBe(200);
      expect(await partFiles(harness.dir, uploadId)).toHaveLength(1);
      expect(await restarted.store.listParts(key, uploadId)).toEqual([{ partNumber: 4, etag: reply.etag, size: 5 }]);
      await restarted.store.completeMultipartUpload(key, uploadId, [{ partNumber: 4, etag: reply.etag! }]);
      expect((await buffer((await restarted.store.getObject(key)).body)).toString()).toBe('after');
    } finally {
      await restarted.close();
    }
  });

  it('completes an upload begun by an earlier version, its parts named by MD5, beside a part sent now', async () => {
    const key = newKey();
    const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
    const old = Buffer.from('sent before the upgrade');
    // What versions before the SHA-256 ETag wrote: the part's MD5 where its ETag goes.
    await writeFile(join(harness.dir, 'uploads', uploadId, `00001-${md5Hex(old)}-${old.length}.part`), old);
    const restarted = await startLocalHarness({ dir: harness.dir, minPartSize: 1 });
    try {
      const fresh = Buffer.from('sent after it');
      const reply = await putPart(await signPart(restarted.store, key, uploadId, 2), fresh);
      expect(reply.etag).toBe(`"${localPartEtagHex(fresh)}"`);
      expect(await restarted.store.listParts(key, uploadId)).toEqual([
        { partNumber: 1, etag: `"${md5Hex(old)}"`, size: old.length },
        { partNumber: 2, etag: reply.etag, size: fresh.length },
      ]);
      const { etag } = await restarted.store.completeMultipartUpload(key, uploadId, [
        { partNumber: 1, etag: `"${md5Hex(old)}"` },
        { partNumber: 2, etag: reply.etag! },
      ]);
      const binaryEtags = Buffer.concat([Buffer.from(md5Hex(old), 'hex'), Buffer.from(localPartEtagHex(fresh), 'hex')]);
      expect(etag).toBe(`"${md5Hex(binaryEtags)}-2"`);
      expect(await buffer((await restarted.store.getObject(key)).body)).toEqual(Buffer.concat([old, fresh]));
    } finally {
      await restarted.close();
    }
  });

  it('lists parts from disk: the newer of two files of one part number (a crash mid-replace) counts', async () => {
    const key = newKey();
    const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
    const folder = join(harness.dir, 'uploads', uploadId);
    const older = Buffer.from('older bytes');
    const newer = Buffer.from('newer');
    await writeFile(join(folder, `00001-${md5Hex(older)}-${older.length}.part`), older);
    await utimes(join(folder, `00001-${md5Hex(older)}-${older.length}.part`), new Date(1_000_000), new Date(1_000_000));
    await writeFile(join(folder, `00001-${md5Hex(newer)}-${newer.length}.part`), newer);
    expect(await store.listParts(key, uploadId)).toEqual([{ partNumber: 1, etag: `"${md5Hex(newer)}"`, size: 5 }]);
    await store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: md5Hex(newer) }]);
    expect((await buffer((await store.getObject(key)).body)).toString()).toBe('newer');
  });

  it('reads part files named before sizes were in the name (<nnnnn>-<md5>.part)', async () => {
    const key = newKey();
    const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
    const folder = join(harness.dir, 'uploads', uploadId);
    const parts = [randomBytes(3000), randomBytes(700)];
    for (const [index, part] of parts.entries()) await writeFile(join(folder, `0000${index + 1}-${md5Hex(part)}.part`), part);
    expect(await store.listParts(key, uploadId)).toEqual([
      { partNumber: 1, etag: `"${md5Hex(parts[0]!)}"`, size: 3000 },
      { partNumber: 2, etag: `"${md5Hex(parts[1]!)}"`, size: 700 },
    ]);
    await store.completeMultipartUpload(
      key,
      uploadId,
      parts.map((part, index) => ({ partNumber: index + 1, etag: md5Hex(part) })),
    );
    expect((await buffer((await store.getObject(key)).body)).equals(Buffer.concat(parts))).toBe(true);
  });

  it('forgets a completed or aborted upload: its part URLs answer 404 INVALID_UPLOAD_ID', async () => {
    const key = newKey();
    const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
    const url = await signPart(store, key, uploadId);
    await putPart(url, Buffer.from('x'));
    await store.abortMultipartUpload(key, uploadId);
    const reply = await putPart(url, Buffer.from('y'));
    expect(reply.status).toBe(404);
    await expect(store.assertUploadOpen(key, uploadId)).rejects.toMatchObject({ appCode: 'INVALID_UPLOAD_ID' });
    await expect(store.abortMultipartUpload(key, uploadId)).rejects.toMatchObject({ appCode: 'INVALID_UPLOAD_ID' });
  });
});

describe('local store: the open-upload cache', () => {
  const manifest = { key: 'ws/digital_assets/a', contentType: 'text/plain', createdAt: '2026-01-01T00:00:00.000Z' };

  it('keeps at most its capacity, dropping the least recently used', async () => {
    const uploads = new OpenUploads(2);
    const reads: string[] = [];
    const load = (id: string) => async () => {
      reads.push(id);
      return { manifest };
    };
    await uploads.get('a', load('a'));
    await uploads.get('b', load('b'));
    await uploads.get('a', load('a'));
    await uploads.get('c', load('c'));
    await uploads.get('a', load('a'));
    await uploads.get('b', load('b'));
    // a was used last before c came, so b was the one dropped and is read again.
    expect(reads).toEqual(['a', 'b', 'c', 'b']);
  });

  it('reads a record once, and does not cache one read while the upload was being forgotten', async () => {
    const uploads = new OpenUploads(10);
    let reads = 0;
    const load = async () => {
      reads += 1;
      return { manifest };
    };
    await uploads.get('u1', load);
    await uploads.get('u1', load);
    expect(reads).toBe(1);

    let finishRead!: () => void;
    const slowLoad = () => new Promise<{ manifest: typeof manifest }>((resolve) => (finishRead = () => resolve({ manifest })));
    const racing = uploads.get('u2', slowLoad);
    uploads.forget('u2');
    finishRead();
    expect(await racing).toEqual({ manifest });
    await uploads.get('u2', load);
    expect(reads).toBe(2);
  });

  it('remembers part numbers 1 to 10,000 in a bitset', () => {
    const numbers = new PartNumberSet();
    for (const partNumber of [1, 7, 8, 9_999, 10_000]) numbers.add(partNumber);
    expect([1, 2, 7, 8, 9, 9_999, 10_000].map((partNumber) => numbers.has(partNumber))).toEqual([
      true,
      false,
      true,
      true,
      false,
      true,
      true,
    ]);
  });
});
