import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPreflightRule, findRequestRule, wildcardMatch } from '../src/http/transfer/cors-rule-match.js';
import type { CorsRule } from '../src/schemas.js';
import { assetKey, newAssetId } from '../src/storage/keys.js';
import type { ObjectStore } from '../src/storage/store.js';
import { describeObjectStore } from './store-conformance.js';
import { type LocalHarness, startLocalHarness } from './support/local-harness.js';
import { localPartEtagHex } from './support/local-part-etag.js';

describeObjectStore('local disk', ({ now }) => startLocalHarness({ now }), { partEtagHex: localPartEtagHex });

const MIB = 1024 * 1024;
const workspaceId = 'local-tests';
const newKey = () => assetKey(workspaceId, newAssetId());

function md5Hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

async function put(url: string, bytes: Buffer, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'PUT', body: new Uint8Array(bytes), headers });
  return { status: response.status, headers: response.headers, json: await jsonOrText(response) };
}

async function jsonOrText(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function signPart(store: ObjectStore, key: string, uploadId: string, partNumber = 1): Promise<string> {
  const [url] = await store.signPartUrls(key, uploadId, [partNumber], 3600);
  return url!;
}

/** Polls until `check` holds; file-system effects of a cut connection land a moment later. */
async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('local disk store', () => {
  describe('signing secret', () => {
    it('is generated once, kept in .signing-secret (0600), and a store reopened on the folder accepts URLs of the first', async () => {
      const first = await startLocalHarness();
      const second = await startLocalHarness({ dir: first.dir });
      try {
        const secretFile = join(first.dir, '.signing-secret');
        expect((await stat(secretFile)).mode & 0o777).toBe(0o600);
        const secret = await readFile(secretFile, 'utf8');
        expect(secret).toMatch(/^[0-9a-f]{64}\n$/);

        const key = newKey();
        const { uploadId } = await first.store.createMultipartUpload(key, 'text/plain');
        const url = await signPart(first.store, key, uploadId);
        const reply = await put(url.replace(first.baseUrl, second.baseUrl), Buffer.from('accepted by the second store'));
        expect(reply.status).toBe(200);
        expect(await readFile(secretFile, 'utf8')).toBe(secret);
      } finally {
        await second.close();
        await first.close();
      }
    });

    it('uses a configured secret, writes no file, and refuses URLs signed with another secret', async () => {
      const configured = await startLocalHarness({ signingSecret: 'a'.repeat(40) });
      const other = await startLocalHarness({ dir: configured.dir, signingSecret: 'b'.repeat(40) });
      try {
        await expect(stat(join(configured.dir, '.signing-secret'))).rejects.toMatchObject({ code: 'ENOENT' });
        const key = newKey();
        const { uploadId } = await configured.store.createMultipartUpload(key, 'text/plain');
        const url = await signPart(configured.store, key, uploadId);
        const reply = await put(url.replace(configured.baseUrl, other.baseUrl), Buffer.from('refused'));
        expect(reply.status).toBe(403);
        expect(reply.json).toMatchObject({ code: 'INVALID_SIGNATURE' });
      } finally {
        await other.close();
        await configured.close();
      }
    });
  });

  describe('over HTTP', () => {
    let clockOffsetMs = 0;
    let harness: LocalHarness;
    let store: ObjectStore;

    beforeAll(async () => {
      harness = await startLocalHarness({ now: () => Date.now() + clockOffsetMs });
      store = harness.store;
    });
    afterAll(async () => {
      await harness.close();
    });

    async function storeObject(key: string, bytes: Buffer, contentType = 'text/plain'): Promise<void> {
      const { uploadId } = await store.createMultipartUpload(key, contentType);
      const reply = await put(await signPart(store, key, uploadId), bytes);
      await store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: reply.headers.get('etag')! }]);
    }

    it('signs part URLs under /storage/objects/<key> with uploadId, partNumber, expires and signature', async () => {
      const key = newKey();
      const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
      const before = Math.floor(Date.now() / 1000);
      const url = new URL(await signPart(store, key, uploadId, 7));
      const after = Math.floor(Date.now() / 1000);
      expect(url.origin).toBe(harness.baseUrl);
      expect(url.pathname).toBe(`/storage/objects/${key}`);
      expect(url.searchParams.get('uploadId')).toBe(uploadId);
      expect(url.searchParams.get('partNumber')).toBe('7');
      const expires = Number(url.searchParams.get('expires'));
      expect(expires).toBeGreaterThanOrEqual(before + 3600);
      expect(expires).toBeLessThanOrEqual(after + 3600);
      expect(url.searchParams.get('signature')).toMatch(/^[0-9a-f]{64}$/);
    });

    it('answers tampered and expired URLs with 403 INVALID_SIGNATURE', async () => {
      const key = newKey();
      const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
      const url = await signPart(store, key, uploadId);
      const otherUpload = (await store.createMultipartUpload(key, 'text/plain')).uploadId;
      const tampered = await put(url.replace(uploadId, otherUpload), Buffer.from('x'));
      expect(tampered.status).toBe(403);
      expect(tampered.json).toEqual({ error: 'the signature does not match the URL', code: 'INVALID_SIGNATURE' });

      clockOffsetMs = 3601 * 1000;
      try {
        const expired = await put(url, Buffer.from('x'));
        expect(expired.status).toBe(403);
        expect(expired.json).toEqual({ error: 'the signed URL has expired', code: 'INVALID_SIGNATURE' });
      } finally {
        clockOffsetMs = 0;
      }
      const stripped = await put(url.replace(/&signature=[0-9a-f]+/, ''), Buffer.from('x'));
      expect(stripped.status).toBe(403);
      expect(stripped.json).toMatchObject({ code: 'INVALID_SIGNATURE' });
    });

    it('answers a part PUT to a completed upload with 404 INVALID_UPLOAD_ID', async () => {
      const key = newKey();
      const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
      const url = await signPart(store, key, uploadId);
      const first = await put(url, Buffer.from('only part'));
      await store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: first.headers.get('etag')! }]);
      const late = await put(url, Buffer.from('late'));
      expect(late.status).toBe(404);
      expect(late.json).toMatchObject({ code: 'INVALID_UPLOAD_ID' });
    });

    it('refuses a part declared larger than 5 GiB with 413 PAYLOAD_TOO_LARGE before reading it', async () => {
      const key = newKey();
      const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
      const url = await signPart(store, key, uploadId);
      const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(url, { method: 'PUT', headers: { 'Content-Length': String(5 * 1024 ** 3 + 1) } });
        req.on('response', async (response) => {
          resolve({ status: response.statusCode ?? 0, body: (await buffer(response)).toString() });
          req.destroy();
        });
        req.on('error', reject);
        req.write(Buffer.alloc(1024));
      });
      expect(reply.status).toBe(413);
      expect(JSON.parse(reply.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      expect(await store.listParts(key, uploadId)).toEqual([]);
    });

    it('leaves no temp file behind when the client goes away mid-part', async () => {
      const key = newKey();
      const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
      const url = await signPart(store, key, uploadId);
      const tmp = join(harness.dir, 'tmp');
      const req = httpRequest(url, { method: 'PUT', headers: { 'Content-Length': String(4 * MIB) } });
      req.on('error', () => undefined);
      req.write(randomBytes(256 * 1024));
      await waitFor(async () => (await readdir(tmp)).length > 0, 'the part to start arriving');
      req.destroy();
      await waitFor(async () => (await readdir(tmp)).length === 0, 'the temp file to be removed');
      expect(await store.listParts(key, uploadId)).toEqual([]);
    });

    it('serves a signed GET URL as a download with exact headers, ranges and 416', async () => {
      const key = newKey();
      const bytes = Buffer.from('<html><script>alert(1)</script></html>');
      await storeObject(key, bytes, 'text/html');
      const url = await store.signGetUrl(key, 3600);

      const whole = await fetch(url);
      expect(whole.status).toBe(200);
      expect(whole.headers.get('content-type')).toBe('text/html');
      expect(whole.headers.get('content-length')).toBe(String(bytes.length));
      expect(whole.headers.get('content-disposition')).toBe(`attachment; filename=${key.split('/').pop()}`);
      expect(whole.headers.get('x-content-type-options')).toBe('nosniff');
      expect(whole.headers.get('accept-ranges')).toBe('bytes');
      expect(whole.headers.get('etag')).toMatch(/^"[0-9a-f]{32}-1"$/);
      expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);

      const suffix = await fetch(url, { headers: { Range: 'bytes=-7' } });
      expect(suffix.status).toBe(206);
      expect(suffix.headers.get('content-range')).toBe(`bytes ${bytes.length - 7}-${bytes.length - 1}/${bytes.length}`);
      expect(await suffix.text()).toBe('</html>');

      const outside = await fetch(url, { headers: { Range: `bytes=${bytes.length}-` } });
      expect(outside.status).toBe(416);
      expect(outside.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
      expect(await outside.json()).toMatchObject({ code: 'RANGE_NOT_SATISFIABLE' });

      const head = await fetch(url, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(bytes.length));
    });

    it('answers CORS from the stored rules: wildcards, refused headers, Max-Age and Vary', async () => {
      await store.putCorsRules([
        {
          AllowedMethods: ['PUT', 'GET'],
          AllowedOrigins: ['https://*.example.com'],
          AllowedHeaders: ['content-*'],
          ExposeHeaders: ['ETag'],
          MaxAgeSeconds: 300,
        },
      ]);
      try {
        const key = newKey();
        const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
        const url = await signPart(store, key, uploadId);
        const preflight = (origin: string, headers: string) =>
          fetch(url, {
            method: 'OPTIONS',
            headers: { Origin: origin, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': headers },
          });

        const allowed = await preflight('https://app.example.com', 'Content-Type');
        expect(allowed.status).toBe(200);
        expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
        expect(allowed.headers.get('access-control-allow-methods')).toBe('PUT, GET');
        expect(allowed.headers.get('access-control-allow-headers')).toBe('content-type');
        expect(allowed.headers.get('access-control-max-age')).toBe('300');
        expect(allowed.headers.get('vary')).toMatch(/Origin/);

        expect((await preflight('https://example.org', 'content-type')).status).toBe(403);
        const badHeader = await preflight('https://app.example.com', 'authorization');
        expect(badHeader.status).toBe(403);
        expect(await badHeader.json()).toMatchObject({ code: 'FORBIDDEN' });
        const noOrigin = await fetch(url, { method: 'OPTIONS' });
        expect(noOrigin.status).toBe(400);

        const actual = await put(url, Buffer.from('x'), { Origin: 'https://app.example.com' });
        expect(actual.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
        expect(actual.headers.get('access-control-expose-headers')).toBe('ETag');
        expect(actual.headers.get('vary')).toMatch(/Origin/);
        const foreign = await put(url, Buffer.from('x'), { Origin: 'https://example.org' });
        expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
      } finally {
        await store.putCorsRules([]);
      }
      expect(await store.getCorsRules()).toEqual([]);
    });
  });

  describe('on disk', () => {
    let harness: LocalHarness;
    let store: ObjectStore;

    beforeAll(async () => {
      harness = await startLocalHarness();
      store = harness.store;
    });
    afterAll(async () => {
      await harness.close();
    });

    it('has no CORS rules in a new folder', async () => {
      expect(await store.getCorsRules()).toEqual([]);
    });

    it.each(['../x', '..%2Fx', '%2e%2e%2fx', '../../../etc/passwd', 'A'.repeat(32), 'a'.repeat(31), `${'a'.repeat(32)}/..`, ''])(
      'refuses the upload id %j with INVALID_UPLOAD_ID without touching the disk',
      async (uploadId) => {
        const key = newKey();
        const calls = [
          () => store.assertUploadOpen(key, uploadId),
          () => store.listParts(key, uploadId),
          () => store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: 'x' }]),
          () => store.abortMultipartUpload(key, uploadId),
          () => store.signPartUrls(key, uploadId, [1], 3600),
        ];
        for (const call of calls) await expect(call()).rejects.toMatchObject({ appCode: 'INVALID_UPLOAD_ID' });
      },
    );

    it.each(['a/../../escape', 'a//b', './a', 'a\\..\\b'])('refuses the key %j rather than build a path from it', async (key) => {
      await expect(store.createMultipartUpload(key, 'text/plain')).rejects.toMatchObject({ appCode: 'INVALID_PARAMETER' });
      await expect(store.headObject(key)).rejects.toMatchObject({ appCode: 'INVALID_PARAMETER' });
    });

    it('never shows a partial object while a complete is assembling it', async () => {
      const key = newKey();
      const parts = [randomBytes(5 * MIB), randomBytes(3 * MIB)];
      const size = parts[0]!.length + parts[1]!.length;
      const { uploadId } = await store.createMultipartUpload(key, 'application/octet-stream');
      const urls = await store.signPartUrls(key, uploadId, [1, 2], 3600);
      const etags: string[] = [];
      for (const [index, part] of parts.entries()) etags.push((await put(urls[index]!, part)).headers.get('etag')!);

      let settled = false;
      const completing = store
        .completeMultipartUpload(
          key,
          uploadId,
          etags.map((etag, index) => ({ partNumber: index + 1, etag })),
        )
        .finally(() => (settled = true));
      const seen: (number | null)[] = [];
      while (!settled) {
        const info = await store.headObject(key);
        seen.push(info?.size ?? null);
        if (info) {
          const object = await store.getObject(key);
          expect((await buffer(object.body)).length).toBe(size);
        }
      }
      const { etag } = await completing;
      expect(seen.every((observed) => observed === null || observed === size)).toBe(true);
      expect((await store.headObject(key))?.etag).toBe(etag);
      expect(md5Hex(await buffer((await store.getObject(key)).body))).toBe(md5Hex(Buffer.concat(parts)));
    });

    it('lets exactly one of two racing completes win; the other finds the upload gone', async () => {
      const key = newKey();
      const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
      const reply = await put(await signPart(store, key, uploadId), Buffer.from('raced'));
      const parts = [{ partNumber: 1, etag: reply.headers.get('etag')! }];
      const results = await Promise.allSettled([
        store.completeMultipartUpload(key, uploadId, parts),
        store.completeMultipartUpload(key, uploadId, parts),
      ]);
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      const loser = results.find((result) => result.status === 'rejected');
      expect(loser?.reason).toMatchObject({ appCode: 'INVALID_UPLOAD_ID' });
    });

    it('cleans up: no upload folder after complete or abort, no temp files, no replaced data', async () => {
      const key = newKey();
      const finished: string[] = [];
      for (const content of ['first version', 'second version']) {
        const { uploadId } = await store.createMultipartUpload(key, 'text/plain');
        const reply = await put(await signPart(store, key, uploadId), Buffer.from(content));
        await store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: reply.headers.get('etag')! }]);
        finished.push(uploadId);
      }
      const abortedKey = newKey();
      const aborted = await store.createMultipartUpload(abortedKey, 'text/plain');
      await put(await signPart(store, abortedKey, aborted.uploadId), Buffer.from('aborted part'));
      await store.abortMultipartUpload(abortedKey, aborted.uploadId);
      finished.push(aborted.uploadId);

      const uploadFolders = await readdir(join(harness.dir, 'uploads'));
      expect(uploadFolders.filter((name) => finished.includes(name))).toEqual([]);
      expect((await buffer((await store.getObject(key)).body)).toString()).toBe('second version');
      await store.deleteObject(key);
      expect(await readdir(join(harness.dir, 'tmp'))).toEqual([]);
      // Every data file left is named by some object's metadata: replaced and deleted ones are gone.
      const blobs = await readdir(join(harness.dir, 'blobs'));
      const named = await namedBlobs(join(harness.dir, 'meta'));
      expect(blobs.sort()).toEqual(named.sort());
    });

    it('honours minPartSize', async () => {
      const small = await startLocalHarness({ minPartSize: 4 });
      try {
        const key = newKey();
        const { uploadId } = await small.store.createMultipartUpload(key, 'text/plain');
        const urls = await small.store.signPartUrls(key, uploadId, [1, 2], 3600);
        const first = await put(urls[0]!, Buffer.from('abc'));
        const second = await put(urls[1]!, Buffer.from('defg'));
        const parts = [
          { partNumber: 1, etag: first.headers.get('etag')! },
          { partNumber: 2, etag: second.headers.get('etag')! },
        ];
        await expect(small.store.completeMultipartUpload(key, uploadId, parts)).rejects.toMatchObject({
          appCode: 'UPLOAD_FAILED',
          message: expect.stringContaining('EntityTooSmall'),
        });
        const again = await put(urls[0]!, Buffer.from('abcd'));
        parts[0]!.etag = again.headers.get('etag')!;
        await small.store.completeMultipartUpload(key, uploadId, parts);
        expect((await buffer((await small.store.getObject(key)).body)).toString()).toBe('abcddefg');
      } finally {
        await small.close();
      }
    });
  });

  describe('CORS rule matching', () => {
    it.each([
      ['*', 'https://anything.test', true],
      ['https://*.example.com', 'https://app.example.com', true],
      ['https://*.example.com', 'https://example.com', false],
      ['https://*.example.com', 'http://app.example.com', false],
      ['https://app.example.com', 'https://app.example.com', true],
      ['https://app.example.com', 'https://app.example.com.evil.test', false],
      ['a*b*c', 'abc', true],
      ['a*b*c', 'acb', false],
      ['ab*ba', 'aba', false],
    ])('wildcard %j against %j is %s', (pattern, value, expected) => {
      expect(wildcardMatch(pattern, value)).toBe(expected);
    });

    const rules: CorsRule[] = [
      { AllowedMethods: ['GET'], AllowedOrigins: ['*'] },
      { AllowedMethods: ['PUT'], AllowedOrigins: ['https://app.example.com'], AllowedHeaders: ['Content-Type', 'x-amz-*'] },
    ];

    it('takes the first rule allowing origin, method and every requested header', () => {
      expect(findPreflightRule(rules, 'https://other.test', 'GET', [])).toBe(rules[0]);
      expect(findPreflightRule(rules, 'https://app.example.com', 'PUT', ['content-type', 'x-amz-meta-a'])).toBe(rules[1]);
      expect(findPreflightRule(rules, 'https://app.example.com', 'PUT', ['authorization'])).toBeUndefined();
      expect(findPreflightRule(rules, 'https://other.test', 'GET', ['content-type'])).toBeUndefined();
      expect(findPreflightRule(rules, 'https://other.test', 'PUT', [])).toBeUndefined();
      expect(findRequestRule(rules, 'https://app.example.com', 'PUT')).toBe(rules[1]);
    });
  });
});

/** The blob ids named by every metadata file under `folder`. */
async function namedBlobs(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile() && entry.name.endsWith('.json'));
  return Promise.all(
    files.map(async (entry) => (JSON.parse(await readFile(join(entry.parentPath, entry.name), 'utf8')) as { blob: string }).blob),
  );
}
