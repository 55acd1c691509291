import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.js';
import { multipartEtag } from '../src/storage/multipart.js';
import { createS3Store } from '../src/storage/s3/index.js';
import type { ObjectStore } from '../src/storage/store.js';
import { describeObjectStore } from './store-conformance.js';
import { isSkipped, type S3Emulator, s3ServersUnderTest, startS3Emulator } from './support/s3-emulator.js';
import { putToSignedUrl, readAll, s3Harness, s3StoreOptions, uniqueAssetKey, uploadThroughSignedUrls } from './support/s3-harness.js';

const MiB = 1024 * 1024;

// Every S3 server of the tests (versitygw and MinIO), each a real one that checks SigV4 signatures and expiry.
const servers = await Promise.all(
  s3ServersUnderTest().map(async (server) => {
    const started = await startS3Emulator({ server });
    const skipReason = isSkipped(started) ? started.skipped : undefined;
    if (skipReason) console.warn(`skipping S3 driver tests on ${server}: ${skipReason}`);
    return { label: server === 'external' ? 'S3_TEST_ENDPOINT' : server, started, skipReason };
  }),
);

afterAll(async () => {
  await Promise.all(servers.map(({ started }) => (isSkipped(started) ? undefined : started.stop())));
});

describe.each(servers)('s3 driver on $label', ({ label, started, skipReason }) => {
  const emulator = started as S3Emulator;
  // The suite every driver passes.
  describe.skipIf(skipReason !== undefined)(`conformance on ${label}`, () => {
    describeObjectStore(`s3 driver on ${label}`, s3Harness(emulator), { bucketCorsApi: !skipReason && emulator.bucketCorsApi });
  });
  describe.skipIf(skipReason !== undefined)(`S3-specific behaviour on ${label}`, () => {
    describeS3Specifics(emulator);
  });
});

async function expectAppError(promise: Promise<unknown>, code: string, message?: RegExp): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect(appError.appCode).toBe(code);
  if (message) expect(appError.message).toMatch(message);
  return appError;
}

function md5(data: Buffer): string {
  return `"${createHash('md5').update(data).digest('hex')}"`;
}

