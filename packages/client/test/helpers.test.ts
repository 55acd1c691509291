import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { createJwtPolicy } from '../../server/src/auth/jwt-policy.js';
import { mintToken } from '../../server/src/auth/mint-token.js';
import { TEST_JWT_SECRET, testJwtConfig } from '../../server/test/support/jwt.js';
import { createS3ServiceClient, type RouterOutputs, type S3ServiceClient, S3ServiceError } from '../src/index.js';
import { startLocalServer, type TestServer } from './support/client.js';
import { randomData } from './support/data.js';

const workspace = () => `ws-helpers-${randomUUID().slice(0, 8)}`;

/** What a helper rejected with, for a look at its class and code. */
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('the read helpers: list, head, listOpen, usage', () => {
  let server: TestServer;
  let client: S3ServiceClient;
  const A = workspace();

  beforeAll(async () => {
    server = await startLocalServer({ policy: createJwtPolicy(testJwtConfig), uploads: { allowedFileTypes: ['text/plain'] } });
    const token = await mintToken({ secret: TEST_JWT_SECRET, workspaces: [A], subject: 'dana' });
    client = createS3ServiceClient({ url: server.url, headers: { authorization: `Bearer ${token}` } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answer what the procedures answer, page by page', async () => {
    const first = await client.upload(randomData(100), { workspaceId: A, fileName: 'b.txt', fileType: 'text/plain' });
    const second = await client.upload(randomData(300), { workspaceId: A, fileName: 'a.txt', fileType: 'text/plain' });

    const page = await client.list({ workspaceId: A, limit: 1, order: 'name' });
    expect(page).toEqual(await client.trpc.object.list.query({ workspaceId: A, limit: 1, order: 'name' }));
    expect(page.objects.map((object) => object.key)).toEqual([second.key]);
    expect(page.nextCursor).toEqual(expect.any(String));
    const next = await client.list({ workspaceId: A, limit: 1, order: 'name', cursor: page.nextCursor! });
    expect(next.objects.map((object) => object.key)).toEqual([first.key]);
    expect(next.nextCursor).toBeNull();

    const head = await client.head({ workspaceId: A, key: first.key });
    expect(head).toEqual(await client.trpc.object.head.query({ workspaceId: A, key: first.key }));
    expect(head).toMatchObject({ key: first.key, size: 100, contentType: 'text/plain' });
    expect(head.lastModified).toBeInstanceOf(Date);

    const usage = await client.usage({ workspaceId: A });
    expect(usage).toEqual(await client.trpc.workspace.usage.query({ workspaceId: A }));
    expect(usage).toMatchObject({ storedBytes: 400, assets: 2 });
  });

  it('lists the unfinished uploads another device could resume', async () => {
    const handle = client.upload(randomData(10), { workspaceId: A, fileName: 'later.txt', fileType: 'text/plain' });
    handle.pause();
    const listed = await waitForOpen(client, A);
    expect(listed).toEqual(await client.trpc.upload.listOpen.query({ workspaceId: A }));
    expect(listed.uploads).toHaveLength(1);
    expect(listed.uploads[0]).toMatchObject({ fileName: 'later.txt', fileSize: 10 });
    handle.resume();
    await handle;
    expect((await client.listOpen({ workspaceId: A, limit: 5 })).uploads).toEqual([]);
  });

  it('reject with S3ServiceError and the service code, never a raw tRPC error', async () => {
    const missing = await failureOf(client.head({ workspaceId: A, key: `${A}/digital_assets/nothing-here` }));
    expect(missing).toBeInstanceOf(S3ServiceError);
    expect(missing).toMatchObject({ code: 'NOT_FOUND', status: 404 });

    const badLimit = await failureOf(client.list({ workspaceId: A, limit: 0 }));
    expect(badLimit).toBeInstanceOf(S3ServiceError);
    expect(badLimit).toMatchObject({ code: 'INVALID_PARAMETER', status: 400 });
    const badPage = await failureOf(client.listOpen({ workspaceId: A, limit: 101 }));
    expect(badPage).toMatchObject({ code: 'INVALID_PARAMETER', status: 400 });

    // A workspace the token does not name, and another workspace's key.
    const B = workspace();
    for (const refused of [
      client.list({ workspaceId: B }),
      client.head({ workspaceId: B, key: `${B}/digital_assets/x` }),
      client.listOpen({ workspaceId: B }),
      client.usage({ workspaceId: B }),
    ]) {
      const error = await failureOf(refused);
      expect(error).toBeInstanceOf(S3ServiceError);
      expect(error).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    }
    const foreignKey = await failureOf(client.head({ workspaceId: A, key: `${B}/digital_assets/x` }));
    expect(foreignKey).toBeInstanceOf(S3ServiceError);
    expect(foreignKey).toMatchObject({ code: 'INVALID_PARAMETER', status: 400 });

    const anonymous = createS3ServiceClient({ url: server.url });
    expect(await failureOf(anonymous.usage({ workspaceId: A }))).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('reject with an AbortError when their signal fires', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await failureOf(client.list({ workspaceId: A, signal: controller.signal }))).toMatchObject({ name: 'AbortError' });
  });

  it("are typed by the router's outputs", () => {
    expectTypeOf(client.list).returns.resolves.toEqualTypeOf<RouterOutputs['object']['list']>();
    expectTypeOf(client.head).returns.resolves.toEqualTypeOf<RouterOutputs['object']['head']>();
    expectTypeOf(client.listOpen).returns.resolves.toEqualTypeOf<RouterOutputs['upload']['listOpen']>();
    expectTypeOf(client.usage).returns.resolves.toEqualTypeOf<RouterOutputs['workspace']['usage']>();
  });
});

/** The paused upload is listed once its start went through. */
async function waitForOpen(client: S3ServiceClient, workspaceId: string): Promise<RouterOutputs['upload']['listOpen']> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const listed = await client.listOpen({ workspaceId });
    if (listed.uploads.length > 0) return listed;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the upload never showed up in listOpen');
}
