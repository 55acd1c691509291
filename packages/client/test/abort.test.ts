import { Readable } from 'node:stream';
import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { createS3ServiceClient, type S3ServiceClient, S3ServiceError } from '../src/index.js';
import { spiedClient, type TestServer, withLocalServer } from './support/client.js';
import { MiB, randomData } from './support/data.js';
import type { FetchSpy } from './support/fetch-spy.js';

const workspaceId = 'client-abort';
const partSize = 5 * MiB;

describe('aborting an upload', () => {
  let server: TestServer;
  let client: S3ServiceClient;
  withLocalServer((started, plain) => {
    server = started;
    client = plain;
  });

  /** Nothing of the upload is left: no open upload, no object. */
  async function expectNothingLeft(spy: FetchSpy) {
    expect(spy.started).toHaveLength(1);
    const { uploadId, assetId, key } = spy.started[0]!;
    const listed = await client.trpc.upload.listParts.query({ workspaceId, uploadId, assetId }).catch((error: unknown) => error);
    expect(listed).toBeInstanceOf(TRPCClientError);
    expect((listed as TRPCClientError<never>).data).toMatchObject({ code: 'INVALID_UPLOAD_ID' });
    const download = await client.download({ key, workspaceId }).catch((error: unknown) => error);
    expect(download).toBeInstanceOf(S3ServiceError);
    expect(download).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  }

  it('stops the PUTs in flight, aborts the upload on the server and rejects with an AbortError', async () => {
    const controller = new AbortController();
    const { client: spied, spy } = spiedClient(server);
    const upload = spied.upload(randomData(8 * partSize), {
      workspaceId,
      partSize,
      signal: controller.signal,
      onProgress: ({ loaded }) => {
        if (loaded > 2 * partSize) controller.abort();
      },
    });
    const error = await upload.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
    expect(spy.storedPuts.length).toBeLessThan(8);
    await expectNothingLeft(spy);

    // Nothing was still on its way: no part lands after the rejection.
    const stored = spy.storedPuts.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(spy.storedPuts.length).toBe(stored);
  });

  it('rejects with an AbortError whatever reason abort() was given', async () => {
    const controller = new AbortController();
    const { client: spied, spy } = spiedClient(server, (put) =>
      put.index === 0 ? { kind: 'before', run: () => controller.abort(new Error('user left the page')) } : undefined,
    );
    await expect(spied.upload(randomData(partSize + 1), { workspaceId, partSize, signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    await expectNothingLeft(spy);
  });

  it('rejects at once, calling nothing, when the signal was already aborted', async () => {
    const { client: spied, spy } = spiedClient(server);
    await expect(spied.upload(randomData(10), { workspaceId, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(spy.procedures).toEqual([]);
  });

  it('aborts while waiting for a stalled stream, and destroys it', async () => {
    const controller = new AbortController();
    let sent = false;
    // One part's worth of bytes, then silence: the second part never fills.
    const stalled = new Readable({
      read() {
        if (sent) return;
        sent = true;
        this.push(Buffer.from(randomData(partSize + 10)));
      },
    });
    const { client: spied, spy } = spiedClient(server);
    const upload = spied.upload(stalled, { workspaceId, partSize, signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    await expect(upload).rejects.toMatchObject({ name: 'AbortError' });
    expect(stalled.destroyed).toBe(true);
    await expectNothingLeft(spy);
  });

  it('removes the object when the abort came while complete was assembling it', async () => {
    const controller = new AbortController();
    const { spy } = spiedClient(server);
    // The abort lands as the complete call goes out.
    const watching: typeof fetch = (input, init) => {
      if (String(input).includes('upload.complete')) controller.abort();
      return spy.fetch(input, init);
    };
    const racing = createS3ServiceClient({ url: server.url, fetch: watching });
    await expect(racing.upload(randomData(10), { workspaceId, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await expectNothingLeft(spy);
  });
});
