import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createS3ServiceClient, type S3ServiceClient } from '@s3-service/client';
import type { Browser, BrowserContext, Locator } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPolicy } from '../../../packages/server/src/auth/index.js';
import { mintToken } from '../../../packages/server/src/auth/mint-token.js';
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
  /** The same bytes as `big` under a name of a type of its own (application/pdf). */
  let report: { path: string; name: string; sha256: string };
  let small: { path: string; name: string };

  beforeAll(async () => {
    files = await mkdtemp(join(tmpdir(), 's3-service-web-files-'));
    const bytes = randomBytes(BIG_SIZE);
    big = { path: join(files, 'big-video.bin'), name: 'big-video.bin', sha256: sha256(bytes) };
    await writeFile(big.path, bytes);
    report = { path: join(files, 'report.pdf'), name: 'report.pdf', sha256: big.sha256 };
    await writeFile(report.path, bytes);
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
   * localStorage) on a workspace of its own for each test. `openBrowser` opens another such
   * profile on the same workspace: another person's browser, or the same person's other device.
   */
  function useStack(title: string, startStack: () => Promise<StackResult>) {
    let stack: Stack | undefined;
    let skipped = '';
    let contexts: BrowserContext[] = [];

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
      // A test may have closed one already (a browser that went away mid-upload).
      await Promise.all(contexts.map((context) => context.close().catch(() => {})));
      contexts = [];
      stack?.gate.cutHeld();
    });

    afterAll(async () => {
      await stack?.close();
    });

    return async (skip: (note: string) => void) => {
      if (!stack) skip(skipped);
      const { apiUrl } = stack!;
      const workspaceId = `ws-${randomBytes(5).toString('hex')}`;
      const openBrowser = async () => {
        const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
        contexts.push(context);
        return UploaderPage.open(context, pageServer.url, { apiUrl, workspaceId });
      };
      const uploader = await openBrowser();
      return {
        ...stack!,
        uploader,
        page: uploader.page,
        workspaceId,
        prefix: `${workspaceId}/digital_assets/`,
        openBrowser,
        /** The SDK in Node, for what the server says without a browser. */
        api: createS3ServiceClient({ url: apiUrl }),
      };
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
        // Not done while its last part waits unanswered at the gate. Its percent may read 100 by
        // now: the held PUT is never read, and the kernel's loopback buffers can take its whole body.
        expect(await uploader.upload(big.name).getAttribute('data-state')).toBe('uploading');
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
        const { uploader, gate, store, prefix, api, workspaceId, page } = await openPage(skip);
        gate.hold(BIG_PARTS);
        const storedBefore = gate.storedParts.length;
        await uploader.pick(big.path);
        await gate.waitForStoredParts(storedBefore + BIG_PARTS - 1);
        // The server recorded the upload under the file's name, with the part size a resume needs.
        const [open] = await openUploads(api, workspaceId);
        expect(open).toMatchObject({ fileName: big.name, fileSize: BIG_SIZE, partSize: 8 * MiB, partsDone: BIG_PARTS - 1 });
        // It runs in this page: it has a row, not a line in the Unfinished panel.
        expect(await page.locator('#unfinished li').count()).toBe(0);

        await uploader.upload(big.name).getByRole('button', { name: 'Cancel' }).click();
        await uploader.waitForState(big.name, 'cancelled');

        expect((await store.listObjects(prefix, { limit: 10 })).objects).toEqual([]);
        await expect(store.assertUploadOpen(`${prefix}${open!.assetId}`, open!.uploadId)).rejects.toMatchObject({
          appCode: 'INVALID_UPLOAD_ID',
        });
        expect(await openUploads(api, workspaceId)).toEqual([]);
      });

      it('after a reload mid-upload, lists the upload from the server, and picking the same file again sends only the missing parts', async ({
        skip,
      }) => {
        const { uploader, gate, store, prefix, page, api, workspaceId } = await openPage(skip);
        gate.hold(BIG_PARTS);
        const storedBefore = gate.storedParts.length;
        await uploader.pick(big.path);
        await gate.waitForStoredParts(storedBefore + BIG_PARTS - 1);
        const [open] = await openUploads(api, workspaceId);

        await page.reload();
        const line = uploader.unfinished(big.name);
        await line.waitFor();
        expect(await line.getAttribute('data-upload-id')).toBe(open!.uploadId);
        expect(await line.textContent()).toContain('23.0 MiB · 2 of 3 parts (16.0 MiB) sent · started');
        const key = `${prefix}${open!.assetId}`;
        const onServer = await store.listParts(key, open!.uploadId);
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
        expect(await openUploads(api, workspaceId)).toEqual([]);
        await page.locator('#unfinished').waitFor({ state: 'hidden' });
      });

      it('an upload cut off in one browser is resumed in another, and a third downloads it under its name', async ({ skip }) => {
        const { uploader: first, gate, store, prefix, openBrowser } = await openPage(skip);
        gate.hold(BIG_PARTS);
        const storedBefore = gate.storedParts.length;
        await first.pick(report.path);
        await gate.waitForStoredParts(storedBefore + BIG_PARTS - 1);
        // The first browser goes away mid-upload (a closed laptop); its held PUT never arrives, nor
        // the copy Chromium sends again by itself once the gate cuts it (held until the resume).
        await first.page.context().close();
        gate.cutHeld({ keepHolding: true });

        // A fresh profile: nothing in its localStorage but the settings the test typed in.
        const second = await openBrowser();
        expect(await second.storedKeys()).toEqual(['s3-service:settings']);
        const line = second.unfinished(report.name);
        await line.waitFor();
        expect(await line.textContent()).toContain('23.0 MiB · 2 of 3 parts (16.0 MiB) sent');
        const key = `${prefix}${await line.getAttribute('data-asset-id')}`;

        gate.cutHeld();
        await second.pick(report.path);
        await second.waitForState(report.name, 'done');
        expect(second.partPuts).toEqual([BIG_PARTS]);
        expect(await second.percent(report.name)).toBe(100);
        expect(await hashObject(store, key)).toBe(report.sha256);
        expect((await store.headObject(key))?.contentType).toBe('application/pdf');
        await second.page.locator('#unfinished').waitFor({ state: 'hidden' });

        // A browser that never saw the file lists it by name, and saves it under that name.
        const third = await openBrowser();
        const row = third.asset(key);
        await row.waitFor();
        expect(await assetName(row)).toBe(report.name);
        const download = await downloadFrom(row);
        expect(download.savedAs).toBe(report.name);
        // A token needs no quotes (RFC 6266): either form names the file.
        expect(download.contentDisposition).toMatch(/^attachment; filename="?report\.pdf"?$/);
        expect(sha256(download.bytes)).toBe(report.sha256);
      });
    });
  }

  describeStoreStories('over the local-disk store', () => startLocalStack());
  describeStoreStories('over the S3 driver on versitygw', startS3Stack);

  // The list, the errors and the token field are the page's and the API's: one store shows them.
  describe('the page over the local-disk store', () => {
    const openPage = useStack('the page', () => startLocalStack());

    it('shows the names files were uploaded with in another browser, filtered and ordered by the server', async ({ skip }) => {
      const { uploader, openBrowser } = await openPage(skip);
      const paper = join(files, 'annual report.pdf');
      await writeFile(paper, '%PDF-1.4 a small report\n');
      await uploader.pick(paper);
      await uploader.waitForState('annual report.pdf', 'done');
      await uploader.pick(small.path);
      await uploader.waitForState(small.name, 'done');

      const other = await openBrowser();
      const rows = other.page.locator('#assets-table tbody tr');
      await expect.poll(() => rows.count(), SLOW).toBe(2);
      // Newest first: the notes were stored last.
      expect(await rows.evaluateAll(namesOf)).toEqual([small.name, 'annual report.pdf']);

      await other.page.getByLabel('Order').selectOption('name');
      await expect.poll(() => rows.evaluateAll(namesOf), SLOW).toEqual(['annual report.pdf', small.name]);
      await other.page.getByLabel('Filter by name').fill('NOTES');
      await expect.poll(() => rows.evaluateAll(namesOf), SLOW).toEqual([small.name]);
      await other.page.getByLabel('Filter by name').fill('nothing like it');
      await other.page.locator('#assets-status', { hasText: 'No asset names match.' }).waitFor();

      await other.page.getByLabel('Filter by name').fill('report');
      await expect.poll(() => rows.evaluateAll(namesOf), SLOW).toEqual(['annual report.pdf']);
      const download = await downloadFrom(rows.first());
      expect(download.savedAs).toBe('annual report.pdf');
      expect(download.contentDisposition).toBe('attachment; filename="annual report.pdf"');
      expect(download.bytes.toString()).toBe('%PDF-1.4 a small report\n');
    });

    it('pages through the assets with Load more, and deletes one after a confirming second click', async ({ skip }) => {
      const { uploader, store, workspaceId, page, api } = await openPage(skip);
      // One more than the page's 20 a page, put there by the SDK in Node, not by the page.
      const stored = await Promise.all(
        Array.from({ length: 21 }, (_, index) =>
          api.upload(new TextEncoder().encode(`asset ${index}\n`), {
            workspaceId,
            fileName: `asset-${String(index).padStart(2, '0')}.txt`,
            fileType: 'text/plain',
          }),
        ),
      );
      const keys = stored.map((result) => result.key);

      await page.getByRole('button', { name: 'Refresh' }).click();
      const rows = page.locator('#assets-table tbody tr');
      await expect.poll(() => rows.count(), SLOW).toBe(20);
      const more = page.getByRole('button', { name: 'Load more' });
      await more.click();
      await expect.poll(() => rows.count(), SLOW).toBe(21);
      await more.waitFor({ state: 'hidden' });
      expect(new Set(await rows.evaluateAll((found) => found.map((row) => row.getAttribute('data-key'))))).toEqual(new Set(keys));
      expect(await assetName(uploader.asset(keys[7]!))).toBe('asset-07.txt');

      const victim = uploader.asset(keys[0]!);
      await victim.getByRole('button', { name: 'Delete' }).click();
      await victim.getByRole('button', { name: 'Confirm delete' }).click();
      await victim.waitFor({ state: 'detached' });
      expect(await store.headObject(keys[0]!)).toBeNull();
      const { objects } = await api.trpc.object.list.query({ workspaceId, limit: 100 });
      expect(objects).toHaveLength(20);
      expect(objects.map((object) => object.fileName)).not.toContain('asset-00.txt');
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

/** The workspace's unfinished uploads, as the server lists them to any browser. */
async function openUploads(api: S3ServiceClient, workspaceId: string) {
  return (await api.trpc.upload.listOpen.query({ workspaceId, limit: 100 })).uploads;
}

/** The name a row of the asset list shows. */
function assetName(row: Locator): Promise<string | null> {
  return row.locator('.asset-name span').textContent();
}

function namesOf(rows: Element[]): Array<string | null> {
  return rows.map((row) => row.querySelector('.asset-name span')?.textContent ?? null);
}

/**
 * Clicks the row's Download and waits for the browser's download: the name the browser saves it
 * under, its bytes, and the Content-Disposition of the answer (read from the same signed URL
 * again, since a download's own response is not exposed).
 */
async function downloadFrom(row: Locator) {
  const [download] = await Promise.all([row.page().waitForEvent('download'), row.getByRole('button', { name: 'Download' }).click()]);
  const again = await fetch(download.url());
  await again.body?.cancel();
  expect(again.status).toBe(200);
  return {
    savedAs: download.suggestedFilename(),
    contentDisposition: again.headers.get('content-disposition'),
    bytes: await readFile((await download.path())!),
  };
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
