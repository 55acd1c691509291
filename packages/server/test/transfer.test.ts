import { once } from 'node:events';
import fc from 'fast-check';
import { parse as rangeParser } from 'range-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRange } from '../src/http/transfer/range.js';
import { resolveRange } from '../src/storage/byte-range.js';
import type { ByteRange } from '../src/storage/store.js';
import { putPart, randomData } from './support/bytes.js';
import { useCleanups } from './support/cleanups.js';
import { downloadUrl, openDownload, rest } from './support/rest-client.js';
import { startLocalServer, type TestServer } from './support/server.js';

const workspaceId = 'ws-transfer';

/** Stores `data` through the documented flow with the given type; returns the object's key. */
async function storeObject(baseUrl: string, data: Buffer, fileType: string): Promise<string> {
  const started = await rest(baseUrl, 'GET', '/s3/start-upload', { query: { workspaceId, fileType } });
  const { uploadId, assetId } = started.body as { uploadId: string; assetId: string };
  const signed = await rest(baseUrl, 'GET', '/s3/get-upload-url', { query: { workspaceId, assetId, UploadId: uploadId, PartNumber: '1' } });
  const put = await putPart(signed.body.url as string, data);
  const completed = await rest(baseUrl, 'POST', '/s3/complete-upload', {
    json: { workspaceId, assetId, uploadId, parts: [{ PartNumber: 1, ETag: put.etag }] },
  });
  expect(completed.status).toBe(200);
  return `${workspaceId}/digital_assets/${assetId}`;
}

/** A signed GET URL of the local store, as object.downloadUrl hands it out. */
async function signedGetUrl(server: TestServer, key: string): Promise<string> {
  return server.store.signGetUrl(key, 300);
}

describe('the Range parser', () => {
  it('reads one bytes= range, keeps a suffix of 0 (unsatisfiable), and ignores the rest', () => {
    expect(parseRange('bytes=0-9')).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=5-')).toEqual({ start: 5 });
    expect(parseRange('bytes=-5')).toEqual({ suffixLength: 5 });
    expect(parseRange('bytes=-0')).toEqual({ suffixLength: 0 });
    expect(parseRange('bytes=0-1,4-5')).toBeUndefined();
    expect(parseRange('bytes=9-2')).toBeUndefined();
    expect(parseRange('items=0-1')).toBeUndefined();
    expect(parseRange('bytes=-')).toBeUndefined();
    expect(parseRange(undefined)).toBeUndefined();
  });

  it('resolves ranges as S3 does', () => {
    expect(resolveRange({ suffixLength: 50 }, 10)).toEqual({ start: 0, end: 9 });
    expect(resolveRange({ start: 3, end: 100 }, 10)).toEqual({ start: 3, end: 9 });
    expect(() => resolveRange({ suffixLength: 0 }, 10)).toThrow(expect.objectContaining({ appCode: 'RANGE_NOT_SATISFIABLE' }));
    expect(() => resolveRange({ start: 0 }, 0)).toThrow(expect.objectContaining({ appCode: 'RANGE_NOT_SATISFIABLE' }));
  });

  /**
   * range-parser needs the object's size before it reads a header, which on S3 would cost a HEAD
   * before every ranged GET; this parser reads the syntax and lets the store resolve the range.
   * For every single valid range of a non-empty object the two agree byte for byte, and a 416 is
   * a 416.
   */
  it('agrees with range-parser on every single valid range, and on what is unsatisfiable', () => {
    const position = fc.integer({ min: 0, max: 2_000 });
    const spec = fc.oneof(
      fc.tuple(position, position).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
      position.map((a) => `${a}-`),
      position.map((n) => `-${n}`),
    );
    fc.assert(
      fc.property(spec, fc.integer({ min: 1, max: 1_500 }), (text, size) => {
        const header = `bytes=${text}`;
        const expected = rangeParser(size, header);
        const ours = outcome(parseRange(header), size);
        if (expected.code === 2) return ours === 'unsatisfiable';
        return (
          expected.code === 0 &&
          ours !== 'unsatisfiable' &&
          ours.start === expected.ranges[0]!.start &&
          ours.end === expected.ranges[0]!.end
        );
      }),
      { numRuns: 2_000 },
    );
  });

  it('serves the whole object where range-parser finds an invalid spec or several ranges, and refuses ranges of an empty object, as S3 does', () => {
    expect(rangeParser(100, 'bytes=9-2').code).toBe(1);
    expect(parseRange('bytes=9-2')).toBeUndefined();
    expect(rangeParser(100, 'bytes=0-1,4-5').ranges).toHaveLength(2);
    expect(parseRange('bytes=0-1,4-5')).toBeUndefined();
    expect(rangeParser(0, 'bytes=-1')).toMatchObject({ code: 0, ranges: [] });
    expect(outcome(parseRange('bytes=-1'), 0)).toBe('unsatisfiable');
  });
});

function outcome(range: ByteRange | undefined, size: number): { start: number; end: number } | 'unsatisfiable' {
  if (range === undefined) return { start: 0, end: size - 1 };
  try {
    return resolveRange(range, size);
  } catch {
    return 'unsatisfiable';
  }
}

