import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { beforeAll, describe, expect, it } from 'vitest';
import { assetKey, newAssetId } from '../src/storage/keys.js';
import type { ByteRange, CompletedPart, ObjectStore } from '../src/storage/store.js';
import { putPart } from './support/bytes.js';
import { useLocalHarness } from './support/local-harness-fixture.js';

/**
 * The local store keeps a completed upload's parts as the object's segments (completing copies
 * nothing) and reads objects by concatenating them. These tests look at bytes and at the data
 * folder: blobs/<blobId>/<nnnnn> segment files, meta/<key>.json, uploads/<uploadId>/, tmp/.
 */

const newKey = () => assetKey('local-segments', newAssetId());

function md5Hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** Parts of the given sizes, each of distinct random bytes. */
function partsOfSizes(sizes: readonly number[]): Buffer[] {
  return sizes.map((size) => randomBytes(size));
}

/** Uploads `parts` through their signed URLs, a few at a time, and completes the upload. */
async function storeParts(store: ObjectStore, key: string, parts: readonly Buffer[]): Promise<{ uploadId: string; etag: string }> {
  const { uploadId } = await store.createMultipartUpload(key, 'application/octet-stream');
  const completed = await putParts(store, key, uploadId, parts);
  const { etag } = await store.completeMultipartUpload(key, uploadId, completed);
  return { uploadId, etag };
}

async function putParts(store: ObjectStore, key: string, uploadId: string, parts: readonly Buffer[]): Promise<CompletedPart[]> {
  const numbers = parts.map((_, index) => index + 1);
  const urls = await store.signPartUrls(key, uploadId, numbers, 3600);
  const completed: CompletedPart[] = new Array(parts.length);
  let next = 0;
  const worker = async () => {
    while (next < parts.length) {
      const index = next++;
      const reply = await putPart(urls[index]!, parts[index]!);
      expect(reply.status).toBe(200);
      completed[index] = { partNumber: index + 1, etag: reply.etag! };
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return completed;
}

async function read(store: ObjectStore, key: string, range?: ByteRange): Promise<Buffer> {
  const object = await store.getObject(key, range ? { range } : {});
  const bytes = await buffer(object.body);
  expect(bytes.length).toBe(object.contentLength);
  return bytes;
}

interface StoredMeta {
  blob: string;
  size: number;
  segments?: { file: string; size: number }[];
}

async function readMetaFile(dir: string, key: string): Promise<StoredMeta> {
  return JSON.parse(await readFile(join(dir, 'meta', `${key}.json`), 'utf8')) as StoredMeta;
}

/** Every file under `folder`, as paths relative to it. */
async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name).slice(folder.length + 1));
}

async function bytesUnder(folder: string): Promise<number> {
  const files = await filesUnder(folder);
  const sizes = await Promise.all(files.map(async (file) => (await stat(join(folder, file))).size));
  return sizes.reduce((total, size) => total + size, 0);
}

