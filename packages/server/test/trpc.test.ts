import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '../src/index.js';
import { MiB, putPart, randomData, sha256, splitParts } from './support/bytes.js';
import { startLocalServer, type TestServer } from './support/server.js';

describe('tRPC /trpc on the local-disk store', () => {
  let server: TestServer;
  let trpc: ReturnType<typeof createTRPCClient<AppRouter>>;
  const workspaceId = 'trpc-ws';

  beforeAll(async () => {
    server = await startLocalServer();
    trpc = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${server.url}/trpc`, transformer: superjson })] });
  });
  afterAll(async () => {
    await server?.close();
  });

  const codeOf = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(TRPCClientError);
    const data = (error as TRPCClientError<AppRouter>).data;
    return { code: data?.code, httpStatus: data?.httpStatus };
  };

  it('runs the whole flow: start, signParts, PUT, listParts, complete, head, downloadUrl, delete', async () => {
    const data = randomData(11 * MiB + 7);
    const chunks = splitParts(data, 5 * MiB);
    const started = await trpc.upload.start.mutate({ workspaceId, fileType: 'application/pdf' });
    expect(started.key).toBe(`${workspaceId}/digital_assets/${started.assetId}`);

    const ref = { workspaceId, assetId: started.assetId, uploadId: started.uploadId };
    const signed = await trpc.upload.signParts.mutate({ ...ref, partNumbers: chunks.map((_, index) => index + 1) });
    expect(signed.expiresIn).toBe(3600);
    expect(signed.parts.map((part) => part.partNumber)).toEqual([1, 2, 3]);

    const etags = await Promise.all(signed.parts.map((part, index) => putPart(part.url, chunks[index]!)));
    expect(etags.every((put) => put.status === 200)).toBe(true);

    const listed = await trpc.upload.listParts.query(ref);
    expect(listed.parts).toEqual(chunks.map((chunk, index) => ({ partNumber: index + 1, etag: etags[index]!.etag, size: chunk.length })));

    const completed = await trpc.upload.complete.mutate({
      ...ref,
      parts: etags.map((put, index) => ({ partNumber: index + 1, etag: put.etag! })),
    });
    expect(completed).toMatchObject({ success: true, key: started.key, location: expect.stringMatching(/^s3:\/\//) });

    const info = await trpc.object.head.query({ workspaceId, key: started.key });
    expect(info.size).toBe(data.length);
    expect(info.contentType).toBe('application/pdf');
    expect(info.lastModified).toBeInstanceOf(Date);

    const { url } = await trpc.object.downloadUrl.query({ workspaceId, key: started.key });
    const downloaded = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(sha256(downloaded)).toBe(sha256(data));

    const page = await trpc.object.list.query({ workspaceId });
    expect(page.objects.map((object) => object.key)).toContain(started.key);
    expect(page.objects.find((object) => object.key === started.key)).toMatchObject({ size: data.length, contentType: 'application/pdf' });

    await expect(trpc.object.delete.mutate({ workspaceId, key: started.key })).resolves.toEqual({ success: true });
    expect((await trpc.object.list.query({ workspaceId })).objects.map((object) => object.key)).not.toContain(started.key);
    expect(await codeOf(trpc.object.head.query({ workspaceId, key: started.key }))).toEqual({ code: 'NOT_FOUND', httpStatus: 404 });
  });

  it('reports the service codes in error.data.code with the HTTP status', async () => {
    const started = await trpc.upload.start.mutate({ workspaceId, fileType: 'image/png' });
    const bogus = { workspaceId, assetId: started.assetId, uploadId: 'nope' };
    expect(await codeOf(trpc.upload.signPart.query({ ...bogus, partNumber: 1 }))).toEqual({ code: 'INVALID_UPLOAD_ID', httpStatus: 404 });
    expect(await codeOf(trpc.upload.signPart.query({ ...bogus, uploadId: started.uploadId, partNumber: 0 }))).toEqual({
      code: 'INVALID_PARAMETER',
      httpStatus: 400,
    });
    // @ts-expect-error a missing field is a compile error, and a runtime MISSING_PARAMETER
    expect(await codeOf(trpc.upload.start.mutate({ workspaceId }))).toEqual({ code: 'MISSING_PARAMETER', httpStatus: 400 });
  });

  it('abort ends the upload: its parts cannot be listed or signed any more', async () => {
    const started = await trpc.upload.start.mutate({ workspaceId, fileType: 'image/png' });
    const ref = { workspaceId, assetId: started.assetId, uploadId: started.uploadId };
    await expect(trpc.upload.abort.mutate(ref)).resolves.toEqual({ success: true });
    expect(await codeOf(trpc.upload.listParts.query(ref))).toEqual({ code: 'INVALID_UPLOAD_ID', httpStatus: 404 });
    expect(await codeOf(trpc.upload.signParts.mutate({ ...ref, partNumbers: [1] }))).toEqual({
      code: 'INVALID_UPLOAD_ID',
      httpStatus: 404,
    });
  });

  it('refuses repeated part numbers in one signParts call', async () => {
    const started = await trpc.upload.start.mutate({ workspaceId, fileType: 'image/png' });
    const ref = { workspaceId, assetId: started.assetId, uploadId: started.uploadId };
    expect(await codeOf(trpc.upload.signParts.mutate({ ...ref, partNumbers: [1, 1] }))).toEqual({
      code: 'INVALID_PARAMETER',
      httpStatus: 400,
    });
  });

  it('bucket configuration: update, then get the rules; updateCors is the same procedure under its old name', async () => {
    const rules = [{ AllowedMethods: ['PUT' as const], AllowedOrigins: ['https://app.example.com'], ExposeHeaders: ['ETag'] }];
    await expect(trpc.bucket.updateConfig.mutate({ rules })).resolves.toEqual({ success: true });
    expect((await trpc.bucket.getCors.query()).CORSRules).toEqual(rules);
    await expect(trpc.bucket.updateCors.mutate()).resolves.toEqual({ success: true });
    const { CORSRules } = await trpc.bucket.getCors.query();
    expect(CORSRules[0]?.ExposeHeaders).toEqual(['ETag']);
    expect(CORSRules[0]?.AllowedOrigins).toEqual(['*']);
  });

  it('does not expose the stream-returning download procedure over /trpc', async () => {
    const response = await fetch(`${server.url}/trpc/download.open?input=${encodeURIComponent(JSON.stringify({ json: {} }))}`);
    expect(response.status).toBe(404);
  });
});
