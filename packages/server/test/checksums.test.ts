import { createHash, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '../src/index.js';
import { createS3Store } from '../src/storage/s3/index.js';
import { MiB, randomData, sha256 } from './support/bytes.js';
import { type S3ServerChoice, s3ServersUnderTest } from './support/s3-emulator.js';
import { useS3Emulator } from './support/s3-emulator-fixture.js';
import { s3StoreOptions } from './support/s3-harness.js';
import { startLocalServer, startServer, type TestServer } from './support/server.js';

type Trpc = ReturnType<typeof createTRPCClient<AppRouter>>;
interface UploadRef {
  workspaceId: string;
  assetId: string;
  uploadId: string;
}

const trpcOf = (server: TestServer): Trpc =>
  createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${server.url}/trpc`, transformer: superjson })] });

const checksumOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');

/** S3's COMPOSITE SHA-256, computed here from the bytes, independently of the server's code. */
function compositeOf(parts: readonly Buffer[]): string {
  const digests = parts.map((part) => createHash('sha256').update(part).digest());
  return `${createHash('sha256').update(Buffer.concat(digests)).digest('base64')}-${parts.length}`;
}

async function codeOf(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
    return undefined;
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    return error.data?.code;
  }
}

interface PutAnswer {
  status: number;
  etag: string | null;
  /** The service's JSON code, or the S3 error name from its XML. */
  code: string | undefined;
}

async function put(url: string, body: Buffer, headers: Record<string, string> = {}): Promise<PutAnswer> {
  const response = await fetch(url, { method: 'PUT', body: new Uint8Array(body), headers });
  const text = await response.text();
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? (text.startsWith('{') ? (JSON.parse(text) as { code?: string }).code : undefined);
  return { status: response.status, etag: response.headers.get('etag'), code };
}

/**
 * A PUT that announces the whole body, sends `sent` bytes of it and closes the connection: what a
 * browser does when an upload is paused or the tab is closed mid-part.
 */
function cutPut(url: string, body: Buffer, sent: number, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const req = httpRequest(target, { method: 'PUT', headers: { ...headers, 'content-length': String(body.length) } });
    req.on('error', () => resolve());
    req.on('response', (response) => {
      response.resume();
      response.on('end', resolve);
    });
    req.write(body.subarray(0, sent), () => {
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
  });
}

async function startChecksummed(trpc: Trpc, workspaceId: string): Promise<UploadRef> {
  const started = await trpc.upload.start.mutate({ workspaceId, fileType: 'application/octet-stream', checksumAlgorithm: 'SHA256' });
  return { workspaceId, assetId: started.assetId, uploadId: started.uploadId };
}

async function signFor(trpc: Trpc, ref: UploadRef, partNumber: number, body: Buffer) {
  const { parts } = await trpc.upload.signParts.mutate({
    ...ref,
    partNumbers: [partNumber],
    partSizes: [body.length],
    checksums: [checksumOf(body)],
  });
  return { url: parts[0]!.url, headers: parts[0]!.headers ?? {} };
}

/** What each store answers to a body whose bytes are not the signed ones. */
const REFUSED_BODY_CODES = ['CHECKSUM_MISMATCH', 'BadDigest', 'XAmzContentChecksumMismatch'];

function checksumSuite(name: string, start: () => Promise<TestServer>) {
  describe(`checksummed parts on ${name}`, () => {
    let server: TestServer;
    let trpc: Trpc;
    beforeAll(async () => {
      server = await start();
      trpc = trpcOf(server);
    }, 60_000);
    afterAll(async () => server?.close());

    const newWorkspace = () => `ws-sum-${randomUUID().slice(0, 8)}`;

    it('stores verified parts and reports the object checksum on complete, head and download', async () => {
      const ref = await startChecksummed(trpc, newWorkspace());
      const parts = [randomData(5 * MiB), randomData(123_457)];
      const etags: string[] = [];
      for (const [index, body] of parts.entries()) {
        const { url, headers } = await signFor(trpc, ref, index + 1, body);
        const answer = await put(url, body, headers);
        expect(answer.status).toBe(200);
        etags.push(answer.etag!);
      }
      const listed = await trpc.upload.listParts.query(ref);
      expect(listed.parts.map((part) => part.checksum)).toEqual(parts.map(checksumOf));

      const completed = await trpc.upload.complete.mutate({ ...ref, parts: etags.map((etag, index) => ({ partNumber: index + 1, etag })) });
      const expected = { algorithm: 'SHA256', type: 'COMPOSITE', value: compositeOf(parts) };
      expect(completed.checksum).toEqual(expected);
      expect((await trpc.object.head.query({ workspaceId: ref.workspaceId, key: completed.key })).checksum).toEqual(expected);

      const download = await fetch(
        `${server.url}/s3/download?${new URLSearchParams({ workspaceId: ref.workspaceId, key: completed.key })}`,
      );
      expect(download.status).toBe(200);
      expect(download.headers.get('x-amz-checksum-sha256')).toBe(expected.value);
      expect(download.headers.get('x-amz-checksum-type')).toBe('COMPOSITE');
      expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(Buffer.concat(parts)));
      // A range has no checksum of its own.
      const ranged = await fetch(`${server.url}/s3/download?${new URLSearchParams({ workspaceId: ref.workspaceId, key: completed.key })}`, {
        headers: { range: 'bytes=0-99' },
      });
      expect(ranged.status).toBe(206);
      expect(ranged.headers.get('x-amz-checksum-sha256')).toBeNull();
      await ranged.arrayBuffer();
    });

    it('refuses a body altered by one byte, and keeps no part of it', async () => {
      const ref = await startChecksummed(trpc, newWorkspace());
      const body = randomData(200_000);
      const { url, headers } = await signFor(trpc, ref, 1, body);
      const altered = Buffer.from(body);
      altered[100_000]! ^= 0x01;
      const refused = await put(url, altered, headers);
      expect(refused.status).toBe(400);
      expect(REFUSED_BODY_CODES).toContain(refused.code);
      expect((await trpc.upload.listParts.query(ref)).parts).toEqual([]);
      // The right bytes on the same URL are taken.
      expect((await put(url, body, headers)).status).toBe(200);
    });

    it('keeps no part of a body cut mid-way, so the upload cannot complete with wrong bytes', async () => {
      const ref = await startChecksummed(trpc, newWorkspace());
      const whole = randomData(3 * MiB);
      const { url, headers } = await signFor(trpc, ref, 1, whole);
      await cutPut(url, whole, MiB, headers);
      // Give a store that keeps cut bodies the time to record one.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const listed = (await trpc.upload.listParts.query(ref)).parts;
      expect(listed).toEqual([]);
      const answer = await put(url, whole, headers);
      expect(answer.status).toBe(200);
      const completed = await trpc.upload.complete.mutate({ ...ref, parts: [{ partNumber: 1, etag: answer.etag! }] });
      expect(completed.checksum?.value).toBe(compositeOf([whole]));
      const download = await fetch(
        `${server.url}/s3/download?${new URLSearchParams({ workspaceId: ref.workspaceId, key: completed.key })}`,
      );
      expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(whole));
    });

    it('refuses a PUT that leaves out the checksum the URL was signed for', async () => {
      const ref = await startChecksummed(trpc, newWorkspace());
      const body = randomData(10_000);
      const { url, headers } = await signFor(trpc, ref, 1, body);
      if (Object.keys(headers).length === 0) {
        // The local store signs the checksum into the URL: taking it out breaks the signature.
        const stripped = new URL(url);
        stripped.searchParams.delete('checksumSha256');
        const answer = await put(stripped.toString(), body);
        expect({ status: answer.status, code: answer.code }).toEqual({ status: 403, code: 'INVALID_SIGNATURE' });
      } else {
        // S3 servers differ: a signature that names a header the request lacks (403), or a part
        // of a checksummed upload without its checksum (MinIO: 400). Either way it is refused.
        const answer = await put(url, body);
        expect([400, 403]).toContain(answer.status);
      }
      expect((await trpc.upload.listParts.query(ref)).parts).toEqual([]);
    });

    it('requires checksums for a checksummed upload and refuses them for a plain one', async () => {
      const ref = await startChecksummed(trpc, newWorkspace());
      expect(await codeOf(trpc.upload.signParts.mutate({ ...ref, partNumbers: [1] }))).toBe('MISSING_PARAMETER');
      const workspaceId = newWorkspace();
      const plain = await trpc.upload.start.mutate({ workspaceId, fileType: 'application/pdf' });
      const plainRef = { workspaceId, assetId: plain.assetId, uploadId: plain.uploadId };
      const checksums = [checksumOf(Buffer.from('x'))];
      expect(await codeOf(trpc.upload.signParts.mutate({ ...plainRef, partNumbers: [1], checksums }))).toBe('INVALID_PARAMETER');
      expect(await codeOf(trpc.upload.signParts.mutate({ ...ref, partNumbers: [1, 2], checksums }))).toBe('INVALID_PARAMETER');
      expect(await codeOf(trpc.upload.signParts.mutate({ ...ref, partNumbers: [1], checksums: ['not base64'] }))).toBe('INVALID_PARAMETER');
    });

    it('keeps the documented REST shapes for callers that send no checksum, and signs one for those that do', async () => {
      const workspaceId = newWorkspace();
      const body = randomData(4096);
      const plain = (await (await fetch(`${server.url}/s3/start-upload?workspaceId=${workspaceId}&fileType=application/pdf`)).json()) as {
        uploadId: string;
        assetId: string;
      };
      const plainUrl = await fetch(
        `${server.url}/s3/get-upload-url?${new URLSearchParams({ workspaceId, assetId: plain.assetId, UploadId: plain.uploadId, PartNumber: '1' })}`,
      );
      expect(Object.keys((await plainUrl.json()) as object).sort()).toEqual(['expiresIn', 'url']);

      const started = (await (
        await fetch(`${server.url}/s3/start-upload?workspaceId=${workspaceId}&fileType=application/pdf&checksumAlgorithm=SHA256`)
      ).json()) as { uploadId: string; assetId: string };
      const query = { workspaceId, assetId: started.assetId, UploadId: started.uploadId, PartNumber: '1' };
      const missing = await fetch(`${server.url}/s3/get-upload-url?${new URLSearchParams(query)}`);
      expect({ status: missing.status, code: ((await missing.json()) as { code: string }).code }).toEqual({
        status: 400,
        code: 'MISSING_PARAMETER',
      });
      const signed = (await (
        await fetch(`${server.url}/s3/get-upload-url?${new URLSearchParams({ ...query, checksumSha256: checksumOf(body) })}`)
      ).json()) as { url: string; headers?: Record<string, string> };
      expect((await put(signed.url, body, signed.headers)).status).toBe(200);
      const other = randomData(4096);
      const refused = await put(signed.url, other, signed.headers);
      expect(refused.status).toBe(400);
      expect(REFUSED_BODY_CODES).toContain(refused.code);
    });
  });
}

checksumSuite('the local store', () => startLocalServer());

describe.each(s3ServersUnderTest())('on S3 (%s)', (choice: S3ServerChoice) => {
  const s3 = useS3Emulator({ server: choice });
  checksumSuite(`S3 (${choice})`, () =>
    startServer(async () => {
      const store = createS3Store(s3StoreOptions(s3.emulator));
      return { store };
    }),
  );
});