describe('every download path answers alike: GET /s3/download and the signed GET URL', () => {
  let server: TestServer;
  const data = randomData(64 * 1024);
  let key: string;
  let paths: Array<[string, () => Promise<string>]>;

  beforeAll(async () => {
    server = await startLocalServer();
    key = await storeObject(server.url, data, 'text/plain');
    paths = [
      ['GET /s3/download', async () => downloadUrl(server.url, workspaceId, key)],
      ['signed GET URL', () => signedGetUrl(server, key)],
    ];
  });
  afterAll(async () => {
    await server?.close();
  });

  async function eachPath(check: (url: string, path: string) => Promise<void>): Promise<void> {
    for (const [name, url] of paths) await check(await url(), name);
  }

  it('sends the stored bytes with the same headers: exact Content-Type, attachment, nosniff, caching, validators', async () => {
    await eachPath(async (url, path) => {
      const response = await fetch(url);
      expect(response.status, path).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).equals(data), path).toBe(true);
      expect(
        Object.fromEntries(
          ['content-type', 'content-length', 'accept-ranges', 'content-disposition', 'x-content-type-options', 'cache-control'].map(
            (name) => [name, response.headers.get(name)],
          ),
        ),
        path,
      ).toEqual({
        'content-type': 'text/plain',
        'content-length': String(data.length),
        'accept-ranges': 'bytes',
        // RFC 6266 as the content-disposition package writes it: an asset id is a token, so unquoted.
        'content-disposition': `attachment; filename=${key.split('/').pop()}`,
        'x-content-type-options': 'nosniff',
        'cache-control': 'private, no-cache',
      });
      expect(response.headers.get('etag'), path).toMatch(/^"[0-9a-f]{32}-1"$/);
      expect(new Date(response.headers.get('last-modified') ?? '').getTime(), path).toBeGreaterThan(0);
    });
  });

  it.each([
    ['a closed range', 'bytes=10-19', 10, 19],
    ['an open range', 'bytes=65000-', 65_000, 64 * 1024 - 1],
    ['a suffix', 'bytes=-5', 64 * 1024 - 5, 64 * 1024 - 1],
    ['a range past the end, clamped', 'bytes=65530-99999', 65_530, 64 * 1024 - 1],
  ])('answers %s with 206 and its bytes', async (_label, header, start, end) => {
    await eachPath(async (url, path) => {
      const response = await fetch(url, { headers: { range: header } });
      expect(response.status, path).toBe(206);
      expect(response.headers.get('content-range'), path).toBe(`bytes ${start}-${end}/${data.length}`);
      expect(response.headers.get('content-length'), path).toBe(String(end - start + 1));
      expect(Buffer.from(await response.arrayBuffer()).equals(data.subarray(start, end + 1)), path).toBe(true);
    });
  });

  it.each([
    ['bytes=-0, a suffix of no bytes', 'bytes=-0'],
    ['a start past the end', `bytes=${64 * 1024}-`],
  ])('answers %s with 416, the size in Content-Range and the error body', async (_label, header) => {
    await eachPath(async (url, path) => {
      const response = await fetch(url, { headers: { range: header } });
      expect(response.status, path).toBe(416);
      expect(response.headers.get('content-range'), path).toBe(`bytes */${data.length}`);
      expect(await response.json(), path).toMatchObject({ code: 'RANGE_NOT_SATISFIABLE' });
    });
  });

  it('serves the whole object for several ranges or a range it cannot read', async () => {
    await eachPath(async (url, path) => {
      for (const header of ['bytes=0-1,4-5', 'bytes=9-2', 'items=0-1']) {
        const response = await fetch(url, { headers: { range: header } });
        expect(response.status, `${path} ${header}`).toBe(200);
        expect((await response.arrayBuffer()).byteLength).toBe(data.length);
      }
    });
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    await eachPath(async (url, path) => {
      const head = await fetch(url, { method: 'HEAD' });
      expect(head.status, path).toBe(200);
      expect(head.headers.get('content-length'), path).toBe(String(data.length));
      expect(head.headers.get('content-type'), path).toBe('text/plain');
      expect((await head.arrayBuffer()).byteLength, path).toBe(0);
      const ranged = await fetch(url, { method: 'HEAD', headers: { range: 'bytes=0-9' } });
      expect(ranged.status, path).toBe(206);
      expect(ranged.headers.get('content-range'), path).toBe(`bytes 0-9/${data.length}`);
    });
  });
});

describe('the idle guard on every download path', () => {
  const { defer } = useCleanups();

  it.each([
    ['GET /s3/download', (server: TestServer, key: string) => Promise.resolve(downloadUrl(server.url, workspaceId, key))],
    ['a signed GET URL of the local store', signedGetUrl],
  ])('cuts %s whose reader stops reading', { timeout: 20_000 }, async (_label, urlOf) => {
    const server = await startLocalServer({ downloadIdleTimeoutMs: 300 });
    defer(() => server.close());
    const data = randomData(24 * 1024 * 1024);
    const key = await storeObject(server.url, data, 'application/octet-stream');
    const response = await openDownload(await urlOf(server, key));
    // A cut answer ends in 'aborted' once the reader takes up its bytes again.
    response.on('error', () => {});
    expect(response.statusCode).toBe(200);
    await once(response, 'data');
    response.pause();
    // The reader sits on its socket for five idle timeouts; meanwhile the server gives up on it.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    let received = 0;
    response.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    response.resume();
    // Not events.once: it would reject on that 'aborted' error instead of waiting for the close.
    await new Promise((resolve) => response.once('close', resolve));
    expect(response.complete).toBe(false);
    expect(received).toBeLessThan(data.length);
  });
});
