import { createHash } from 'node:crypto';
import { createReadStream, openAsBlob } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3ServiceClient, type S3ServiceClient, type UploadData } from '../src/index.js';
import { downloadedHash, expectedHash, progressRecorder, spiedClient, startLocalServer, type TestServer } from './support/client.js';
import { MiB, randomData } from './support/data.js';

const workspaceId = 'client-upload';
const partSize = 5 * MiB;

describe('client.upload on the local-disk store', () => {
  let server: TestServer;
  let client: S3ServiceClient;
  let dir: string;

  beforeAll(async () => {
    server = await startLocalServer();
    client = createS3ServiceClient({ url: server.url });
    dir = await mkdtemp(join(tmpdir(), 's3-client-test-'));
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const contentTypeOf = async (key: string) => (await client.trpc.object.head.query({ workspaceId, key })).contentType;

  it.each([
    ['an empty file (one empty part)', 0, 1],
    ['a single byte', 1, 1],
    ['exactly one part', partSize, 1],
    ['three whole parts and a short last one', 3 * partSize + 12_345, 4],
  ])('stores %s byte-exact, reporting progress up to the total', async (_name, size, parts) => {
    const data = randomData(size);
    const { client: spied, spy } = spiedClient(server);
    const progress = progressRecorder();
    const result = await spied.upload(data, { workspaceId, partSize, onProgress: progress.onProgress });

    expect(result).toMatchObject({
      size,
      key: `${workspaceId}/digital_assets/${result.assetId}`,
      location: expect.stringMatching(/^s3:\/\//),
    });
    expect(result.uploadId).toEqual(expect.any(String));
    expect(result.etag).toMatch(/^".+"$/);
    expect(spy.puts.map((put) => put.partNumber).sort((a, b) => a - b)).toEqual(Array.from({ length: parts }, (_, i) => i + 1));
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
    expect(progress.isMonotone()).toBe(true);
    expect(progress.last()).toEqual({ loaded: size, total: size });
  });

  it('reports progress while a part is on the wire, not only when it is done (Node streams part bodies)', async () => {
    const data = randomData(2 * partSize + 1000);
    const progress = progressRecorder();
    await client.upload(data, { workspaceId, partSize, onProgress: progress.onProgress });
    const partBoundaries = new Set([partSize, 2 * partSize, data.byteLength]);
    const midPart = progress.reports.filter((report) => report.part !== undefined && !partBoundaries.has(report.loaded));
    expect(midPart.length).toBeGreaterThan(10);
    expect(progress.reports.every((report) => report.total === data.byteLength)).toBe(true);
    expect(progress.isMonotone()).toBe(true);
  });

  it('reports progress per finished part with plain bodies, as in browsers (streamParts: false)', async () => {
    const data = randomData(2 * partSize + 1000);
    const progress = progressRecorder();
    const result = await client.upload(data, { workspaceId, partSize, streamParts: false, onProgress: progress.onProgress });
    // Three parts, one report each (whole parts only), then the final report.
    expect(progress.reports).toHaveLength(4);
    const steps = progress.reports.slice(0, 3).map((report, index) => report.loaded - (progress.reports[index - 1]?.loaded ?? 0));
    expect(steps.sort((a, b) => a - b)).toEqual([1000, partSize, partSize]);
    expect(progress.last()).toEqual({ loaded: data.byteLength, total: data.byteLength });
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
  });

  it('takes a Blob and stores it with the Blob type', async () => {
    const data = randomData(partSize + 7);
    const result = await client.upload(new Blob([data], { type: 'image/png' }), { workspaceId, partSize });
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
    expect(await contentTypeOf(result.key)).toBe('image/png');
  });

  it("takes a File without a type and guesses it from the name's extension", async () => {
    const data = randomData(1000);
    const result = await client.upload(new File([data], 'report.PDF'), { workspaceId });
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
    expect(await contentTypeOf(result.key)).toBe('application/pdf');
  });

  it('lets an explicit fileType win, and falls back to application/octet-stream', async () => {
    const explicit = await client.upload(new Blob([randomData(10)], { type: 'image/png' }), { workspaceId, fileType: 'image/webp' });
    expect(await contentTypeOf(explicit.key)).toBe('image/webp');
    const unknown = await client.upload(randomData(10), { workspaceId });
    expect(await contentTypeOf(unknown.key)).toBe('application/octet-stream');
  });

  it('takes an ArrayBuffer', async () => {
    const data = randomData(partSize + 3);
    const result = await client.upload(data.buffer, { workspaceId, partSize });
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
  });

  it('takes a file path (Node), reading parts from disk, with the type of its extension', async () => {
    const data = randomData(2 * partSize + 99);
    const path = join(dir, 'clip.mp4');
    await writeFile(path, data);
    const progress = progressRecorder();
    const result = await client.upload(path, { workspaceId, partSize, onProgress: progress.onProgress });
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
    expect(await contentTypeOf(result.key)).toBe('video/mp4');
    expect(progress.last()).toEqual({ loaded: data.byteLength, total: data.byteLength });
  });

  it('takes a Blob opened from disk with fs.openAsBlob', async () => {
    const data = randomData(partSize + 5);
    const path = join(dir, 'blob.bin');
    await writeFile(path, data);
    const result = await client.upload(await openAsBlob(path), { workspaceId, partSize });
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
  });

  it('takes a Node Readable of unknown length; the total is known once it ended', async () => {
    const data = randomData(2 * partSize + 4321);
    const path = join(dir, 'stream.png');
    await writeFile(path, data);
    const progress = progressRecorder();
    const result = await client.upload(createReadStream(path, { highWaterMark: 100_000 }), {
      workspaceId,
      partSize,
      onProgress: progress.onProgress,
    });
    expect(result.size).toBe(data.byteLength);
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
    expect(await contentTypeOf(result.key)).toBe('image/png');
    expect(progress.reports.slice(0, -1).every((report) => report.total === undefined)).toBe(true);
    expect(progress.last()).toEqual({ loaded: data.byteLength, total: data.byteLength });
  });

  it('takes a web ReadableStream, including one that ends exactly at a part boundary', async () => {
    const data = randomData(2 * partSize);
    const stream = new Blob([data]).stream();
    const { client: spied, spy } = spiedClient(server);
    const result = await spied.upload(stream, { workspaceId, partSize, size: data.byteLength });
    expect(spy.puts).toHaveLength(2);
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
  });

  it('stores an empty stream as an empty object', async () => {
    const result = await client.upload(new Blob([]).stream(), { workspaceId });
    expect(result.size).toBe(0);
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(new Uint8Array(0)));
  });

  it('sends parts in parallel, up to `concurrency`', async () => {
    let inFlight = 0;
    let most = 0;
    const data = randomData(6 * partSize);
    const { client: spied } = spiedClient(server, () => ({
      kind: 'before',
      run: () => {
        inFlight++;
        most = Math.max(most, inFlight);
        return new Promise<void>((resolve) => setTimeout(resolve, 50)).then(() => void inFlight--);
      },
    }));
    const result = await spied.upload(data, { workspaceId, partSize, concurrency: 3 });
    expect(most).toBe(3);
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
  });

  it('signs part URLs in batches, not one request per part, when parts go without checksums', async () => {
    const { client: spied, spy } = spiedClient(server);
    const result = await spied.upload(randomData(6 * partSize), { workspaceId, partSize, checksum: false });
    expect(spy.procedures.filter((path) => path === 'upload.signParts')).toHaveLength(1);
    expect(spy.procedures).not.toContain('upload.signPart');
    expect(result.checksum).toBeUndefined();
  });

  it("checksums every part by default: the object's COMPOSITE SHA-256 is the one computed from the bytes", async () => {
    const data = randomData(5 * partSize + 1234);
    const { client: spied, spy } = spiedClient(server);
    const result = await spied.upload(data, { workspaceId, partSize });
    const digests = [0, 1, 2, 3, 4, 5].map((index) =>
      createHash('sha256')
        .update(data.subarray(index * partSize, (index + 1) * partSize))
        .digest(),
    );
    expect(result.checksum).toBe(`${createHash('sha256').update(Buffer.concat(digests)).digest('base64')}-6`);
    // Parts are signed once hashed, never ahead, and each exactly once.
    const signCalls = spy.procedures.filter((path) => path === 'upload.signParts').length;
    expect(signCalls).toBeGreaterThanOrEqual(1);
    expect(signCalls).toBeLessThanOrEqual(6);
    const head = await client.trpc.object.head.query({ workspaceId, key: result.key });
    expect(head.checksum).toEqual({ algorithm: 'SHA256', type: 'COMPOSITE', value: result.checksum });
  });

  it('refuses input it cannot read with INVALID_PARAMETER, before starting an upload', async () => {
    const { client: spied, spy } = spiedClient(server);
    await expect(spied.upload({ nope: true } as unknown as UploadData, { workspaceId })).rejects.toMatchObject({
      name: 'UploadError',
      code: 'INVALID_PARAMETER',
    });
    await expect(spied.upload(join(dir, 'missing.bin'), { workspaceId })).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
    await expect(spied.upload(randomData(1), { workspaceId, concurrency: 0 })).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
    expect(spy.procedures).toEqual([]);
  });
});