describe('local store: parts become the object segments', () => {
  const harness = useLocalHarness({ minPartSize: 1 });
  let store: ObjectStore;
  beforeAll(() => {
    store = harness.store;
  });

  describe('an object of 37 parts of varied sizes', () => {
    const sizes = Array.from({ length: 37 }, (_, index) => 1000 + ((index * 7919) % 5000));
    const parts = partsOfSizes(sizes);
    const whole = Buffer.concat(parts);
    /** Byte offsets where segment i + 1 starts. */
    const boundaries = sizes.slice(0, -1).map((_, index) => sizes.slice(0, index + 1).reduce((a, b) => a + b, 0));
    const key = newKey();

    beforeAll(async () => {
      await storeParts(store, key, parts);
    });

    it('reads back byte-exact, and heads with the total size', async () => {
      const bytes = await read(store, key);
      expect(bytes.length).toBe(whole.length);
      expect(md5Hex(bytes)).toBe(md5Hex(whole));
      expect((await store.headObject(key))?.size).toBe(whole.length);
    });

    it('lists one segment per part in the metadata, sizes adding up to the object', async () => {
      const meta = await readMetaFile(harness.dir, key);
      expect(meta.segments?.map((segment) => segment.size)).toEqual(sizes);
      expect(meta.segments?.map((segment) => segment.file)).toEqual(sizes.map((_, index) => String(index + 1).padStart(5, '0')));
      expect((await readdir(join(harness.dir, 'blobs', meta.blob))).sort()).toEqual(meta.segments?.map((segment) => segment.file));
    });

    it('serves ranges that start in one segment and end in another', async () => {
      const [first, second, third] = [boundaries[0]!, boundaries[1]!, boundaries[2]!];
      const cases: Array<{ start: number; end: number }> = [
        { start: first - 10, end: first + 10 },
        { start: first - 1, end: second },
        { start: 5, end: boundaries[30]! + 17 },
        { start: second, end: third - 1 },
        { start: 0, end: whole.length - 1 },
      ];
      for (const range of cases) {
        expect((await read(store, key, range)).equals(whole.subarray(range.start, range.end + 1)), JSON.stringify(range)).toBe(true);
      }
    });

    it('serves the single byte on each side of every segment boundary', async () => {
      for (const boundary of boundaries) {
        expect(await read(store, key, { start: boundary - 1, end: boundary - 1 })).toEqual(whole.subarray(boundary - 1, boundary));
        expect(await read(store, key, { start: boundary, end: boundary })).toEqual(whole.subarray(boundary, boundary + 1));
      }
    });

    it('serves suffix ranges and open-ended ranges across segments', async () => {
      const lastSegment = sizes.at(-1)!;
      for (const suffixLength of [1, lastSegment, lastSegment + 1, lastSegment + sizes.at(-2)! + 3, whole.length + 100]) {
        const expected = whole.subarray(Math.max(0, whole.length - suffixLength));
        expect((await read(store, key, { suffixLength })).equals(expected), `suffix ${suffixLength}`).toBe(true);
      }
      const start = boundaries[20]! - 3;
      expect((await read(store, key, { start })).equals(whole.subarray(start))).toBe(true);
      await expect(store.getObject(key, { range: { start: whole.length } })).rejects.toMatchObject({ appCode: 'RANGE_NOT_SATISFIABLE' });
    });

    it('serves a Range header across a boundary at the signed GET URL with 206', async () => {
      const url = await store.signGetUrl(key, 3600);
      const start = boundaries[3]! - 2;
      const end = boundaries[4]! + 2;
      const response = await fetch(url, { headers: { Range: `bytes=${start}-${end}` } });
      expect(response.status).toBe(206);
      expect(response.headers.get('content-range')).toBe(`bytes ${start}-${end}/${whole.length}`);
      expect(Buffer.from(await response.arrayBuffer()).equals(whole.subarray(start, end + 1))).toBe(true);
      const full = await fetch(url);
      expect(full.status).toBe(200);
      expect(md5Hex(Buffer.from(await full.arrayBuffer()))).toBe(md5Hex(whole));
    });
  });

  it('does not copy: the segment files are the part files (same inodes), and the data is stored once', async () => {
    const key = newKey();
    const parts = partsOfSizes([300_000, 300_000, 300_000, 123_456]);
    const { uploadId } = await store.createMultipartUpload(key, 'application/octet-stream');
    const completed = await putParts(store, key, uploadId, parts);
    const uploadFolder = join(harness.dir, 'uploads', uploadId);
    const partFiles = (await readdir(uploadFolder)).filter((name) => name.endsWith('.part')).sort();
    const partInodes = await Promise.all(partFiles.map(async (name) => (await stat(join(uploadFolder, name))).ino));
    const totalBefore = await bytesUnder(harness.dir);

    await store.completeMultipartUpload(key, uploadId, completed);

    const meta = await readMetaFile(harness.dir, key);
    const segmentInodes = await Promise.all(
      meta.segments!.map(async (segment) => (await stat(join(harness.dir, 'blobs', meta.blob, segment.file))).ino),
    );
    expect(segmentInodes).toEqual(partInodes);
    const partBytes = parts.reduce((total, part) => total + part.length, 0);
    // Only the metadata is new; without it the folder holds what it held before, not twice the parts.
    const metaBytes = (await stat(join(harness.dir, 'meta', `${key}.json`))).size;
    expect(await bytesUnder(harness.dir)).toBeLessThanOrEqual(totalBefore + metaBytes);
    expect(totalBefore).toBeGreaterThanOrEqual(partBytes);
  });

  it('completes 10,000 small parts without copying them, well within a generous bound', { timeout: 120_000 }, async () => {
    const key = newKey();
    const { uploadId } = await store.createMultipartUpload(key, 'application/octet-stream');
    // Written straight into the upload's folder, named as the part route names them: 10,000 PUTs
    // would time the HTTP path, not the complete.
    const partBytes = 4096;
    const template = randomBytes(partBytes);
    const completed: CompletedPart[] = [];
    const hash = createHash('md5');
    for (let partNumber = 1; partNumber <= 10_000; partNumber += 1) {
      template.writeUInt32BE(partNumber, 0);
      const md5 = md5Hex(template);
      hash.update(template);
      writeFileSync(join(harness.dir, 'uploads', uploadId, `${String(partNumber).padStart(5, '0')}-${md5}-${partBytes}.part`), template);
      completed.push({ partNumber, etag: md5 });
    }
    const started = performance.now();
    await store.completeMultipartUpload(key, uploadId, completed);
    const elapsedMs = performance.now() - started;
    // Copying 40 MiB through 10,000 file opens took several seconds; linking takes well under one.
    expect(elapsedMs).toBeLessThan(5_000);
    expect((await store.headObject(key))?.size).toBe(10_000 * partBytes);
    expect(md5Hex(await read(store, key))).toBe(hash.digest('hex'));
    expect(await read(store, key, { start: 4095, end: 4096 * 2 })).toHaveLength(4098);
    await store.deleteObject(key);
  });

  it('leaves no segment file behind when an object is overwritten or deleted', async () => {
    const key = newKey();
    await storeParts(store, key, partsOfSizes([2000, 2000, 10]));
    const first = await readMetaFile(harness.dir, key);
    const second = partsOfSizes([3000, 5]);
    await storeParts(store, key, second);
    const replaced = await readMetaFile(harness.dir, key);
    expect(replaced.blob).not.toBe(first.blob);
    await expect(stat(join(harness.dir, 'blobs', first.blob))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await read(store, key)).equals(Buffer.concat(second))).toBe(true);

    await store.deleteObject(key);
    await expect(stat(join(harness.dir, 'blobs', replaced.blob))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await store.headObject(key)).toBeNull();
    expect(await readdir(join(harness.dir, 'tmp'))).toEqual([]);
  });

  it('keeps serving a download under way while its object is deleted, then removes the segments', async () => {
    const key = newKey();
    const parts = partsOfSizes([200_000, 200_000, 200_000, 200_000]);
    await storeParts(store, key, parts);
    const { blob } = await readMetaFile(harness.dir, key);
    const object = await store.getObject(key);
    const chunks: Buffer[] = [];
    const firstChunk = await new Promise<Buffer>((resolve) => object.body.once('data', resolve));
    object.body.pause();
    chunks.push(firstChunk);

    await store.deleteObject(key);
    expect(await store.headObject(key)).toBeNull();
    await expect(stat(join(harness.dir, 'blobs', blob))).rejects.toMatchObject({ code: 'ENOENT' });

    chunks.push(await buffer(object.body));
    expect(Buffer.concat(chunks).equals(Buffer.concat(parts))).toBe(true);
    // The last reader gone, the retired segments go too.
    await expect.poll(() => readdir(join(harness.dir, 'tmp'))).toEqual([]);
  });

  it('keeps serving a download under way while its object is replaced', async () => {
    const key = newKey();
    const parts = partsOfSizes([150_000, 150_000, 150_000]);
    await storeParts(store, key, parts);
    const object = await store.getObject(key, { range: { start: 100_000, end: 349_999 } });
    object.body.pause();
    await storeParts(store, key, partsOfSizes([10, 10]));
    expect((await buffer(object.body)).equals(Buffer.concat(parts).subarray(100_000, 350_000))).toBe(true);
    expect(await read(store, key)).toHaveLength(20);
    await expect.poll(() => readdir(join(harness.dir, 'tmp'))).toEqual([]);
  });

  it('closes the segment file of a download abandoned midway and removes a retired blob then', async () => {
    const key = newKey();
    await storeParts(store, key, partsOfSizes([500_000, 500_000]));
    const object = await store.getObject(key);
    await new Promise((resolve) => object.body.once('data', resolve));
    await store.deleteObject(key);
    object.body.destroy();
    await expect.poll(() => readdir(join(harness.dir, 'tmp'))).toEqual([]);
  });

  it('leaves the upload whole and completable when the commit fails', async () => {
    const key = newKey();
    const parts = partsOfSizes([4000, 4000]);
    const { uploadId } = await store.createMultipartUpload(key, 'application/octet-stream');
    const completed = await putParts(store, key, uploadId, parts);
    // A folder where the metadata file must go makes its rename, the commit, fail.
    const metaPath = join(harness.dir, 'meta', `${key}.json`);
    await mkdir(metaPath, { recursive: true });
    await expect(store.completeMultipartUpload(key, uploadId, completed)).rejects.toMatchObject({ appCode: 'S3_ERROR' });
    expect(await readdir(join(harness.dir, 'tmp'))).toEqual([]);
    expect((await store.listParts(key, uploadId)).map((part) => part.size)).toEqual([4000, 4000]);

    await rm(metaPath, { recursive: true });
    await store.completeMultipartUpload(key, uploadId, completed);
    expect((await read(store, key)).equals(Buffer.concat(parts))).toBe(true);
  });

  it('stores an empty object from one empty part', async () => {
    const key = newKey();
    await storeParts(store, key, [Buffer.alloc(0)]);
    expect(await read(store, key)).toHaveLength(0);
    expect((await store.headObject(key))?.size).toBe(0);
    await store.deleteObject(key);
  });
});

