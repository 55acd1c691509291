import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { mintUppyCapability } from '../../../packages/server/src/index.js';
import { chromiumMissing, launchChromium } from '../../web/test/support/chromium.js';
import { Api } from './support/api.js';
import { type PageServer, servePage } from './support/serve-page.js';
import { type Stack, type StackResult, startLocalStack, startS3Stack, UPPY_CAPABILITY_SECRET } from './support/stacks.js';
import { type TestFile, UppyPage } from './support/uppy-page.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Above the page's 5 MiB threshold: multipart, in 4 of Uppy's smallest parts (5 MiB): 5 + 5 + 5 + 2. */
const BIG_SIZE = 17 * MiB;
/** Below Uppy's own 100 MiB threshold (`?multipart=default`): one form POST through /params. */
const SMALL_SIZE = 100 * KiB;

const missingBrowser = chromiumMissing();

describe.skipIf(missingBrowser !== undefined)('Uppy 6 (@uppy/aws-s3 with companionEndpoint) in Chromium, from another origin', () => {
  let browser: Browser;
  let pageServer: PageServer;
  let files: string;
  let big: TestFile;
  let small: TestFile;

  beforeAll(async () => {
    files = await mkdtemp(join(tmpdir(), 's3-service-uppy-files-'));
    [big, small] = await Promise.all([
      writeTestFile(files, 'holiday clip.bin', BIG_SIZE),
      writeTestFile(files, 'scan of a receipt.bin', SMALL_SIZE),
    ]);
    [browser, pageServer] = await Promise.all([launchChromium(), servePage(inject('pageRoot'))]);
  });

  afterAll(async () => {
    await browser?.close();
    await pageServer?.close();
    if (files) await rm(files, { recursive: true, force: true });
  });

  /**
   * One stack for the tests of a describe block, and per test a fresh browser profile on a
   * workspace of its own, whose Uppy endpoint the test minted as an app's backend would.
   */
  function useStack(title: string, startStack: (pageOrigin: string) => Promise<StackResult>) {
    let stack: Stack | undefined;
    let skipped = '';
    let contexts: BrowserContext[] = [];

    beforeAll(async () => {
      const started = await startStack(pageServer.url);
      if ('skipped' in started) {
        skipped = started.skipped;
        console.warn(`[@s3-service/uppy-demo] ${title}: skipped: ${skipped}`);
      } else {
        stack = started;
      }
    });

    afterEach(async () => {
      await Promise.all(contexts.map((context) => context.close().catch(() => {})));
      contexts = [];
      stack?.gate.cutHeld();
    });

    afterAll(async () => {
      await stack?.close();
    });

    return async (skip: (note: string) => void) => {
      if (!stack) skip(skipped);
      const api = new Api(stack!.apiUrl);
      const workspaceId = `ws-${randomBytes(5).toString('hex')}`;
      const open = async (endpoint: string, options: { multipart?: 'default' } = {}) => {
        const context = await browser.newContext();
        contexts.push(context);
        return UppyPage.open(context, pageServer.url, endpoint, options);
      };
      return { ...stack!, api, workspaceId, prefix: `${workspaceId}/digital_assets/`, open };
    };
  }

  describe.each([
    ['the local store', startLocalStack],
    ['the S3 driver on versitygw', startS3Stack],
  ])('on %s', (title, startStack) => {
    const setUp = useStack(title, startStack);

    it('uploads a 17 MiB file in 4 parts under the key the server chose, named as the file, with the same bytes', async ({ skip }) => {
      const { api, workspaceId, prefix, gate, open, apiUrl } = await setUp(skip);
      const { endpoint } = await api.mintUppyEndpoint(workspaceId);
      expect(endpoint.startsWith(`${apiUrl}/uppy/`)).toBe(true);
      const page = await open(endpoint);
      // Page, API and part URLs are three origins: every call is a CORS request.
      expect(new Set([pageServer.url, apiUrl, gate.url]).size).toBe(3);
      const storedBefore = gate.storedParts.length;

      const fileId = await page.add(big);
      await page.clickUpload();
      const outcome = await page.outcome(fileId);

      expect(outcome).toMatchObject({ type: 'upload-success', name: big.name });
      expect(outcome.key).toMatch(new RegExp(`^${prefix}[^/]+$`));
      expect(page.endpointCalls[0]).toBe('POST /s3/multipart');
      expect(page.partPuts).toEqual([1, 2, 3, 4]);
      expect(gate.storedParts.slice(storedBefore)).toEqual([1, 2, 3, 4]);
      await expectStored(api, workspaceId, outcome.key!, big);
      expect(await api.listOpen(workspaceId)).toEqual([]);
    });

    it("uploads a 100 KiB file through /params and the form POST (Uppy's default below 100 MiB), with the same bytes", async ({ skip }) => {
      const { api, workspaceId, prefix, open, apiUrl } = await setUp(skip);
      // An app's backend that shares the server's secret mints without a call to the API.
      const { endpoint } = await mintUppyCapability({ secret: UPPY_CAPABILITY_SECRET, workspaceId, baseUrl: apiUrl });
      const page = await open(endpoint, { multipart: 'default' });

      const fileId = await page.add(small);
      await page.clickUpload();
      const outcome = await page.outcome(fileId);

      expect(outcome).toMatchObject({ type: 'upload-success', name: small.name });
      expect(outcome.key).toMatch(new RegExp(`^${prefix}[^/]+$`));
      expect(page.endpointCalls).toEqual(['GET /s3/params', 'POST /s3/form']);
      expect(page.partPuts).toEqual([]);
      await expectStored(api, workspaceId, outcome.key!, small);
      expect(await api.listOpen(workspaceId)).toEqual([]);
    });

    it('pauses mid-upload and resumes: the upload completes, the part stored before the pause is not sent again', async ({ skip }) => {
      const { api, workspaceId, gate, open } = await setUp(skip);
      const page = await open((await api.mintUppyEndpoint(workspaceId)).endpoint);
      const storedBefore = gate.storedParts.length;
      gate.hold(2);

      const fileId = await page.add(big);
      await page.clickUpload();
      await gate.waitForStoredParts(storedBefore + 1);
      await page.waitForPartPut(2);
      expect(await page.pauseResume(fileId)).toBe(true);
      // The paused browser dropped part 2; the gate cuts what it held so it never reaches the store.
      gate.cutHeld();
      const [paused] = await api.listOpen(workspaceId);
      // Uppy does not send the file's size: the server knows the name and the parts.
      expect(paused).toMatchObject({ fileName: big.name, partsDone: 1 });

      expect(await page.pauseResume(fileId)).toBe(false);
      const outcome = await page.outcome(fileId);

      expect(outcome).toMatchObject({ type: 'upload-success', name: big.name });
      expect(outcome.key).toBe(paused!.key);
      // Part 1, stored before the pause, went once. Part 2 went again unless the PUT the pause cut
      // had already reached the store (the gate's hold, Chromium's own resend of a cut PUT and the
      // browser's abort race; the gate may not even see the store's answer to that resend, when
      // the browser hung up first): either way each part is stored at most once, and the bytes
      // prove part 2 is in the object.
      const stored = gate.storedParts.slice(storedBefore);
      expect(page.partPuts.filter((partNumber) => partNumber === 1)).toEqual([1]);
      expect([...new Set(page.partPuts)]).toEqual([1, 2, 3, 4]);
      expect(page.partPuts.filter((partNumber) => partNumber === 2).length).toBeLessThanOrEqual(2);
      expect(stored.filter((partNumber) => partNumber !== 2).sort()).toEqual([1, 3, 4]);
      expect(stored.filter((partNumber) => partNumber === 2).length).toBeLessThanOrEqual(1);
      await expectStored(api, workspaceId, outcome.key!, big);
    });

    it('cancelling mid-upload leaves no open upload, no object and no parts on the store', async ({ skip }) => {
      const { api, workspaceId, gate, store, prefix, open } = await setUp(skip);
      const page = await open((await api.mintUppyEndpoint(workspaceId)).endpoint);
      const storedBefore = gate.storedParts.length;
      gate.hold(2);

      await page.add(big);
      await page.clickUpload();
      await gate.waitForStoredParts(storedBefore + 1);
      await page.waitForPartPut(2);
      const [pending] = await api.listOpen(workspaceId);
      expect(pending).toMatchObject({ fileName: big.name, partsDone: 1 });

      const aborted = page.waitForEndpointAnswer('DELETE /s3/multipart/');
      await page.cancelAll();
      await aborted;
      gate.cutHeld();

      expect(await page.events()).toEqual([]);
      expect(await api.listOpen(workspaceId)).toEqual([]);
      expect(await api.listObjects(workspaceId)).toEqual([]);
      expect((await store.listObjects(prefix, { limit: 10 })).objects).toEqual([]);
      await expect(store.assertUploadOpen(pending!.key, pending!.uploadId)).rejects.toMatchObject({ appCode: 'INVALID_UPLOAD_ID' });
    });

    it('an expired capability: Uppy reports the failure (401 UNAUTHORIZED) and nothing is stored', async ({ skip }) => {
      const { api, workspaceId, store, prefix, open } = await setUp(skip);
      const { endpoint } = await api.mintUppyEndpoint(workspaceId, 1);
      // JWT lifetimes count whole seconds: two of them are surely past one.
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const page = await open(endpoint);

      await expectRefused(page, big, 'POST /s3/multipart', 'the upload capability has expired');
      await expectNothingStored(api, workspaceId, store, prefix);
    });

    it('a capability of another deployment (another secret) or tampered with: Uppy reports the failure and nothing is stored', async ({
      skip,
    }) => {
      const { api, workspaceId, store, prefix, open, apiUrl } = await setUp(skip);
      const foreign = (await mintUppyCapability({ secret: 'the-secret-of-another-deployment-0123456789', workspaceId, baseUrl: apiUrl }))
        .capability;
      const own = (await api.mintUppyEndpoint(workspaceId)).capability;
      const tampered = tamper(own);

      for (const capability of [foreign, tampered]) {
        const page = await open(`${apiUrl}/uppy/${capability}`, { multipart: 'default' });
        await expectRefused(page, small, 'GET /s3/params', 'the upload capability is not valid');
      }
      await expectNothingStored(api, workspaceId, store, prefix);
    });
  });
});