function describeS3Specifics(emulator: S3Emulator): void {
  let store: ObjectStore;
  beforeAll(() => {
    store = createS3Store(s3StoreOptions(emulator));
  });
  afterAll(async () => {
    await store?.close?.();
  });

  describe('multipart uploads through presigned URLs', () => {
    it("assembles parts PUT by plain fetch and reports S3's multipart ETag", async () => {
      const key = uniqueAssetKey();
      const data = randomBytes(5 * MiB + 1234);
      const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB)];
      const { uploadId } = await store.createMultipartUpload(key, 'image/png');
      await store.assertUploadOpen(key, uploadId);
      const urls = await store.signPartUrls(key, uploadId, [1, 2], 3600);
      const puts = await Promise.all(parts.map((part, index) => putToSignedUrl(urls[index]!, part)));
      expect(puts.map((put) => put.status)).toEqual([200, 200]);
      expect(puts.map((put) => put.etag)).toEqual(parts.map(md5));

      expect(await store.listParts(key, uploadId)).toEqual([
        { partNumber: 1, etag: md5(parts[0]!), size: 5 * MiB },
        { partNumber: 2, etag: md5(parts[1]!), size: 1234 },
      ]);

      // One etag bare, one quoted: callers send both forms.
      const completed = await store.completeMultipartUpload(key, uploadId, [
        { partNumber: 1, etag: puts[0]!.etag!.replaceAll('"', '') },
        { partNumber: 2, etag: puts[1]!.etag! },
      ]);
      expect(completed.etag).toBe(multipartEtag(parts.map(md5)));
      expect(completed.etag).toMatch(/^"[0-9a-f]{32}-2"$/);

      const head = await store.headObject(key);
      expect(head).toMatchObject({ key, size: data.length, contentType: 'image/png', etag: completed.etag });
      const object = await store.getObject(key);
      expect(object).toMatchObject({ size: data.length, contentLength: data.length, etag: completed.etag });
      expect(object.range).toBeUndefined();
      expect((await readAll(object.body)).equals(data)).toBe(true);
    });

    it('signs part URLs without checksum parameters, valid for expiresIn from the store clock', async () => {
      const fixed = Date.UTC(2030, 0, 2, 3, 4, 5);
      const clocked = createS3Store(s3StoreOptions(emulator, { now: () => fixed }));
      const [url] = await clocked.signPartUrls(uniqueAssetKey(), 'some-upload-id', [7], 3600);
      await clocked.close?.();
      const params = new URL(url!).searchParams;
      const names = [...params.keys()].map((name) => name.toLowerCase());
      expect(names.filter((name) => name.includes('checksum'))).toEqual([]);
      expect(params.get('partNumber')).toBe('7');
      expect(params.get('uploadId')).toBe('some-upload-id');
      expect(params.get('X-Amz-Expires')).toBe('3600');
      expect(params.get('X-Amz-Date')).toBe('20300102T030405Z');
      expect(params.get('X-Amz-SignedHeaders')).toBe('host');
    });

    it('gets a refusal from S3 for a part URL whose query was tampered with', async () => {
      const key = uniqueAssetKey();
      const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
      const [url] = await store.signPartUrls(key, uploadId, [1], 3600);
      const otherPart = url!.replace('partNumber=1', 'partNumber=2');
      expect(otherPart).not.toBe(url);
      const tampered = await putToSignedUrl(otherPart, Buffer.from('bytes'));
      expect(tampered.status).toBe(403);
      expect(tampered.text).toContain('SignatureDoesNotMatch');

      const badSignature = new URL(url!);
      const signature = badSignature.searchParams.get('X-Amz-Signature')!;
      badSignature.searchParams.set('X-Amz-Signature', `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`);
      expect((await putToSignedUrl(badSignature.toString(), Buffer.from('bytes'))).status).toBe(403);

      expect(await store.listParts(key, uploadId)).toEqual([]);
      await store.abortMultipartUpload(key, uploadId);
    });

    it('gets a refusal from S3 for an expired part URL', async () => {
      const key = uniqueAssetKey();
      const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
      const past = createS3Store(s3StoreOptions(emulator, { now: () => Date.now() - 2 * 3600_000 }));
      const [expired] = await past.signPartUrls(key, uploadId, [1], 3600);
      await past.close?.();
      const put = await putToSignedUrl(expired!, Buffer.from('bytes'));
      expect(put.status).toBe(403);
      expect(put.text).toMatch(/AccessDenied|expired/i);
      expect(await store.listParts(key, uploadId)).toEqual([]);
      await store.abortMultipartUpload(key, uploadId);
    });

    it('lists every part across pages', async () => {
      const key = uniqueAssetKey();
      const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
      const numbers = Array.from({ length: 1003 }, (_, index) => index + 1);
      const urls = await store.signPartUrls(key, uploadId, numbers, 3600);
      for (let offset = 0; offset < urls.length; offset += 50) {
        await Promise.all(
          urls.slice(offset, offset + 50).map((url, index) => putToSignedUrl(url, Buffer.from(`part ${offset + index + 1}`))),
        );
      }
      const parts = await store.listParts(key, uploadId);
      expect(parts.map((part) => part.partNumber)).toEqual(numbers);
      expect(parts[1002]).toEqual({ partNumber: 1003, etag: md5(Buffer.from('part 1003')), size: 9 });
      await store.abortMultipartUpload(key, uploadId);
    }, 60_000);
  });

  describe('upload ids S3 does not know', () => {
    it('answers INVALID_UPLOAD_ID for an unknown, aborted or completed upload, or one of another key', async () => {
      const key = uniqueAssetKey();
      const unknown = 'b3BhcXVlLXVwbG9hZC1pZC10aGF0LWRvZXMtbm90LWV4aXN0';
      await expectAppError(store.assertUploadOpen(key, unknown), 'INVALID_UPLOAD_ID', /NoSuchUpload/);
      await expectAppError(store.listParts(key, unknown), 'INVALID_UPLOAD_ID');
      await expectAppError(store.abortMultipartUpload(key, unknown), 'INVALID_UPLOAD_ID', /NoSuchUpload/);
      await expectAppError(
        store.completeMultipartUpload(key, unknown, [{ partNumber: 1, etag: md5(Buffer.from('x')) }]),
        'INVALID_UPLOAD_ID',
      );

      const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
      await expectAppError(store.assertUploadOpen(uniqueAssetKey(), uploadId), 'INVALID_UPLOAD_ID');
      await store.abortMultipartUpload(key, uploadId);
      await expectAppError(store.assertUploadOpen(key, uploadId), 'INVALID_UPLOAD_ID');
      // S3 itself may say 204 to a second abort (MinIO does): the driver asks first.
      await expectAppError(store.abortMultipartUpload(key, uploadId), 'INVALID_UPLOAD_ID', /NoSuchUpload/);

      const done = uniqueAssetKey();
      const upload = await store.createMultipartUpload(done, 'text/plain');
      const [url] = await store.signPartUrls(done, upload.uploadId, [1], 60);
      const put = await putToSignedUrl(url!, Buffer.from('hello'));
      await store.completeMultipartUpload(done, upload.uploadId, [{ partNumber: 1, etag: put.etag! }]);
      await expectAppError(store.assertUploadOpen(done, upload.uploadId), 'INVALID_UPLOAD_ID');
      await expectAppError(store.abortMultipartUpload(done, upload.uploadId), 'INVALID_UPLOAD_ID', /NoSuchUpload/);
      expect(await store.headObject(done)).toMatchObject({ size: 5 });
    });

    it('refuses upload ids that are path segments before S3 can resolve them as folders', async () => {
      // versitygw v1.7.0 joins the id onto the upload folder: `../..` passes its existence check and
      // AbortMultipartUpload would then delete every open upload of the bucket.
      const key = uniqueAssetKey();
      const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
      for (const traversal of ['..', '../..', '../../..', './x/..', 'a/../..', '..\\..']) {
        await expectAppError(store.assertUploadOpen(key, traversal), 'INVALID_UPLOAD_ID');
        await expectAppError(store.listParts(key, traversal), 'INVALID_UPLOAD_ID');
        await expectAppError(store.signPartUrls(key, traversal, [1], 60), 'INVALID_UPLOAD_ID');
        await expectAppError(
          store.completeMultipartUpload(key, traversal, [{ partNumber: 1, etag: md5(Buffer.from('x')) }]),
          'INVALID_UPLOAD_ID',
        );
        await expectAppError(store.abortMultipartUpload(uniqueAssetKey(), traversal), 'INVALID_UPLOAD_ID');
      }
      await store.assertUploadOpen(key, uploadId);
      await store.abortMultipartUpload(key, uploadId);
    });
  });

  describe('assembly refused by S3', () => {
    async function uploadWithParts(parts: Buffer[]) {
      const key = uniqueAssetKey();
      const { uploadId } = await store.createMultipartUpload(key, 'application/octet-stream');
      const urls = await store.signPartUrls(
        key,
        uploadId,
        parts.map((_, index) => index + 1),
        3600,
      );
      const etags = await Promise.all(parts.map(async (part, index) => (await putToSignedUrl(urls[index]!, part)).etag!));
      return { key, uploadId, etags };
    }

    it('answers UPLOAD_FAILED naming InvalidPart for a wrong ETag or a part never uploaded', async () => {
      // Parts before the last are 5 MiB so that S3 judges the ETag, not the size.
      const { key, uploadId, etags } = await uploadWithParts([randomBytes(5 * MiB)]);
      await expectAppError(
        store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: md5(Buffer.from('other bytes')) }]),
        'UPLOAD_FAILED',
        /InvalidPart/,
      );
      await expectAppError(
        store.completeMultipartUpload(key, uploadId, [
          { partNumber: 1, etag: etags[0]! },
          { partNumber: 2, etag: etags[0]! },
        ]),
        'UPLOAD_FAILED',
        /InvalidPart/,
      );
      // A refused completion leaves the upload open to retry.
      await store.assertUploadOpen(key, uploadId);
      await store.abortMultipartUpload(key, uploadId);
      expect(await store.headObject(key)).toBeNull();
    });

    it('answers UPLOAD_FAILED naming InvalidPartOrder for parts out of order or repeated, before asking S3', async () => {
      // An id S3 never issued: had the driver asked S3, the answer would be INVALID_UPLOAD_ID.
      for (const numbers of [
        [2, 1],
        [1, 1],
        [1, 3, 2],
      ]) {
        const parts = numbers.map((partNumber) => ({ partNumber, etag: md5(Buffer.from(String(partNumber))) }));
        await expectAppError(store.completeMultipartUpload(uniqueAssetKey(), 'never-issued', parts), 'UPLOAD_FAILED', /InvalidPartOrder/);
      }
    });

    it('answers UPLOAD_FAILED naming EntityTooSmall when a part before the last is under 5 MiB', async () => {
      const { key, uploadId, etags } = await uploadWithParts([Buffer.from('small'), Buffer.from('tail')]);
      await expectAppError(
        store.completeMultipartUpload(
          key,
          uploadId,
          etags.map((etag, index) => ({ partNumber: index + 1, etag })),
        ),
        'UPLOAD_FAILED',
        /EntityTooSmall/,
      );
      await store.abortMultipartUpload(key, uploadId);
    });

    it('answers UPLOAD_FAILED for an empty part list without asking S3', async () => {
      await expectAppError(store.completeMultipartUpload(uniqueAssetKey(), 'any-id', []), 'UPLOAD_FAILED', /at least one part/);
    });
  });

  describe('reading objects', () => {
    const data = randomBytes(4096);
    let key: string;
    beforeAll(async () => {
      key = uniqueAssetKey();
      await uploadThroughSignedUrls(store, key, [data], 'application/pdf');
    });

    it.each([
      ['bytes=a-b', { start: 10, end: 19 }, 10, 19],
      ['bytes=a-', { start: 4000 }, 4000, 4095],
      ['bytes=-n', { suffixLength: 100 }, 3996, 4095],
      ['an end past the object', { start: 4090, end: 9999 }, 4090, 4095],
    ] as const)('serves the range %s with its bounds and the whole size', async (_name, range, start, end) => {
      const object = await store.getObject(key, { range });
      expect(object).toMatchObject({ size: 4096, contentLength: end - start + 1, range: { start, end }, contentType: 'application/pdf' });
      expect((await readAll(object.body)).equals(data.subarray(start, end + 1))).toBe(true);
    });

    it('answers RANGE_NOT_SATISFIABLE for a range starting past the end', async () => {
      await expectAppError(store.getObject(key, { range: { start: 4096 } }), 'RANGE_NOT_SATISFIABLE', /InvalidRange/);
    });

    it('answers NOT_FOUND for a missing key, and headObject null', async () => {
      await expectAppError(store.getObject(uniqueAssetKey()), 'NOT_FOUND', /NoSuchKey/);
      expect(await store.headObject(uniqueAssetKey())).toBeNull();
    });

    it('signs a GET URL that downloads the bytes as an attachment', async () => {
      const url = await store.signGetUrl(key, 60);
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-disposition')).toBe('attachment');
      expect(Buffer.from(await response.arrayBuffer()).equals(data)).toBe(true);
    });

    it('refuses an expired GET URL', async () => {
      const past = createS3Store(s3StoreOptions(emulator, { now: () => Date.now() - 120_000 }));
      const url = await past.signGetUrl(key, 60);
      await past.close?.();
      const response = await fetch(url);
      expect(response.status).toBe(403);
      await response.arrayBuffer();
    });

    it('stops the S3 download when the signal aborts mid-stream', async () => {
      const bigKey = uniqueAssetKey();
      await uploadThroughSignedUrls(store, bigKey, [randomBytes(8 * MiB)]);
      const controller = new AbortController();
      const object = await store.getObject(bigKey, { signal: controller.signal });
      const received: Buffer[] = [];
      const read = (async () => {
        for await (const chunk of object.body) {
          received.push(chunk as Buffer);
          if (received.length === 1) controller.abort();
        }
      })();
      await expect(read).rejects.toMatchObject({ name: 'AbortError' });
      expect(object.body.destroyed).toBe(true);
      expect(Buffer.concat(received).length).toBeLessThan(8 * MiB);
    });

    it('answers S3_ERROR, not a hang, when the signal is already aborted', async () => {
      await expectAppError(store.getObject(key, { signal: AbortSignal.abort() }), 'S3_ERROR', /aborted/i);
    });

    it('deletes objects, and deleting a missing key succeeds', async () => {
      const doomed = uniqueAssetKey();
      await uploadThroughSignedUrls(store, doomed, [Buffer.from('bye')]);
      await store.deleteObject(doomed);
      expect(await store.headObject(doomed)).toBeNull();
      await store.deleteObject(doomed);
    });
  });

  describe('bucket CORS rules', () => {
    const rules = [
      {
        AllowedMethods: ['GET', 'POST', 'PUT', 'DELETE'] as const,
        AllowedOrigins: ['*'],
        AllowedHeaders: ['*'],
        ExposeHeaders: ['ETag'],
      },
    ].map((rule) => ({ ...rule, AllowedMethods: [...rule.AllowedMethods] }));

    it.runIf(!emulator.bucketCorsApi)('refuses rules with NOT_SUPPORTED naming the missing API, not S3_ERROR', async () => {
      // MinIO answers PutBucketCors and DeleteBucketCors with 501 NotImplemented.
      for (const attempt of [rules, []]) {
        const error = await expectAppError(store.putCorsRules(attempt), 'NOT_SUPPORTED', /no bucket CORS API/);
        expect(error.status).toBe(501);
        expect(error.message).toMatch(/NotImplemented/);
      }
      // Reading is still possible: the bucket holds no rules of its own.
      expect(await store.getCorsRules()).toEqual([]);
    });

    it.runIf(emulator.bucketCorsApi)('reads a bucket without CORS configuration as no rules, and rules back as written', async () => {
      await store.putCorsRules([]);
      expect(await store.getCorsRules()).toEqual([]);
      await store.putCorsRules(rules);
      expect(await store.getCorsRules()).toStrictEqual(rules);
      const detailed = [{ ID: 'uploads', AllowedMethods: ['PUT' as const], AllowedOrigins: ['https://app.example'], MaxAgeSeconds: 600 }];
      await store.putCorsRules(detailed);
      expect(await store.getCorsRules()).toStrictEqual(detailed);
      await store.putCorsRules([]);
      expect(await store.getCorsRules()).toEqual([]);
    });
  });
}
