import { createHash, randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../src/errors.js';
import { DEFAULT_CORS_RULES } from '../src/router/bucket.js';
import { assetKey, newAssetId } from '../src/storage/keys.js';
import type { CompletedPart, ObjectStore, StoredPart } from '../src/storage/store.js';

/** What a driver's test file hands the suite: a ready store and a way to release it. */
export interface StoreHarness {
  store: ObjectStore;
  close(): Promise<void>;
}

export interface StoreHarnessOptions {
  /**
   * The clock the store must sign with (ms). The suite moves it into the past to get URLs that are
   * already expired: the local driver checks expiry against it, the S3 driver passes it to the SDK
   * as the signing date and lets the server judge.
   */
  now: () => number;
}

/** What a store's backend can do, where S3-compatible servers differ. */
export interface StoreFeatures {
  /**
   * Bucket CORS rules through the store (S3's PutBucketCors); true unless said otherwise. Without
   * it (MinIO) the store refuses rules with NOT_SUPPORTED and the server applies its own CORS.
   */
  bucketCorsApi?: boolean;
  /**
   * A part's ETag, unquoted, from its bytes: S3's MD5 unless said otherwise (the local store's is
   * 128 bits of the part's SHA-256). S3 promises no MD5 in an ETag; the suite holds each store to its own.
   */
  partEtagHex?: (bytes: Uint8Array) => string;
}

const MIB = 1024 * 1024;
/** The documented lifetime of signed URLs. */
const EXPIRES_IN = 3600;
const CONTENT_TYPE = 'video/mp4';
const ORIGIN = 'https://app.example.com';

interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
}

/**
 * The shared behaviour every ObjectStore driver must show, through the interface and through
 * plain `fetch` to the signed URLs, as a browser uses them. Each test uses fresh keys, so the
 * suite runs on a shared bucket; only the CORS tests change shared state, and they leave the
 * documented default rules (DEFAULT_CORS_RULES, what POST /s3/updateBucketConfig applies) behind.
 */