if (missingBrowser) {
  describe('Uppy 6 in Chromium', () => {
    it.skip(`skipped: ${missingBrowser}`, () => {});
  });
}

/** Random bytes (no type a sniffer could name) under a name with spaces, typed application/octet-stream by its extension. */
async function writeTestFile(folder: string, name: string, size: number): Promise<TestFile> {
  const bytes = randomBytes(size);
  const path = join(folder, name);
  await writeFile(path, bytes);
  return { name, path, size, sha256: sha256(bytes) };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The catalogue names the asset as the file, and the store holds the file's very bytes. */
async function expectStored(api: Api, workspaceId: string, key: string, file: TestFile) {
  expect(await api.head(workspaceId, key)).toMatchObject({ key, fileName: file.name, size: file.size });
  const downloaded = await api.download(workspaceId, key);
  expect(downloaded.length).toBe(file.size);
  expect(sha256(downloaded)).toBe(file.sha256);
}

/** Uploads `file` and expects Uppy's upload-error, after the endpoint refused `call` with 401 UNAUTHORIZED. */
async function expectRefused(page: UppyPage, file: TestFile, call: string, message: string) {
  const [method, path] = call.split(' ') as [string, string];
  const refusal = page.page.waitForResponse(
    (response) => response.request().method() === method && new URL(response.url()).pathname.endsWith(path),
  );
  const fileId = await page.add(file);
  await page.clickUpload();
  const answer = await refusal;
  expect(answer.status()).toBe(401);
  expect(await page.outcome(fileId)).toMatchObject({ type: 'upload-error', name: file.name });
  expect(page.partPuts).toEqual([]);
  // The same call from Node, for its body: Playwright cannot always read a cross-origin error's body.
  const again = await fetch(answer.url(), {
    method,
    ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
  });
  expect(again.status).toBe(401);
  expect(await again.json()).toEqual({ code: 'UNAUTHORIZED', error: message });
}

async function expectNothingStored(api: Api, workspaceId: string, store: Stack['store'], prefix: string) {
  expect(await api.listOpen(workspaceId)).toEqual([]);
  expect(await api.listObjects(workspaceId)).toEqual([]);
  expect((await store.listObjects(prefix, { limit: 10 })).objects).toEqual([]);
}

/** The capability with one character of its signature changed. */
function tamper(capability: string): string {
  const last = capability.at(-2) === 'A' ? 'B' : 'A';
  return `${capability.slice(0, -2)}${last}${capability.at(-1)}`;
}
