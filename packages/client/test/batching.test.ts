import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config.js';
import { MAX_BATCH_CALLS } from '../src/client.js';
import type { AppRouter } from '../src/contract.js';
import { createS3ServiceClient } from '../src/index.js';
import { wireTransformer } from '../src/wire-transformer.js';
import { startLocalServer, type TestServer } from './support/client.js';

const workspaceId = 'client-batching';

/** A fetch that records how many calls each tRPC request carried. */
function countingFetch() {
  const callsPerRequest: number[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.pathname.startsWith('/trpc/')) callsPerRequest.push(url.pathname.slice('/trpc/'.length).split(',').length);
    return globalThis.fetch(input, init);
  };
  return { fetch, callsPerRequest };
}

describe("the client's batches stay within the server's caps (defaults of the configuration)", () => {
  let server: TestServer;
  beforeAll(async () => {
    // The limits `pnpm start` runs with when nothing is set: the client must never meet them.
    const config = loadConfig({});
    server = await startLocalServer({ rateLimits: config.rateLimits, requestLimits: config.requestLimits });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('splits 120 calls made at once (a page starting 120 uploads) into requests of at most 20', async () => {
    const { fetch, callsPerRequest } = countingFetch();
    const client = createS3ServiceClient({ url: server.url, fetch });
    const started = await Promise.all(
      Array.from({ length: 120 }, (_, index) =>
        client.trpc.upload.start.mutate({ workspaceId, fileType: 'image/png', fileName: `${index}.png` }),
      ),
    );
    expect(new Set(started.map((upload) => upload.uploadId)).size).toBe(120);
    expect(MAX_BATCH_CALLS).toBe(20);
    expect(callsPerRequest).toEqual(Array(6).fill(20));
  });

  it('an unsplit batch of the same calls is what the server refuses: 413 REQUEST_TOO_LARGE', async () => {
    const unsplit = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${server.url}/trpc`, transformer: wireTransformer })] });
    const calls = Array.from({ length: 120 }, () => unsplit.upload.start.mutate({ workspaceId, fileType: 'image/png' }));
    const failures = await Promise.allSettled(calls);
    for (const failure of failures) {
      expect(failure.status).toBe('rejected');
      const error = (failure as PromiseRejectedResult).reason as TRPCClientError<AppRouter>;
      expect(error).toBeInstanceOf(TRPCClientError);
      expect(error.data).toMatchObject({ code: 'REQUEST_TOO_LARGE', httpStatus: 413 });
    }
  });

  it('signs the 10,000 part URLs of a 50 GiB upload as fast as it asks, 100 a call, within the default budgets', async () => {
    const { fetch, callsPerRequest } = countingFetch();
    const client = createS3ServiceClient({ url: server.url, fetch });
    const upload = await client.trpc.upload.start.mutate({ workspaceId, fileType: 'video/mp4', fileSize: 50 * 1024 ** 3 });
    const ref = { workspaceId, assetId: upload.assetId, uploadId: upload.uploadId };
    // Every batch of the upload at once: no link is fast enough to ask sooner than this.
    const batches = await Promise.all(
      Array.from({ length: 100 }, (_, batch) =>
        client.trpc.upload.signParts.mutate({ ...ref, partNumbers: Array.from({ length: 100 }, (_, index) => batch * 100 + index + 1) }),
      ),
    );
    expect(batches.flatMap((batch) => batch.parts.map((part) => part.partNumber))).toEqual(
      Array.from({ length: 10_000 }, (_, index) => index + 1),
    );
    // Five requests of 20 calls, 2,000 URLs each: well under 10,000 URLs a request and 50,000 a minute.
    expect(callsPerRequest.slice(1)).toEqual(Array(5).fill(20));
  });
});