export function describeObjectStore(
  name: string,
  createHarness: (options: StoreHarnessOptions) => Promise<StoreHarness>,
  { bucketCorsApi = true, partEtagHex = md5Hex }: StoreFeatures = {},
): void {
  /** S3's ETag of a multipart object: the MD5 of the parts' binary ETags, then `-<part count>`. */
  const multipartEtag = (parts: readonly Uint8Array[]): string => {
    const digest = createHash('md5');
    for (const part of parts) digest.update(Buffer.from(partEtagHex(part), 'hex'));
    return `"${digest.digest('hex')}-${parts.length}"`;
  };
  describe(`ObjectStore conformance: ${name}`, () => {
    let clockOffsetMs = 0;
    const now = () => Date.now() + clockOffsetMs;
    let harness: StoreHarness | undefined;
    const workspaceId = `conformance-${randomBytes(4).toString('hex')}`;

    beforeAll(async () => {
      harness = await createHarness({ now });
    });
    afterAll(async () => {
      await harness?.close();
    });

    function store(): ObjectStore {
      if (!harness) throw new Error('the store harness did not start');
      return harness.store;
    }

    const newKey = () => assetKey(workspaceId, newAssetId());

    /** Signs two hours in the past, so a URL valid for one hour is already expired. */
    async function signedInThePast<T>(sign: () => Promise<T>): Promise<T> {
      clockOffsetMs = -2 * 3600 * 1000;
      try {
        return await sign();
      } finally {
        clockOffsetMs = 0;
      }
    }

    async function signPart(key: string, uploadId: string, partNumber: number): Promise<string> {
      const [url] = await store().signPartUrls(key, uploadId, [partNumber], EXPIRES_IN);
      if (!url) throw new Error('signPartUrls returned no URL');
      return url;
    }

    /** A whole object made the way callers make them; returns the completed etag. */
    async function storeObject(key: string, parts: readonly Buffer[]): Promise<string> {
      const { uploadId } = await store().createMultipartUpload(key, CONTENT_TYPE);
      const urls = await store().signPartUrls(
        key,
        uploadId,
        parts.map((_, index) => index + 1),
        EXPIRES_IN,
      );
      const completed: CompletedPart[] = [];
      for (const [index, part] of parts.entries()) {
        const reply = await putPart(urls[index]!, part);
        expect(reply.status).toBe(200);
        completed.push({ partNumber: index + 1, etag: etagHeader(reply) });
      }
      return (await store().completeMultipartUpload(key, uploadId, completed)).etag;
    }

    async function readObject(key: string): Promise<Buffer> {
      return buffer((await store().getObject(key)).body);
    }

    /** The upload is gone for every upload operation. */
    async function expectUploadRefused(key: string, uploadId: string): Promise<void> {
      await expectCode(store().assertUploadOpen(key, uploadId), 'INVALID_UPLOAD_ID');
      await expectCode(store().listParts(key, uploadId), 'INVALID_UPLOAD_ID');
      await expectCode(
        store().completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: quoted(partEtagHex(Buffer.from('x'))) }]),
        'INVALID_UPLOAD_ID',
      );
      await expectCode(store().abortMultipartUpload(key, uploadId), 'INVALID_UPLOAD_ID');
    }

    describe('a two-part upload through signed part URLs', () => {
      const key = newKey();
      const first = randomBytes(5 * MIB);
      const last = randomBytes(100_003);
      const whole = Buffer.concat([first, last]);
      let uploadId = '';
      let partUrls: string[] = [];
      let puts: Reply[] = [];
      let partsBeforeComplete: StoredPart[] = [];
      let etag = '';

      // The flow of a browser upload; the tests below check what each step left behind.
      beforeAll(async () => {
        ({ uploadId } = await store().createMultipartUpload(key, CONTENT_TYPE));
        await store().assertUploadOpen(key, uploadId);
        partUrls = await store().signPartUrls(key, uploadId, [1, 2], EXPIRES_IN);
        puts = [await putPart(partUrls[0]!, first), await putPart(partUrls[1]!, last)];
        partsBeforeComplete = await store().listParts(key, uploadId);
        ({ etag } = await store().completeMultipartUpload(key, uploadId, [
          { partNumber: 1, etag: etagHeader(puts[0]!) },
          { partNumber: 2, etag: etagHeader(puts[1]!) },
        ]));
      });

      it('signs one URL per part number', () => {
        expect(partUrls).toHaveLength(2);
        expect(partUrls[0]).not.toBe(partUrls[1]);
      });

      it("answers each part PUT with 200 and the part's quoted ETag (the store's hash of its bytes)", () => {
        expect(puts.map((reply) => reply.status)).toEqual([200, 200]);
        expect(puts.map(etagHeader)).toEqual([quoted(partEtagHex(first)), quoted(partEtagHex(last))]);
      });

      it('lists the uploaded parts in part order with quoted ETags and sizes', () => {
        expect(partsBeforeComplete).toEqual([
          { partNumber: 1, etag: quoted(partEtagHex(first)), size: first.length },
          { partNumber: 2, etag: quoted(partEtagHex(last)), size: last.length },
        ]);
      });

      it('completes with the multipart ETag "<md5 of the part ETags>-2"', () => {
        expect(etag).toMatch(/^"[0-9a-f]{32}-2"$/);
        expect(etag).toBe(multipartEtag([first, last]));
      });

      it('reports size, content type and ETag from headObject', async () => {
        const info = await store().headObject(key);
        expect(info).toMatchObject({ key, size: whole.length, contentType: CONTENT_TYPE, etag });
        expect(info?.lastModified).toBeInstanceOf(Date);
      });

      it('returns the exact bytes from getObject', async () => {
        const object = await store().getObject(key);
        expect(object).toMatchObject({ key, size: whole.length, contentLength: whole.length, contentType: CONTENT_TYPE, etag });
        expect(object.range).toBeUndefined();
        const bytes = await buffer(object.body);
        expect(bytes.length).toBe(whole.length);
        expect(md5Hex(bytes)).toBe(md5Hex(whole));
      });

      it.each([
        { name: 'a closed range', range: { start: 10, end: 19 }, start: 10, end: 19 },
        { name: 'a range across the part boundary', range: { start: 5 * MIB - 5, end: 5 * MIB + 4 }, start: 5 * MIB - 5, end: 5 * MIB + 4 },
        { name: 'an open-ended range', range: { start: whole.length - 100 }, start: whole.length - 100, end: whole.length - 1 },
        {
          name: 'a range ending past the object',
          range: { start: whole.length - 7, end: whole.length + 1000 },
          start: whole.length - 7,
          end: whole.length - 1,
        },
        { name: 'a suffix range', range: { suffixLength: 500 }, start: whole.length - 500, end: whole.length - 1 },
      ])('serves $name with the right bytes', async ({ range, start, end }) => {
        const object = await store().getObject(key, { range });
        expect(object.range).toEqual({ start, end });
        expect(object.contentLength).toBe(end - start + 1);
        expect(object.size).toBe(whole.length);
        expect((await buffer(object.body)).equals(whole.subarray(start, end + 1))).toBe(true);
      });

      it('refuses a range starting at or past the end with RANGE_NOT_SATISFIABLE', async () => {
        await expectCode(store().getObject(key, { range: { start: whole.length } }), 'RANGE_NOT_SATISFIABLE');
        await expectCode(store().getObject(key, { range: { start: whole.length + 10, end: whole.length + 20 } }), 'RANGE_NOT_SATISFIABLE');
      });

      it('serves the object at a signed GET URL, whole or one byte range', async () => {
        const url = await store().signGetUrl(key, EXPIRES_IN);
        const reply = await request(url);
        expect(reply.status).toBe(200);
        expect(reply.headers.get('content-length')).toBe(String(whole.length));
        expect(reply.headers.get('etag')).toBe(etag);
        expect(md5Hex(reply.body)).toBe(md5Hex(whole));

        const ranged = await request(url, { headers: { Range: 'bytes=5-14' } });
        expect(ranged.status).toBe(206);
        expect(ranged.headers.get('content-range')).toBe(`bytes 5-14/${whole.length}`);
        expect(ranged.body.equals(whole.subarray(5, 15))).toBe(true);
      });

      it('closes the upload: it is refused by every upload operation, and by its part URLs with 404', async () => {
        await expectUploadRefused(key, uploadId);
        expect((await putPart(partUrls[0]!, Buffer.from('late part'))).status).toBe(404);
      });
    });

    describe('re-uploading a part', () => {
      it('replaces the part uploaded earlier under the same number', async () => {
        const key = newKey();
        const before = randomBytes(4096);
        const after = randomBytes(3000);
        const { uploadId } = await store().createMultipartUpload(key, CONTENT_TYPE);
        const url = await signPart(key, uploadId, 1);
        expect((await putPart(url, before)).status).toBe(200);
        const again = await putPart(url, after);
        expect(again.status).toBe(200);
        expect(etagHeader(again)).toBe(quoted(partEtagHex(after)));
        expect(await store().listParts(key, uploadId)).toEqual([{ partNumber: 1, etag: quoted(partEtagHex(after)), size: after.length }]);

        const { etag } = await store().completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: etagHeader(again) }]);
        expect(etag).toBe(multipartEtag([after]));
        expect((await readObject(key)).equals(after)).toBe(true);
      });
    });

    describe('parts the server writes itself (uploadPart)', () => {
      it('stores them like PUT parts: quoted MD5 ETags, listed, assembled, the bytes kept; an empty last part too', async () => {
        const key = newKey();
        const first = randomBytes(5 * MIB);
        const second = randomBytes(1234);
        const { uploadId } = await store().createMultipartUpload(key, CONTENT_TYPE);
        expect(await store().uploadPart(key, uploadId, 1, first)).toEqual({ etag: quoted(partEtagHex(first)), size: first.length });
        expect(await store().uploadPart(key, uploadId, 2, second)).toEqual({ etag: quoted(partEtagHex(second)), size: second.length });
        expect(await store().listParts(key, uploadId)).toEqual([
          { partNumber: 1, etag: quoted(partEtagHex(first)), size: first.length },
          { partNumber: 2, etag: quoted(partEtagHex(second)), size: second.length },
        ]);
        const { etag } = await store().completeMultipartUpload(key, uploadId, [
          { partNumber: 1, etag: quoted(partEtagHex(first)) },
          { partNumber: 2, etag: quoted(partEtagHex(second)) },
        ]);
        expect(etag).toBe(multipartEtag([first, second]));
        expect((await readObject(key)).equals(Buffer.concat([first, second]))).toBe(true);

        const emptyKey = newKey();
        const empty = await store().createMultipartUpload(emptyKey, CONTENT_TYPE);
        const stored = await store().uploadPart(emptyKey, empty.uploadId, 1, new Uint8Array(0));
        await store().completeMultipartUpload(emptyKey, empty.uploadId, [{ partNumber: 1, etag: stored.etag }]);
        expect(await store().headObject(emptyKey)).toMatchObject({ size: 0 });
      });

      it('refuses an upload that is not open with INVALID_UPLOAD_ID', async () => {
        const key = newKey();
        const { uploadId } = await store().createMultipartUpload(key, CONTENT_TYPE);
        await store().abortMultipartUpload(key, uploadId);
        await expectCode(store().uploadPart(key, uploadId, 1, Buffer.from('late')), 'INVALID_UPLOAD_ID');
        await expectCode(store().uploadPart(newKey(), randomBytes(16).toString('hex'), 1, Buffer.from('x')), 'INVALID_UPLOAD_ID');
      });
    });

    describe('part URLs pinned to a content length', () => {
      it('accept a body of exactly that length and refuse a longer or shorter one with 403', async () => {
        const key = newKey();
        const body = randomBytes(1000);
        const { uploadId } = await store().createMultipartUpload(key, CONTENT_TYPE);
        const [pinned] = await store().signPartUrls(key, uploadId, [1], EXPIRES_IN, { contentLengths: [body.length] });
        expect((await putPart(pinned!, randomBytes(body.length + 1))).status).toBe(403);
        expect((await putPart(pinned!, randomBytes(body.length - 1))).status).toBe(403);
        expect(await store().listParts(key, uploadId)).toEqual([]);
        const accepted = await putPart(pinned!, body);
        expect(accepted.status).toBe(200);
        expect(await store().listParts(key, uploadId)).toEqual([{ partNumber: 1, etag: quoted(partEtagHex(body)), size: body.length }]);
        await store().abortMultipartUpload(key, uploadId);
      });
    });

    describe('signed URLs refuse tampering and expiry', () => {
      const key = newKey();
      const objectKey = newKey();
      const body = Buffer.from('a part that must not be stored');
      let uploadId = '';
      let partUrl = '';
      let getUrl = '';

      beforeAll(async () => {
        ({ uploadId } = await store().createMultipartUpload(key, CONTENT_TYPE));
        partUrl = await signPart(key, uploadId, 1);
        await storeObject(objectKey, [Buffer.from('signed download')]);
        getUrl = await store().signGetUrl(objectKey, EXPIRES_IN);
      });
      afterAll(async () => {
        await store()
          .abortMultipartUpload(key, uploadId)
          .catch(() => undefined);
        await store().deleteObject(objectKey);
      });

      it('refuses a part URL whose part number was changed with 403', async () => {
        const tampered = partUrl.replace(/([?&]partNumber=)1(?=&|$)/, '$12');
        expect(tampered).not.toBe(partUrl);
        expect((await putPart(tampered, body)).status).toBe(403);
      });

      it('refuses a part URL whose signature was changed with 403', async () => {
        expect((await putPart(withFlippedSignature(partUrl), body)).status).toBe(403);
      });

      it('refuses a part URL moved to another key with 403', async () => {
        expect((await putPart(withOtherAsset(partUrl, key), body)).status).toBe(403);
      });

      it('refuses an expired part URL with 403', async () => {
        const [expired] = await signedInThePast(() => store().signPartUrls(key, uploadId, [1], EXPIRES_IN));
        expect((await putPart(expired!, body)).status).toBe(403);
      });

      it('stored nothing for the refused PUTs, and the untouched URL works', async () => {
        expect(await store().listParts(key, uploadId)).toEqual([]);
        expect((await putPart(partUrl, body)).status).toBe(200);
        expect(await store().listParts(key, uploadId)).toEqual([{ partNumber: 1, etag: quoted(partEtagHex(body)), size: body.length }]);
      });

      it('refuses a GET URL moved to another key, with a changed signature, or expired, with 403', async () => {
        expect((await request(withOtherAsset(getUrl, objectKey))).status).toBe(403);
        expect((await request(withFlippedSignature(getUrl))).status).toBe(403);
        const expired = await signedInThePast(() => store().signGetUrl(objectKey, EXPIRES_IN));
        expect((await request(expired)).status).toBe(403);
        const untouched = await request(getUrl);
        expect(untouched.status).toBe(200);
        expect(untouched.body.toString()).toBe('signed download');
      });
    });

    describe('completing refuses what S3 refuses, with UPLOAD_FAILED', () => {
      const key = newKey();
      const one = randomBytes(1024);
      const two = randomBytes(2048);
      let uploadId = '';
      let etags: string[] = [];

      beforeAll(async () => {
        ({ uploadId } = await store().createMultipartUpload(key, CONTENT_TYPE));
        const urls = await store().signPartUrls(key, uploadId, [1, 2], EXPIRES_IN);
        etags = [etagHeader(await putPart(urls[0]!, one)), etagHeader(await putPart(urls[1]!, two))];
      });

      const complete = (parts: CompletedPart[]) => store().completeMultipartUpload(key, uploadId, parts);

      it('refuses an empty part list', async () => {
        await expectCode(complete([]), 'UPLOAD_FAILED');
      });

      it('refuses parts but the last below 5 MiB (EntityTooSmall)', async () => {
        const parts = [
          { partNumber: 1, etag: etags[0]! },
          { partNumber: 2, etag: etags[1]! },
        ];
        await expectCode(complete(parts), 'UPLOAD_FAILED', 'EntityTooSmall');
      });

      it('refuses a part whose ETag does not match (InvalidPart)', async () => {
        await expectCode(complete([{ partNumber: 1, etag: quoted('0'.repeat(32)) }]), 'UPLOAD_FAILED', 'InvalidPart');
      });

      it('refuses a part number that was never uploaded (InvalidPart)', async () => {
        await expectCode(complete([{ partNumber: 3, etag: etags[0]! }]), 'UPLOAD_FAILED', 'InvalidPart');
      });

      it('refuses parts listed out of order (InvalidPartOrder)', async () => {
        const parts = [
          { partNumber: 2, etag: etags[1]! },
          { partNumber: 1, etag: etags[0]! },
        ];
        await expectCode(complete(parts), 'UPLOAD_FAILED', 'InvalidPartOrder');
      });

      it('refuses a part listed twice (InvalidPartOrder)', async () => {
        const parts = [
          { partNumber: 1, etag: etags[0]! },
          { partNumber: 1, etag: etags[0]! },
        ];
        await expectCode(complete(parts), 'UPLOAD_FAILED', 'InvalidPartOrder');
      });

      it('leaves the upload open with its parts after a refused complete', async () => {
        await store().assertUploadOpen(key, uploadId);
        expect((await store().listParts(key, uploadId)).map((part) => part.partNumber)).toEqual([1, 2]);
      });

      it('accepts ETags without quotes, and a last part of any size', async () => {
        const { etag } = await complete([{ partNumber: 1, etag: partEtagHex(one) }]);
        expect(etag).toBe(multipartEtag([one]));
        expect((await readObject(key)).equals(one)).toBe(true);
        await expectUploadRefused(key, uploadId);
      });
    });

    describe('upload ids', () => {
      it('refuses an upload id that was never issued with INVALID_UPLOAD_ID', async () => {
        await expectUploadRefused(newKey(), randomBytes(16).toString('hex'));
      });

      it('refuses an upload id used with another key, leaving the upload open', async () => {
        const key = newKey();
        const { uploadId } = await store().createMultipartUpload(key, CONTENT_TYPE);
        await expectUploadRefused(newKey(), uploadId);
        await store().assertUploadOpen(key, uploadId);
        await store().abortMultipartUpload(key, uploadId);
      });

      it('aborting removes the upload and its parts', async () => {
        const key = newKey();
        const { uploadId } = await store().createMultipartUpload(key, CONTENT_TYPE);
        const url = await signPart(key, uploadId, 1);
        expect((await putPart(url, Buffer.from('soon gone'))).status).toBe(200);
        await store().abortMultipartUpload(key, uploadId);
        await expectUploadRefused(key, uploadId);
        expect((await putPart(url, Buffer.from('after abort'))).status).toBe(404);
        expect(await store().headObject(key)).toBeNull();
      });
    });

    describe('objects', () => {
      it('deletes an object: headObject is null and getObject NOT_FOUND afterwards', async () => {
        const key = newKey();
        await storeObject(key, [Buffer.from('to be deleted')]);
        expect(await store().headObject(key)).not.toBeNull();
        await store().deleteObject(key);
        expect(await store().headObject(key)).toBeNull();
        await expectCode(store().getObject(key), 'NOT_FOUND');
        await store().deleteObject(key);
      });

      it('succeeds deleting a key that never held an object', async () => {
        await expect(store().deleteObject(newKey())).resolves.toBeUndefined();
      });

      it('answers a signed GET URL of a missing key with 404', async () => {
        const url = await store().signGetUrl(newKey(), EXPIRES_IN);
        expect((await request(url)).status).toBe(404);
      });
    });

    describe('listing objects', () => {
      it('lists the objects under a prefix in key order, a page at a time', async () => {
        const listedWorkspace = `${workspaceId}-list`;
        const keys = [0, 1, 2].map(() => assetKey(listedWorkspace, newAssetId())).sort();
        const bodies = keys.map((_, index) => randomBytes(100 + index));
        for (const [index, key] of keys.entries()) await storeObject(key, [bodies[index]!]);
        const prefix = `${listedWorkspace}/digital_assets/`;

        const first = await store().listObjects(prefix, { limit: 2 });
        expect(first.objects.map((object) => object.key)).toEqual(keys.slice(0, 2));
        expect(first.objects[0]).toMatchObject({ size: 100, contentType: CONTENT_TYPE, etag: multipartEtag([bodies[0]!]) });
        expect(first.objects[0]!.lastModified).toBeInstanceOf(Date);
        expect(first.nextCursor).toEqual(expect.any(String));
        const second = await store().listObjects(prefix, { limit: 2, cursor: first.nextCursor });
        expect(second.objects.map((object) => object.key)).toEqual(keys.slice(2));
        expect(second.nextCursor).toBeUndefined();

        await store().deleteObject(keys[1]!);
        const after = await store().listObjects(prefix, { limit: 10 });
        expect(after.objects.map((object) => object.key)).toEqual([keys[0], keys[2]]);
        expect(await store().listObjects(`${workspaceId}-empty/digital_assets/`, { limit: 10 })).toEqual({ objects: [] });
      });
    });

    describe('walking every object', () => {
      it('lists the objects of every prefix in key order, from any key on, any key included', async () => {
        const base = `${workspaceId}-walk`;
        const keys = [
          assetKey(`${base}-a`, newAssetId()),
          assetKey(`${base}-a`, newAssetId()),
          assetKey(`${base}-b`, newAssetId()),
          `${base}-b/exports/report.csv`,
          `${base}-b.json`,
        ].sort();
        const bodies = keys.map((_, index) => randomBytes(10 + index));
        for (const [index, key] of keys.entries()) await storeObject(key, [bodies[index]!]);
        const walk = async (afterKey?: string) => {
          const seen = [];
          for await (const object of store().walkObjects(afterKey === undefined ? undefined : { afterKey })) seen.push(object);
          return seen;
        };

        const all = await walk();
        const allKeys = all.map((object) => object.key);
        expect([...allKeys].sort()).toEqual(allKeys);
        const mine = all.filter((object) => object.key.startsWith(base));
        expect(mine.map((object) => object.key)).toEqual(keys);
        expect(mine[0]).toMatchObject({ key: keys[0], size: 10, etag: multipartEtag([bodies[0]!]) });
        expect(mine[0]!.lastModified).toBeInstanceOf(Date);

        const after = (await walk(keys[1])).filter((object) => object.key.startsWith(base)).map((object) => object.key);
        expect(after).toEqual(keys.slice(2));
        const fromPrefix = (await walk(`${base}-b/`)).filter((object) => object.key.startsWith(base)).map((object) => object.key);
        expect(fromPrefix).toEqual(keys.filter((key) => key > `${base}-b/`));

        await store().deleteObject(keys[0]!);
        expect((await walk()).map((object) => object.key)).not.toContain(keys[0]);
      });
    });

    describe('bucket CORS rules', () => {
      afterAll(async () => {
        if (bucketCorsApi) await store().putCorsRules(DEFAULT_CORS_RULES);
      });

      /** The documented defaults where the store holds rules; elsewhere the server's own CORS stands. */
      async function applyDefaultRules(): Promise<void> {
        if (bucketCorsApi) await store().putCorsRules(DEFAULT_CORS_RULES);
      }

      async function preflight(url: string, origin: string): Promise<Reply> {
        return request(url, {
          method: 'OPTIONS',
          headers: { Origin: origin, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
        });
      }

      async function openPartUrl(): Promise<string> {
        const key = newKey();
        const { uploadId } = await store().createMultipartUpload(key, CONTENT_TYPE);
        return signPart(key, uploadId, 1);
      }

      it.runIf(!bucketCorsApi)('refuses rules with NOT_SUPPORTED when the server has no bucket CORS API', async () => {
        await expectCode(store().putCorsRules(DEFAULT_CORS_RULES), 'NOT_SUPPORTED', 'no bucket CORS API');
        await expectCode(store().putCorsRules([]), 'NOT_SUPPORTED', 'no bucket CORS API');
      });

      it.runIf(bucketCorsApi)('has none after storing an empty list, and round-trips the default rules', async () => {
        await store().putCorsRules([]);
        expect(await store().getCorsRules()).toEqual([]);
        await store().putCorsRules(DEFAULT_CORS_RULES);
        expect(await store().getCorsRules()).toEqual(DEFAULT_CORS_RULES);
      });

      it('answers a browser preflight of a signed part URL with the allowed origin and method', async () => {
        await applyDefaultRules();
        const reply = await preflight(await openPartUrl(), ORIGIN);
        // Any 2xx passes a preflight (Fetch's "ok status"): S3 says 200, MinIO 204.
        expect([200, 204]).toContain(reply.status);
        expect([ORIGIN, '*']).toContain(reply.headers.get('access-control-allow-origin'));
        expect(headerList(reply, 'access-control-allow-methods')).toContain('put');
      });

      it('lets the browser read the ETag of a cross-origin part PUT', async () => {
        await applyDefaultRules();
        const body = Buffer.from('cross-origin part');
        const reply = await putPart(await openPartUrl(), body, { Origin: ORIGIN });
        expect(reply.status).toBe(200);
        expect([ORIGIN, '*']).toContain(reply.headers.get('access-control-allow-origin'));
        expect(headerList(reply, 'access-control-expose-headers')).toContain('etag');
        expect(etagHeader(reply)).toBe(quoted(partEtagHex(body)));
      });

      it.runIf(bucketCorsApi)('refuses a preflight from an origin no rule allows with 403', async () => {
        await store().putCorsRules([
          { AllowedMethods: ['PUT'], AllowedOrigins: [ORIGIN], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 600 },
        ]);
        const url = await openPartUrl();
        expect((await preflight(url, 'https://elsewhere.example.net')).status).toBe(403);
        const allowed = await preflight(url, ORIGIN);
        expect(allowed.status).toBe(200);
        expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      });
    });

    describe('concurrency', () => {
      it('stores parts PUT in parallel to one upload', async () => {
        const key = newKey();
        const parts = Array.from({ length: 4 }, () => randomBytes(256 * 1024));
        const { uploadId } = await store().createMultipartUpload(key, CONTENT_TYPE);
        const urls = await store().signPartUrls(key, uploadId, [1, 2, 3, 4], EXPIRES_IN);
        const replies = await Promise.all(parts.map((part, index) => putPart(urls[index]!, part)));
        expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200]);
        expect(replies.map(etagHeader)).toEqual(parts.map((part) => quoted(partEtagHex(part))));
        expect(await store().listParts(key, uploadId)).toEqual(
          parts.map((part, index) => ({ partNumber: index + 1, etag: quoted(partEtagHex(part)), size: part.length })),
        );
        await store().abortMultipartUpload(key, uploadId);
      });

      it('keeps uploads running in parallel apart', async () => {
        const uploads = Array.from({ length: 3 }, () => ({ key: newKey(), bytes: randomBytes(64 * 1024) }));
        const etags = await Promise.all(uploads.map(({ key, bytes }) => storeObject(key, [bytes])));
        expect(etags).toEqual(uploads.map(({ bytes }) => multipartEtag([bytes])));
        for (const { key, bytes } of uploads) expect((await readObject(key)).equals(bytes)).toBe(true);
      });
    });
  });
}

