import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPolicy } from '../../../packages/server/src/auth/index.js';
import { mintToken } from '../../../packages/server/src/auth/mint-token.js';
import { uniqueAssetKey, uploadThroughSignedUrls } from '../../../packages/server/test/support/s3-harness.js';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { type PageServer, servePage } from './support/serve-page.js';
import { type Stack, type StackResult, startLocalStack, startS3Stack } from './support/stacks.js';
import { UploaderPage } from './support/uploader-page.js';

const MiB = 1024 * 1024;
/** Three parts of the SDK's default 8 MiB: 8 + 8 + 7. */
const BIG_SIZE = 23 * MiB;
const BIG_PARTS = 3;
const ARTIFACTS = fileURLToPath(new URL('../test-results', import.meta.url));
const SLOW = { timeout: 10_000 };

const missingBrowser = chromiumMissing();

describe.skipIf(missingBrowser !== undefined)('the web uploader in Chromium', () => {
  let browser: Browser;
  let pageServer: PageServer;
  let files: string;
  let big: { path: string; name: string; sha256: string };
  let small: { path: string; name: string };

  beforeAll(async () => {
    files = await mkdtemp(join(tmpdir(), 's3-service-web-files-'));
    const bytes = randomBytes(BIG_SIZE);
    big = { path: join(files, 'big-video.bin'), name: 'big-video.bin', sha256: sha256(bytes) };
    await writeFile(big.path, bytes);
    small = { path: join(files, 'notes.txt'), name: 'notes.txt' };
    await writeFile(small.path, 'a few words of notes\n'.repeat(20_000));
    [browser, pageServer] = await Promise.all([launchChromium(), servePage(inject('webRoot'))]);
    await mkdir(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await pageServer?.close();
    if (files) await rm(files, { recursive: true, force: true });
  });

  /**
   * A stack for the tests of one describe block, and a fresh browser profile (empty
   * localStorage) on a workspace of its own for each test.
   */
  function useStack(title: string, startStack: () => Promise<StackResult>) {
    let stack: Stack | undefined;
    let skipped = '';
    let context: BrowserContext | undefined;

    beforeAll(async () => {
      const started = await startStack();
      if ('skipped' in started) {
        skipped = started.skipped;
        console.warn(`[@s3-service/web] ${title}: skipped: ${skipped}`);
      } else {
        stack = started;
      }
    });

    afterEach(async () => {
      await context?.close();
      context = undefined;
      stack?.gate.cutHeld();
    });

    afterAll(async () => {
      await stack?.close();
    });

    return async (skip: (note: string) => void) => {
      if (!stack) skip(skipped);
      context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
      const workspaceId = `ws-${randomBytes(5).toString('hex')}`;
      const uploader = await UploaderPage.open(context, pageServer.url, { apiUrl: stack!.apiUrl, workspaceId });
      return { ...stack!, uploader, page: uploader.page, workspaceId, prefix: `${workspaceId}/digital_assets/` };
    };
  }

  /** What depends on the store: bytes, CORS of the signed URLs, abort and resume. */
  function describeStoreStories(title: string, startStack: () => Promise<StackResult>) {
    describe(title, () => {
      const openPage = useStack(title, startStack);

      it('uploads several files at once, with a progress bar that moves to 100 %, lists them and downloads the same bytes', async ({
        skip,
      }) => {
        const { uploader, gate, store, prefix, page, apiUrl } = await openPage(skip);
        // Every call of the page crosses origins: page, API and store signed URLs differ.
        expect(new Set([pageServer.url, apiUrl, gate.url]).size).toBe(3);

        // The big file's last part waits at the gate: the page is seen mid-upload.
        gate.hold(BIG_PARTS);
        const storedBefore = gate.storedParts.length;
        await uploader.recordPercents();
        await uploader.pick(big.path, small.path);

        // The small file finishes while the big one is still on the wire.
        await uploader.waitForState(small.name, 'done');
        await gate.waitForStoredParts(storedBefore + 1 + (BIG_PARTS - 1));
        // Two of three parts stored: 16 of 23 MiB, plus what of the third is on the wire.
        await expect.poll(() => uploader.percent(big.name), SLOW).toBeGreaterThanOrEqual(69);
        expect(await uploader.percent(big.name)).toBeLessThan(100);
        expect(await uploader.upload(big.name).locator('.upload-bytes').textContent()).toMatch(/ of 23\.0 MiB · \d+ %$/);
        await expect.poll(() => uploader.upload(big.name).locator('.upload-speed').textContent(), SLOW).toMatch(/\/s$/);
        await page.screenshot({ path: join(ARTIFACTS, `uploader-${store.kind}-midway.png`), fullPage: true });

        gate.release();
        await uploader.waitForState(big.name, 'done');
        expect(await uploader.percent(big.name)).toBe(100);
        expect(
          await uploader
            .upload(big.name)
            .locator('progress')
            .evaluate((bar: HTMLProgressElement) => bar.value),
        ).toBe(1);
        const seen = await uploader.percentsSeen(big.name);
        expect(seen.at(-1)).toBe(100);
        expect(seen.some((percent) => percent > 0 && percent < 100)).toBe(true);
        expect(seen).toEqual([...seen].sort((a, b) => a - b));
        expect(uploader.partPuts).toHaveLength(BIG_PARTS + 1);

        const { objects } = await store.listObjects(prefix, { limit: 10 });
        const bigObject = objects.find((object) => object.size === BIG_SIZE);
        expect(bigObject?.contentType).toBe('application/octet-stream');
        expect(objects.find((object) => object.size !== BIG_SIZE)?.contentType).toBe('text/plain');

        const row = uploader.asset(bigObject!.key);
        await row.waitFor();
        expect(await row.textContent()).toContain(big.name);
        expect(await row.textContent()).toContain('23.0 MiB');
        expect(await page.locator('#assets-table tbody tr').count()).toBe(2);

        const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: 'Download' }).click()]);
        const downloaded = await readFile((await download.path())!);
        expect(downloaded.length).toBe(BIG_SIZE);
        expect(sha256(downloaded)).toBe(big.sha256);

        await page.screenshot({ path: join(ARTIFACTS, `uploader-${store.kind}.png`), fullPage: true });
      });

      it('cancelling mid-upload leaves no object and no pending upload', async ({ skip }) => {
        const { uploader, gate, store, prefix } = await openPage(skip);
        gate.hold(BIG_PARTS);
        const storedBefore = gate.storedParts.length;
        await uploader.pick(big.path);
        await gate.waitForStoredParts(storedBefore + BIG_PARTS - 1);
        const [record] = await uploader.resumeRecords();
        expect(record?.name).toBe(big.name);

        await uploader.upload(big.name).getByRole('button', { name: 'Cancel' }).click();
        await uploader.waitForState(big.name, 'cancelled');

        expect((await store.listObjects(prefix, { limit: 10 })).objects).toEqual([]);
        await expect(store.assertUploadOpen(`${prefix}${record!.assetId}`, record!.uploadId)).rejects.toMatchObject({
          appCode: 'INVALID_UPLOAD_ID',
        });
        expect(await uploader.resumeRecords()).toEqual([]);
      });

      it('after a reload mid-upload, picking the same file again sends only the missing parts', async ({ skip }) => {
        const { uploader, gate, store, prefix, page } = await openPage(skip);
        gate.hold(BIG_PARTS);
        const storedBefore = gate.storedParts.length;
        await uploader.pick(big.path);
        await gate.waitForStoredParts(storedBefore + BIG_PARTS - 1);
        const [record] = await uploader.resumeRecords();

        await page.reload();
        await page.locator(`#unfinished li[data-file="${big.name}"]`).waitFor();
        const key = `${prefix}${record!.assetId}`;
        const onServer = await store.listParts(key, record!.uploadId);
        const missing = [1, 2, 3].filter((part) => !onServer.some((stored) => stored.partNumber === part));
        expect(missing.length).toBeGreaterThan(0);

        // The PUT held when the page reloaded never reaches the store: its browser is gone.
        gate.cutHeld();
        const putsBefore = uploader.partPuts.length;
        await uploader.pick(big.path);
        await uploader.waitForState(big.name, 'done');

        const sentAfterReload = uploader.partPuts.slice(putsBefore);
        expect(sentAfterReload).toHaveLength(missing.length);
        expect([...sentAfterReload].sort()).toEqual(missing);
        expect(await uploader.percent(big.name)).toBe(100);
        expect(await hashObject(store, key)).toBe(big.sha256);
        expect(await uploader.resumeRecords()).toEqual([]);
        await page.locator('#unfinished').waitFor({ state: 'hidden' });
      });
    });
  }

  describeStoreStories('over the local-disk store', () => startLocalStack());
  describeStoreStories('over the S3 driver on versitygw', startS3Stack);

  // The list, the errors and the token field are the page's and the API's: one store shows them.
  describe('the page over the local-disk store', () => {
    const openPage = useStack('the page', () => startLocalStack());

    it('pages through the assets with Load more, and deletes one after a confirming second click', async ({ skip }) => {
      const { uploader, store, workspaceId, prefix, page } = await openPage(skip);
      // One more than the page's 20 a page, put there without the page.
      const keys = Array.from({ length: 21 }, () => uniqueAssetKey(workspaceId));
      await Promise.all(keys.map((key, index) => uploadThroughSignedUrls(store, key, [Buffer.from(`asset ${index}\n`)], 'text/plain')));

      await page.getByRole('button', { name: 'Refresh' }).click();
      const rows = page.locator('#assets-table tbody tr');
      await expect.poll(() => rows.count(), SLOW).toBe(20);
      const more = page.getByRole('button', { name: 'Load more' });
      await more.click();
      await expect.poll(() => rows.count(), SLOW).toBe(21);
      await more.waitFor({ state: 'hidden' });
      expect(new Set(await rows.evaluateAll((found) => found.map((row) => row.getAttribute('data-key'))))).toEqual(new Set(keys));

      const victim = uploader.asset(keys[0]!);
      await victim.getByRole('button', { name: 'Delete' }).click();
      await victim.getByRole('button', { name: 'Confirm delete' }).click();
      await victim.waitFor({ state: 'detached' });
      expect(await store.headObject(keys[0]!)).toBeNull();
      expect((await store.listObjects(prefix, { limit: 100 })).objects).toHaveLength(20);
    });

    it('shows a refusal in words, with the server code', async ({ skip }) => {
      const { uploader } = await openPage(skip);
      const name = 'page.html';
      await writeFile(join(files, name), '<!doctype html><p>not an asset</p>');
      await uploader.pick(join(files, name));
      await uploader.waitForState(name, 'failed');
      const error = await uploader.upload(name).locator('.upload-error').textContent();
      expect(error).toContain('FILE_TYPE_NOT_ALLOWED');
      expect(error).toContain('The server does not accept files of this type.');
      await uploader.page.screenshot({ path: join(ARTIFACTS, 'uploader-refusal.png') });
    });
  });

  describe('the page with authorization on', () => {
    const secret = randomBytes(32).toString('hex');
    const openPage = useStack('authorization', async () =>
      startLocalStack({
        policy: createPolicy({ mode: 'jwt', secret, workspacesClaim: 'workspaces', roleClaim: 'role', adminRole: 'admin' }),
        adminToken: await mintToken({ secret, workspaces: [], admin: true }),
      }),
    );

    it('sends the token field as a bearer token to the API, and never to the store', async ({ skip }) => {
      const { uploader, page, workspaceId, apiUrl, gate } = await openPage(skip);
      await page.locator('#assets-status', { hasText: 'UNAUTHORIZED' }).waitFor();

      const seen: Array<Promise<{ to: 'api' | 'store'; authorization: string | undefined }>> = [];
      page.on('request', (request) => {
        const to = request.url().startsWith(apiUrl) ? 'api' : request.url().startsWith(gate.url) ? 'store' : undefined;
        if (to) seen.push(request.allHeaders().then((headers) => ({ to, authorization: headers.authorization })));
      });
      const token = await mintToken({ secret, workspaces: [workspaceId] });
      await page.getByLabel('Token').fill(token);
      await page.getByRole('button', { name: 'Save' }).click();
      await page.locator('#assets-status', { hasText: 'No assets in this workspace yet.' }).waitFor();
      await uploader.pick(small.path);
      await uploader.waitForState(small.name, 'done');

      const requests = await Promise.all(seen);
      expect(requests.filter((request) => request.to === 'api').map((request) => request.authorization)).toContain(`Bearer ${token}`);
      expect(requests.filter((request) => request.to === 'api').every((request) => request.authorization === `Bearer ${token}`)).toBe(true);
      expect(requests.filter((request) => request.to === 'store')).toEqual([{ to: 'store', authorization: undefined }]);

      // A token for another workspace: refused, in words, with the code.
      await page.getByLabel('Workspace').fill('someone-else');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.locator('#assets-status', { hasText: 'FORBIDDEN' }).waitFor();
      expect(await page.locator('#assets-table tbody tr').count()).toBe(0);
      await page.screenshot({ path: join(ARTIFACTS, 'uploader-forbidden.png') });
    });
  });
});

if (missingBrowser) {
  describe('the web uploader in Chromium', () => {
    it.skip(`skipped: ${missingBrowser}`, () => {});
  });
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function hashObject(store: Stack['store'], key: string): Promise<string> {
  const { body } = await store.getObject(key);
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
