import { randomBytes } from 'node:crypto';
import { createS3Store, type S3StoreOptions } from '../../src/storage/s3/index.js';
import type { ObjectStore } from '../../src/storage/store.js';
import type { StoreHarness, StoreHarnessOptions } from '../store-conformance.js';
import type { S3Emulator } from './s3-emulator.js';

/** Driver options that reach the test server. */
export function s3StoreOptions(emulator: S3Emulator, extra: Partial<S3StoreOptions> = {}): S3StoreOptions {
  return {
    bucket: emulator.bucket,
    region: emulator.region,
    endpoint: emulator.endpoint,
    forcePathStyle: emulator.forcePathStyle,
    credentials: { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey },
    ...extra,
  };
}

/**
 * The conformance suite's harness factory: a fresh store on the shared server per test, its
 * clock under the test's control. All stores share one bucket; keys come from the suite.
 */
export function s3Harness(emulator: S3Emulator) {
  return async (options: StoreHarnessOptions): Promise<StoreHarness> => {
    const store = createS3Store(s3StoreOptions(emulator, { now: options.now }));
    return { store, close: async () => store.close?.() };
  };
}

/** A key in the documented layout, unique per call so tests on one bucket never collide. */
export function uniqueAssetKey(workspaceId = 'ws-s3test'): string {
  return `${workspaceId}/digital_assets/${randomBytes(12).toString('base64url').replace(/^[-_]/, 'a')}`;
}

/** A browser-style PUT of bytes to a presigned URL: plain fetch, no SDK, no extra headers. */
export async function putToSignedUrl(url: string, body: Buffer): Promise<{ status: number; etag: string | null; text: string }> {
  const response = await fetch(url, { method: 'PUT', body: new Uint8Array(body) });
  return { status: response.status, etag: response.headers.get('etag'), text: await response.text() };
}

/** The whole upload flow of the spec against a store: start, PUT each part to its URL, complete. */
export async function uploadThroughSignedUrls(
  store: ObjectStore,
  key: string,
  parts: readonly Buffer[],
  contentType = 'application/octet-stream',
): Promise<{ etag: string; partEtags: string[] }> {
  const { uploadId } = await store.createMultipartUpload(key, contentType);
  await store.assertUploadOpen(key, uploadId);
  const urls = await store.signPartUrls(
    key,
    uploadId,
    parts.map((_, index) => index + 1),
    3600,
  );
  const partEtags: string[] = [];
  for (const [index, part] of parts.entries()) {
    const put = await putToSignedUrl(urls[index]!, part);
    if (put.status !== 200 || !put.etag) throw new Error(`part ${index + 1}: PUT answered ${put.status} ${put.text}`);
    partEtags.push(put.etag);
  }
  const completed = await store.completeMultipartUpload(
    key,
    uploadId,
    partEtags.map((etag, index) => ({ partNumber: index + 1, etag })),
  );
  return { etag: completed.etag, partEtags };
}

export async function readAll(body: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}