async function request(url: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(url, init);
  // Reading the body every time also returns the connection to the pool.
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

function putPart(url: string, bytes: Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return request(url, { method: 'PUT', body: new Uint8Array(bytes), headers });
}

function etagHeader(reply: Reply): string {
  const etag = reply.headers.get('etag');
  if (etag === null) throw new Error(`no ETag header (status ${reply.status})`);
  return etag;
}

/** A comma-separated header as lower-case names. */
function headerList(reply: Reply, name: string): string[] {
  return (reply.headers.get(name) ?? '').split(',').map((item) => item.trim().toLowerCase());
}

async function expectCode(promise: Promise<unknown>, appCode: ErrorCode, reason?: string): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected ${appCode}`).toMatchObject({ appCode });
  if (reason !== undefined) expect((error as Error).message).toContain(reason);
}

function md5Hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

function quoted(value: string): string {
  return `"${value}"`;
}

/** Changes the first hex digit of whatever query parameter holds the signature. */
function withFlippedSignature(url: string): string {
  const tampered = url.replace(
    /([?&][\w-]*signature=)([0-9a-f])/i,
    (_, name: string, digit: string) => `${name}${digit.toLowerCase() === '0' ? '1' : '0'}`,
  );
  if (tampered === url) throw new Error(`no signature parameter in ${url}`);
  return tampered;
}

/** Points a signed URL at another asset of the same workspace, leaving the query as it was. */
function withOtherAsset(url: string, key: string): string {
  const assetId = key.split('/').pop()!;
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  if (!path.includes(assetId)) throw new Error(`the key ${key} is not in ${url}`);
  return path.replace(assetId, newAssetId()) + (queryStart === -1 ? '' : url.slice(queryStart));
}
