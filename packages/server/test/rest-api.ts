import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreFeatures } from './store-conformance.js';
import { MiB, putPart, randomData, sha256, splitParts } from './support/bytes.js';
import { type RestAnswer, type RestInit, rest } from './support/rest-client.js';
import type { TestServer } from './support/server.js';

type Json = RestAnswer;

/**
 * The documented /s3 contract, run against the real HTTP server over any store: the flow of
 * `shared/spec/s3-service-api.md`, each documented error, and the key checks.
 */
export function describeRestApi(name: string, start: () => Promise<TestServer>, { bucketCorsApi = true }: StoreFeatures = {}) {
  describe(`REST /s3 on ${name}`, () => {
    let server: TestServer;
    const workspaceId = `ws${Date.now().toString(36)}`;

    beforeAll(async () => {
      server = await start();
    });
    afterAll(async () => {
      await server?.close();
    });

    const request = (method: string, path: string, init: RestInit = {}): Promise<Json> => rest(server.url, method, `/s3${path}`, init);

    const expectError = (response: Json, status: number, code: string) => {
      expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
      expect(Object.keys(response.body).sort()).toEqual(['code', 'error']);
      expect(typeof response.body.error).toBe('string');
      expect(response.body.error).not.toMatch(/\n\s+at /);
    };

    const startUpload = async (fileType = 'application/octet-stream', ws = workspaceId) => {
      const started = await request('GET', '/start-upload', { query: { workspaceId: ws, fileType } });
      expect(started.status).toBe(200);
      return started.body as { uploadId: string; assetId: string };
    };

    const signPart = (ws: string, assetId: string, uploadId: string, partNumber: string) =>
      request('GET', '/get-upload-url', { query: { PartNumber: partNumber, UploadId: uploadId, assetId, workspaceId: ws } });

    /** start, one signed PUT per part, complete: the documented flow. */
    const uploadFile = async (data: Buffer, fileType = 'application/octet-stream') => {
      const { uploadId, assetId } = await startUpload(fileType);
      const parts = [];
      for (const [index, chunk] of splitParts(data, 5 * MiB).entries()) {
        const signed = await signPart(workspaceId, assetId, uploadId, String(index + 1));
        expect(signed.status).toBe(200);
        const put = await putPart(signed.body.url, chunk);
        expect(put.status).toBe(200);
        parts.push({ ETag: put.etag!, PartNumber: index + 1 });
      }
      const completed = await request('POST', '/complete-upload', { json: { uploadId, assetId, workspaceId, parts } });
      return { uploadId, assetId, parts, completed };
    };

    describe('the documented upload flow', () => {
      const data = randomData(7 * MiB + 123);
      let key: string;

      it('start-upload returns exactly { uploadId, assetId }', async () => {
        const started = await request('GET', '/start-upload', { query: { workspaceId, fileType: 'image/png' } });
        expect(started.status).toBe(200);
        expect(Object.keys(started.body).sort()).toEqual(['assetId', 'uploadId']);
        expect(started.body.assetId).toMatch(/^[A-Za-z0-9_-]{16,}$/);
      });

      it('get-upload-url returns { url, expiresIn: 3600 }', async () => {
        const { uploadId, assetId } = await startUpload();
        const signed = await signPart(workspaceId, assetId, uploadId, '1');
        expect(signed.status).toBe(200);
        expect(Object.keys(signed.body).sort()).toEqual(['expiresIn', 'url']);
        expect(signed.body.expiresIn).toBe(3600);
        expect(() => new URL(signed.body.url)).not.toThrow();
      });

      it('uploads in parts through the signed URLs and completes at the documented key', async () => {
        const { assetId, completed } = await uploadFile(data, 'video/mp4');
        expect(completed.status).toBe(200);
        key = `${workspaceId}/digital_assets/${assetId}`;
        expect(completed.body).toEqual({ success: true, location: expect.stringMatching(new RegExp(`^s3://[^/]+/${key}$`)), key });
      });

      it('downloads the same bytes with type, length, etag and attachment headers', async () => {
        const response = await fetch(`${server.url}/s3/download?${new URLSearchParams({ key, workspaceId })}`);
        expect(response.status).toBe(200);
        const body = Buffer.from(await response.arrayBuffer());
        expect(body.length).toBe(data.length);
        expect(sha256(body)).toBe(sha256(data));
        expect(response.headers.get('content-type')).toBe('video/mp4');
        expect(response.headers.get('content-length')).toBe(String(data.length));
        expect(response.headers.get('etag')).toMatch(/^"[0-9a-f]{32}-2"$/);
        expect(response.headers.get('accept-ranges')).toBe('bytes');
        expect(response.headers.get('content-disposition')).toMatch(/^attachment/);
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      });

      it('serves a single byte range with 206', async () => {
        const query = new URLSearchParams({ key, workspaceId });
        const middle = await fetch(`${server.url}/s3/download?${query}`, { headers: { range: `bytes=${5 * MiB - 5}-${5 * MiB + 4}` } });
        expect(middle.status).toBe(206);
        expect(middle.headers.get('content-range')).toBe(`bytes ${5 * MiB - 5}-${5 * MiB + 4}/${data.length}`);
        expect(Buffer.from(await middle.arrayBuffer())).toEqual(data.subarray(5 * MiB - 5, 5 * MiB + 5));

        const suffix = await fetch(`${server.url}/s3/download?${query}`, { headers: { range: 'bytes=-100' } });
        expect(suffix.status).toBe(206);
        expect(Buffer.from(await suffix.arrayBuffer())).toEqual(data.subarray(data.length - 100));

        // On every store a 416 names the object's size, and a suffix of no bytes is one.
        for (const range of [`bytes=${data.length + 10}-`, 'bytes=-0']) {
          const outside = await fetch(`${server.url}/s3/download?${query}`, { headers: { range } });
          expect(outside.status, range).toBe(416);
          expect(outside.headers.get('content-range'), range).toBe(`bytes */${data.length}`);
          expect((await outside.json()).code, range).toBe('RANGE_NOT_SATISFIABLE');
        }
      });

      it('deletes the object; download is then 404 NOT_FOUND', async () => {
        const deleted = await request('DELETE', '/delete', { query: { key, workspaceId } });
        expect(deleted).toMatchObject({ status: 200, body: { success: true } });
        expectError(await request('GET', '/download', { query: { key, workspaceId } }), 404, 'NOT_FOUND');
      });

      it('a retried complete of a completed upload succeeds with the same answer', async () => {
        const { uploadId, assetId, parts, completed } = await uploadFile(randomData(5 * MiB + 1));
        const retried = await request('POST', '/complete-upload', { json: { uploadId, assetId, workspaceId, parts } });
        expect(retried).toMatchObject({ status: 200, body: completed.body });
      });
    });

    describe('errors', () => {
      it('a missing parameter is 400 MISSING_PARAMETER on every path', async () => {
        expectError(await request('GET', '/start-upload', { query: { workspaceId } }), 400, 'MISSING_PARAMETER');
        expectError(await request('GET', '/start-upload', { query: { fileType: 'image/png' } }), 400, 'MISSING_PARAMETER');
        expectError(
          await request('GET', '/get-upload-url', { query: { PartNumber: '1', UploadId: 'x', workspaceId } }),
          400,
          'MISSING_PARAMETER',
        );
        expectError(
          await request('GET', '/get-upload-url', { query: { assetId: 'a', UploadId: 'x', workspaceId } }),
          400,
          'MISSING_PARAMETER',
        );
        expectError(
          await request('POST', '/complete-upload', { json: { workspaceId, assetId: 'a', parts: [] } }),
          400,
          'MISSING_PARAMETER',
        );
        expectError(await request('POST', '/complete-upload'), 400, 'MISSING_PARAMETER');
        expectError(await request('GET', '/download', { query: { workspaceId } }), 400, 'MISSING_PARAMETER');
        expectError(await request('DELETE', '/delete', { query: { key: `${workspaceId}/digital_assets/abc` } }), 400, 'MISSING_PARAMETER');
      });

      it('names the missing parameter as the caller spells it', async () => {
        const response = await request('GET', '/get-upload-url', { query: { assetId: 'a', UploadId: 'x', workspaceId } });
        expect(response.body.error).toContain('PartNumber');
      });

      it.each(['0', '10001', '1.5', '1e3', ' 1', 'Infinity', 'abc', '-1', ''])(
        'PartNumber %j is 400 INVALID_PARAMETER',
        async (partNumber) => {
          const { uploadId, assetId } = await startUpload();
          expectError(await signPart(workspaceId, assetId, uploadId, partNumber), 400, 'INVALID_PARAMETER');
        },
      );

      it.each(['../etc', 'a/b', 'a%2Fb', '', 'x'.repeat(200), 'a b', 'a\u0000b'])(
        'workspaceId %j is 400 INVALID_PARAMETER',
        async (bad) => {
          const response = await request('GET', '/start-upload', { query: { workspaceId: bad, fileType: 'image/png' } });
          expect(response.status).toBe(400);
          expect(['INVALID_PARAMETER', 'MISSING_PARAMETER']).toContain(response.body.code);
        },
      );

      it.each(['text/html\r\nX-Evil: 1', 'not a type', 'image/', '/png'])('fileType %j is 400 INVALID_PARAMETER', async (fileType) => {
        expectError(await request('GET', '/start-upload', { query: { workspaceId, fileType } }), 400, 'INVALID_PARAMETER');
      });

      it('a repeated query parameter is refused', async () => {
        const url = `${server.url}/s3/start-upload?workspaceId=${workspaceId}&workspaceId=other&fileType=image/png`;
        const response = await fetch(url);
        expect(response.status).toBe(400);
        expect((await response.json()).code).toBe('INVALID_PARAMETER');
      });

      it('an unknown upload id is 404 INVALID_UPLOAD_ID and no URL is signed', async () => {
        const { assetId } = await startUpload();
        const response = await signPart(workspaceId, assetId, '0123456789abcdef0123456789abcdef', '1');
        expectError(response, 404, 'INVALID_UPLOAD_ID');
      });

      it("another workspace's or asset's upload id is 404 INVALID_UPLOAD_ID", async () => {
        const mine = await startUpload();
        const other = await startUpload('image/png', `${workspaceId}-b`);
        expectError(await signPart(workspaceId, mine.assetId, other.uploadId, '1'), 404, 'INVALID_UPLOAD_ID');
        expectError(await signPart(`${workspaceId}-b`, mine.assetId, mine.uploadId, '1'), 404, 'INVALID_UPLOAD_ID');
        const complete = await request('POST', '/complete-upload', {
          json: {
            uploadId: mine.uploadId,
            assetId: mine.assetId,
            workspaceId: `${workspaceId}-b`,
            parts: [{ ETag: '"x"', PartNumber: 1 }],
          },
        });
        expectError(complete, 404, 'INVALID_UPLOAD_ID');
      });

      it('a completed or aborted upload id is 404 INVALID_UPLOAD_ID at get-upload-url', async () => {
        const { uploadId, assetId } = await uploadFile(randomData(1000));
        expectError(await signPart(workspaceId, assetId, uploadId, '2'), 404, 'INVALID_UPLOAD_ID');
        const started = await startUpload();
        const aborted = await request('DELETE', '/abort-upload', {
          query: { UploadId: started.uploadId, assetId: started.assetId, workspaceId },
        });
        expect(aborted).toMatchObject({ status: 200, body: { success: true } });
        expectError(await signPart(workspaceId, started.assetId, started.uploadId, '1'), 404, 'INVALID_UPLOAD_ID');
      });

      it('abort-upload of an unknown, aborted or completed upload is 404 INVALID_UPLOAD_ID', async () => {
        const abort = (upload: { uploadId: string; assetId: string }) =>
          request('DELETE', '/abort-upload', { query: { UploadId: upload.uploadId, assetId: upload.assetId, workspaceId } });
        // An id no store issued, on an asset the catalogue has never seen: only the store can tell.
        const unknown = { uploadId: 'b3BhcXVlLXVwbG9hZC1pZC10aGF0LWRvZXMtbm90LWV4aXN0', assetId: 'aNeverStartedAssetId00' };
        expectError(await abort(unknown), 404, 'INVALID_UPLOAD_ID');
        const started = await startUpload();
        expect(await abort(started)).toMatchObject({ status: 200, body: { success: true } });
        expectError(await abort(started), 404, 'INVALID_UPLOAD_ID');
        const data = randomData(1000);
        const done = await uploadFile(data);
        expectError(await abort(done), 404, 'INVALID_UPLOAD_ID');
        const download = await fetch(`${server.url}/s3/download?${new URLSearchParams({ key: done.completed.body.key, workspaceId })}`);
        expect(download.status).toBe(200);
        expect(Buffer.from(await download.arrayBuffer()).equals(data)).toBe(true);
      });

      it('the store refusing to assemble is 400 UPLOAD_FAILED with its reason', async () => {
        const { uploadId, assetId } = await startUpload();
        const small = [];
        for (const partNumber of [1, 2]) {
          const signed = await signPart(workspaceId, assetId, uploadId, String(partNumber));
          const put = await putPart(signed.body.url, randomData(1024));
          small.push({ ETag: put.etag!, PartNumber: partNumber });
        }
        const tooSmall = await request('POST', '/complete-upload', { json: { uploadId, assetId, workspaceId, parts: small } });
        expectError(tooSmall, 400, 'UPLOAD_FAILED');
        expect(tooSmall.body.error).toMatch(/EntityTooSmall|small/i);

        const wrongEtag = await request('POST', '/complete-upload', {
          json: { uploadId, assetId, workspaceId, parts: [{ ETag: '"00000000000000000000000000000000"', PartNumber: 1 }] },
        });
        expectError(wrongEtag, 400, 'UPLOAD_FAILED');
        expect(wrongEtag.body.error).toMatch(/InvalidPart/);
      });

      it('malformed complete bodies are 400 and name the field', async () => {
        const { uploadId, assetId } = await startUpload();
        const notJson = await request('POST', '/complete-upload', {
          body: '{"uploadId":',
          headers: { 'content-type': 'application/json' },
        });
        expectError(notJson, 400, 'INVALID_PARAMETER');
        const badPart = await request('POST', '/complete-upload', {
          json: { uploadId, assetId, workspaceId, parts: [{ ETag: 'x', PartNumber: 0 }] },
        });
        expectError(badPart, 400, 'INVALID_PARAMETER');
        expect(badPart.body.error).toContain('PartNumber');
        const notList = await request('POST', '/complete-upload', { json: { uploadId, assetId, workspaceId, parts: 'all' } });
        expectError(notList, 400, 'INVALID_PARAMETER');
      });

      it.each([
        (ws: string) => `${ws}/digital_assets/../../other/digital_assets/x`,
        (ws: string) => `${ws}/digital_assets/..%2F..%2Fx`,
        (ws: string) => `/${ws}/digital_assets/abc`,
        (ws: string) => `${ws}//digital_assets/abc`,
        (ws: string) => `${ws}/digital_assets/abc/def`,
        (ws: string) => `${ws}/digital_assets/`,
        (ws: string) => `${ws}-b/digital_assets/abc`,
        (_ws: string) => `other/digital_assets/abc`,
        (ws: string) => `${ws}/digital_assets/a\\b`,
        (ws: string) => `${ws}/digital_assets/a\uff0fb`,
      ])('key %# outside the workspace prefix is refused before the store', async (makeKey) => {
        const key = makeKey(workspaceId);
        expectError(await request('GET', '/download', { query: { key, workspaceId } }), 400, 'INVALID_PARAMETER');
        expectError(await request('DELETE', '/delete', { query: { key, workspaceId } }), 400, 'INVALID_PARAMETER');
      });

      it('an unknown path is 404 NOT_FOUND with the error body', async () => {
        expectError(await request('GET', '/no-such-path'), 404, 'NOT_FOUND');
      });
    });

    describe('bucket configuration', () => {
      it.runIf(!bucketCorsApi)('updateBucketConfig is 501 NOT_SUPPORTED where the store has no bucket CORS API', async () => {
        expectError(await request('POST', '/updateBucketConfig'), 501, 'NOT_SUPPORTED');
        const custom = {
          CORSRules: [{ AllowedMethods: ['PUT'], AllowedOrigins: ['https://app.example'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] }],
        };
        expectError(await request('POST', '/updateBucketConfig', { json: custom }), 501, 'NOT_SUPPORTED');
      });

      it.runIf(bucketCorsApi)('updateBucketConfig applies the documented default CORS rules', async () => {
        const updated = await request('POST', '/updateBucketConfig');
        expect(updated).toMatchObject({ status: 200, body: { success: true } });
        const config = await request('GET', '/getBucketConfig');
        expect(config.status).toBe(200);
        expect(config.body.CORSRules).toHaveLength(1);
        const [rule] = config.body.CORSRules;
        expect(new Set(rule.AllowedMethods)).toEqual(new Set(['GET', 'POST', 'PUT', 'DELETE']));
        expect(rule.AllowedOrigins).toEqual(['*']);
        expect(rule.AllowedHeaders).toEqual(['*']);
        expect(rule.ExposeHeaders).toEqual(['ETag']);
      });

      it('a browser on another origin can PUT a part and read its ETag', async () => {
        // Without a bucket CORS API the S3 server's own CORS answers the browser.
        if (bucketCorsApi) await request('POST', '/updateBucketConfig');
        const { uploadId, assetId } = await startUpload();
        const signed = await signPart(workspaceId, assetId, uploadId, '1');
        const preflight = await fetch(signed.body.url, {
          method: 'OPTIONS',
          headers: {
            origin: 'http://app.example',
            'access-control-request-method': 'PUT',
            'access-control-request-headers': 'content-type',
          },
        });
        // Any 2xx passes a preflight (Fetch's "ok status"): S3 says 200, MinIO 204.
        expect([200, 204]).toContain(preflight.status);
        expect(['*', 'http://app.example']).toContain(preflight.headers.get('access-control-allow-origin'));
        const put = await fetch(signed.body.url, { method: 'PUT', body: 'hello', headers: { origin: 'http://app.example' } });
        expect(put.status).toBe(200);
        expect(put.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('etag');
      });
    });
  });
}