describe('local store: objects written before segments (one blob file)', () => {
  const harness = useLocalHarness();
  let store: ObjectStore;
  const bytes = randomBytes(70_000);
  const key = newKey();
  const blob = randomBytes(16).toString('hex');

  beforeAll(() => {
    store = harness.store;
  });

  /** The metadata file exactly as the previous version of the driver wrote it. */
  async function writeOldFormatObject(objectKey: string, blobId: string, data: Buffer): Promise<void> {
    await writeFile(join(harness.dir, 'blobs', blobId), data);
    const metaPath = join(harness.dir, 'meta', `${objectKey}.json`);
    await mkdir(join(metaPath, '..'), { recursive: true });
    const meta = {
      key: objectKey,
      contentType: 'image/png',
      etag: `"${md5Hex(data)}-1"`,
      size: data.length,
      lastModified: '2026-01-02T03:04:05.000Z',
      blob: blobId,
    };
    await writeFile(metaPath, JSON.stringify(meta));
  }

  it('heads, reads and range-reads it', async () => {
    await writeOldFormatObject(key, blob, bytes);
    expect(await store.headObject(key)).toEqual({
      key,
      size: bytes.length,
      contentType: 'image/png',
      etag: `"${md5Hex(bytes)}-1"`,
      lastModified: new Date('2026-01-02T03:04:05.000Z'),
    });
    expect((await read(store, key)).equals(bytes)).toBe(true);
    expect((await read(store, key, { start: 1000, end: 1999 })).equals(bytes.subarray(1000, 2000))).toBe(true);
    expect((await read(store, key, { suffixLength: 10 })).equals(bytes.subarray(-10))).toBe(true);
    const response = await fetch(await store.signGetUrl(key, 3600), { headers: { Range: 'bytes=5-9' } });
    expect(response.status).toBe(206);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes.subarray(5, 10))).toBe(true);
    const listed = await store.listObjects(key.slice(0, key.lastIndexOf('/') + 1), { limit: 10 });
    expect(listed.objects.map((object) => object.key)).toContain(key);
  });

  it('deletes it with its blob file', async () => {
    await store.deleteObject(key);
    expect(await store.headObject(key)).toBeNull();
    await expect(stat(join(harness.dir, 'blobs', blob))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('replaces it by a completed upload, removing the old blob file', async () => {
    const otherKey = newKey();
    const otherBlob = randomBytes(16).toString('hex');
    await writeOldFormatObject(otherKey, otherBlob, bytes);
    const newBytes = randomBytes(100);
    await storeParts(store, otherKey, [newBytes]);
    expect((await read(store, otherKey)).equals(newBytes)).toBe(true);
    await expect(stat(join(harness.dir, 'blobs', otherBlob))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
