import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AssetRecord, Catalog, NewUpload, UploadRecord } from '../src/catalog/catalog.js';
import { AppError } from '../src/errors.js';

/** Every catalogue engine passes this one suite, as every store passes the store suite. */
export function catalogConformance(name: string, open: () => Promise<Catalog>): void {
  describe(`catalogue conformance: ${name}`, () => {
    let catalog: Catalog;
    beforeAll(async () => {
      catalog = await open();
      return () => catalog.close();
    });

    const workspace = () => `ws-${randomUUID().slice(0, 8)}`;
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const tick = () => {
      clock += 1000;
      return new Date(clock);
    };

    const newUpload = (workspaceId: string, overrides: Partial<NewUpload> = {}): NewUpload => {
      const assetId = randomUUID().replaceAll('-', '');
      return {
        workspaceId,
        uploadId: `up-${randomUUID()}`,
        assetId,
        key: `${workspaceId}/digital_assets/${assetId}`,
        fileName: 'report.pdf',
        fileType: 'application/pdf',
        declaredSize: null,
        partSize: null,
        startedBy: 'user-1',
        startedAt: tick(),
        ...overrides,
      };
    };

    const completeOne = async (workspaceId: string, fileName: string | null, size = 10): Promise<AssetRecord> => {
      const upload = await catalog.beginUpload(newUpload(workspaceId, { fileName }), {});
      return catalog.recordCompleted(upload, { size, etag: '"abc-1"', checksum: null, createdAt: tick() });
    };

    const codeOf = (promise: Promise<unknown>) =>
      promise.then(
        () => 'resolved',
        (error: unknown) => (error instanceof AppError ? error.appCode : String(error)),
      );

    it('records an open upload and finds it only in its own workspace', async () => {
      const ws = workspace();
      const started = await catalog.beginUpload(newUpload(ws, { declaredSize: 1234, partSize: 100 }), {});
      expect(started).toMatchObject({ state: 'open', reservedBytes: 1234, declaredSize: 1234, partSize: 100, finishedAt: null });
      expect(await catalog.findUpload(ws, started.uploadId)).toEqual(started);
      expect(await catalog.findUpload(workspace(), started.uploadId)).toBeNull();
    });

    it('records a completed upload as one asset however often the completion is recorded', async () => {
      const ws = workspace();
      const upload = await catalog.beginUpload(newUpload(ws, { declaredSize: 50 }), {});
      const completed = { size: 42, etag: '"e-2"', checksum: null, createdAt: tick() };
      const first = await catalog.recordCompleted(upload, completed);
      const second = await catalog.recordCompleted(upload, completed);
      expect(second).toEqual(first);
      expect(first).toMatchObject({ key: upload.key, fileName: 'report.pdf', size: 42, etag: '"e-2"', createdBy: 'user-1' });
      expect(await catalog.findUpload(ws, upload.uploadId)).toMatchObject({ state: 'completed', etag: '"e-2"', reservedBytes: 0 });
      expect(await catalog.usage(ws, {})).toMatchObject({ storedBytes: 42, assets: 1, openUploads: 0, reservedBytes: 0, quotaBytes: null });
    });

    it('records a completion the catalogue never saw start (an upload from before the catalogue)', async () => {
      const ws = workspace();
      const upload = { ...newUpload(ws), checksumAlgorithm: null, reservedBytes: 0, finishedAt: null, state: 'open' as const, etag: null };
      await catalog.recordCompleted(upload, { size: 7, etag: '"x"', checksum: null, createdAt: tick() });
      expect(await catalog.findAsset(ws, upload.key)).toMatchObject({ size: 7 });
      expect(await catalog.findUpload(ws, upload.uploadId)).toMatchObject({ state: 'completed' });
    });

    it('lists assets newest first, a page at a time, with cursors that survive new uploads', async () => {
      const ws = workspace();
      const made: AssetRecord[] = [];
      for (let index = 0; index < 5; index += 1) made.push(await completeOne(ws, `file-${index}.png`));
      const first = await catalog.listAssets(ws, { order: 'newest', limit: 2 });
      expect(first.assets.map((asset) => asset.fileName)).toEqual(['file-4.png', 'file-3.png']);
      await completeOne(ws, 'newer.png');
      const second = await catalog.listAssets(ws, { order: 'newest', limit: 2, cursor: first.nextCursor });
      expect(second.assets.map((asset) => asset.fileName)).toEqual(['file-2.png', 'file-1.png']);
      const third = await catalog.listAssets(ws, { order: 'newest', limit: 2, cursor: second.nextCursor });
      expect(third.assets.map((asset) => asset.fileName)).toEqual(['file-0.png']);
      expect(third.nextCursor).toBeUndefined();
      expect((await catalog.listAssets(workspace(), { order: 'newest', limit: 10 })).assets).toEqual([]);
    });

    it('lists by name ignoring case, unnamed assets by their id, and filters by a part of the name', async () => {
      const ws = workspace();
      for (const fileName of ['b.png', 'A.png', 'c_1.png', 'c%2.png', null]) await completeOne(ws, fileName);
      const all = await catalog.listAssets(ws, { order: 'name', limit: 100 });
      const names = all.assets.map((asset) => asset.fileName ?? asset.assetId);
      expect(names.slice(0, 5).filter((name) => name.endsWith('.png'))).toEqual(['A.png', 'b.png', 'c%2.png', 'c_1.png']);
      const paged: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await catalog.listAssets(ws, { order: 'name', limit: 2, cursor });
        paged.push(...page.assets.map((asset) => asset.key));
        cursor = page.nextCursor;
      } while (cursor);
      expect(paged).toEqual(all.assets.map((asset) => asset.key));
      const filtered = await catalog.listAssets(ws, { order: 'name', limit: 10, nameContains: '_' });
      expect(filtered.assets.map((asset) => asset.fileName)).toEqual(['c_1.png']);
      const percent = await catalog.listAssets(ws, { order: 'newest', limit: 10, nameContains: 'C%' });
      expect(percent.assets.map((asset) => asset.fileName)).toEqual(['c%2.png']);
    });

    it('refuses a cursor it did not make with INVALID_PARAMETER', async () => {
      expect(await codeOf(catalog.listAssets(workspace(), { order: 'newest', limit: 1, cursor: 'garbage' }))).toBe('INVALID_PARAMETER');
      const byName = await catalog.listAssets(workspace(), {
        order: 'name',
        limit: 1,
        cursor: Buffer.from('["a","k"]').toString('base64url'),
      });
      expect(byName).toBeDefined();
      expect(
        await codeOf(catalog.listAssets(workspace(), { order: 'name', limit: 1, cursor: Buffer.from('[1,2]').toString('base64url') })),
      ).toBe('INVALID_PARAMETER');
    }, 10_000);

    it('deletes an asset once and gives its bytes back to the workspace', async () => {
      const ws = workspace();
      const asset = await completeOne(ws, 'x.png', 100);
      expect(await catalog.deleteAsset(workspace(), asset.key)).toBe(false);
      expect(await catalog.deleteAsset(ws, asset.key)).toBe(true);
      expect(await catalog.deleteAsset(ws, asset.key)).toBe(false);
      expect(await catalog.findAsset(ws, asset.key)).toBeNull();
      expect(await catalog.usage(ws, {})).toMatchObject({ storedBytes: 0, assets: 0 });
    });

    it('refuses an upload whose declared size does not fit the quota, counting open reservations', async () => {
      const ws = workspace();
      const rules = { defaultQuotaBytes: 1000 };
      await completeOne(ws, 'held.bin', 400);
      await catalog.beginUpload(newUpload(ws, { declaredSize: 500 }), rules);
      expect(await codeOf(catalog.beginUpload(newUpload(ws, { declaredSize: 101 }), rules))).toBe('QUOTA_EXCEEDED');
      expect(await codeOf(catalog.assertRoomFor(ws, 101, rules))).toBe('QUOTA_EXCEEDED');
      await catalog.assertRoomFor(ws, 100, rules);
      expect(await catalog.usage(ws, rules)).toMatchObject({ storedBytes: 400, reservedBytes: 500, openUploads: 1, quotaBytes: 1000 });
    });

    it('grows a reservation but never shrinks it, and frees it when the upload ends', async () => {
      const ws = workspace();
      const rules = { defaultQuotaBytes: 1000 };
      const upload = await catalog.beginUpload(newUpload(ws, { declaredSize: 100 }), rules);
      expect(await catalog.reserve(ws, upload.uploadId, 600, rules)).toBe(true);
      expect(await catalog.reserve(ws, upload.uploadId, 50, rules)).toBe(true);
      expect((await catalog.findUpload(ws, upload.uploadId))?.reservedBytes).toBe(600);
      expect(await codeOf(catalog.reserve(ws, upload.uploadId, 1001, rules))).toBe('QUOTA_EXCEEDED');
      expect(await catalog.reserve(ws, 'unknown', 10, rules)).toBe(false);
      await catalog.finishUpload(ws, upload.uploadId, 'aborted');
      expect(await catalog.findUpload(ws, upload.uploadId)).toMatchObject({ state: 'aborted', reservedBytes: 0 });
      expect(await catalog.reserve(ws, upload.uploadId, 10, rules)).toBe(false);
      expect(await catalog.usage(ws, rules)).toMatchObject({ reservedBytes: 0, openUploads: 0 });
    });

    it('lets only one of two concurrent uploads take the last bytes of the quota', async () => {
      const ws = workspace();
      const rules = { defaultQuotaBytes: 1000 };
      const results = await Promise.all(
        Array.from({ length: 6 }, () => codeOf(catalog.beginUpload(newUpload(ws, { declaredSize: 600 }), rules))),
      );
      expect(results.filter((code) => code === 'resolved')).toHaveLength(1);
      expect(results.filter((code) => code === 'QUOTA_EXCEEDED')).toHaveLength(5);
    });

    it('keeps the reserved and stored counters exact under concurrent reserves, completions and aborts', async () => {
      const ws = workspace();
      const rules = { defaultQuotaBytes: 1_000_000 };
      const started = await Promise.all(Array.from({ length: 6 }, () => catalog.beginUpload(newUpload(ws, { declaredSize: 100 }), rules)));
      const [a, b, c, d, e] = started as [UploadRecord, UploadRecord, UploadRecord, UploadRecord, UploadRecord, UploadRecord];
      const completed = (upload: UploadRecord) =>
        catalog.recordCompleted(upload, {
          size: 150,
          etag: '"c"',
          checksum: null,
          createdAt: tick(),
        });
      await Promise.all([
        catalog.reserve(ws, a.uploadId, 300, rules),
        catalog.reserve(ws, a.uploadId, 250, rules),
        completed(b),
        completed(b),
        completed(c),
        catalog.finishUpload(ws, d.uploadId, 'aborted'),
        catalog.finishUpload(ws, d.uploadId, 'aborted'),
        catalog.reserve(ws, e.uploadId, 400, rules),
        catalog.finishUpload(ws, e.uploadId, 'expired'),
      ]);
      // Open: a (300), the sixth (100), and e only if its reserve ran after its expiry (then it is not open and holds nothing).
      const usage = await catalog.usage(ws, rules);
      expect(usage).toMatchObject({ openUploads: 2, reservedBytes: 400, storedBytes: 300, assets: 2 });
    });

    it('lets only the first of a complete and an abort end an upload, whichever comes first, and a complete end an expired one', async () => {
      const ws = workspace();
      const rules = { defaultQuotaBytes: 1_000_000 };
      const completedAt = { size: 150, etag: '"c"', checksum: null };
      const aborted = await catalog.beginUpload(newUpload(ws, { declaredSize: 100 }), rules);
      expect(await catalog.finishUpload(ws, aborted.uploadId, 'aborted')).toBe(true);
      expect(await catalog.finishUpload(ws, aborted.uploadId, 'aborted')).toBe(false);
      expect(await codeOf(catalog.recordCompleted(aborted, { ...completedAt, createdAt: tick() }))).toBe('INVALID_UPLOAD_ID');
      expect(await catalog.findUpload(ws, aborted.uploadId)).toMatchObject({ state: 'aborted', reservedBytes: 0 });
      expect(await catalog.findAsset(ws, aborted.key)).toBeNull();

      // Expiry only says the store no longer had the upload, as a complete that assembled it leaves it: the complete is recorded.
      const expired = await catalog.beginUpload(newUpload(ws, { declaredSize: 100 }), rules);
      expect(await catalog.finishUpload(ws, expired.uploadId, 'expired')).toBe(true);
      await catalog.recordCompleted(expired, { ...completedAt, createdAt: tick() });
      expect(await catalog.findUpload(ws, expired.uploadId)).toMatchObject({ state: 'completed' });

      const completed = await catalog.beginUpload(newUpload(ws, { declaredSize: 100 }), rules);
      await catalog.recordCompleted(completed, { ...completedAt, createdAt: tick() });
      expect(await catalog.finishUpload(ws, completed.uploadId, 'aborted')).toBe(false);
      expect(await catalog.findUpload(ws, completed.uploadId)).toMatchObject({ state: 'completed' });
      expect(await catalog.usage(ws, rules)).toMatchObject({ openUploads: 0, reservedBytes: 0, storedBytes: 300, assets: 2 });
    });

    it('takes a workspace quota override over the default, and goes back to the default on null', async () => {
      const ws = workspace();
      const rules = { defaultQuotaBytes: 100 };
      await catalog.setQuota(ws, 5000);
      expect(await catalog.usage(ws, rules)).toMatchObject({ quotaBytes: 5000, quotaOverridden: true });
      await catalog.beginUpload(newUpload(ws, { declaredSize: 4000 }), rules);
      await catalog.setQuota(ws, null);
      expect(await catalog.usage(ws, rules)).toMatchObject({ quotaBytes: 100, quotaOverridden: false });
      expect(await codeOf(catalog.beginUpload(newUpload(ws, { declaredSize: 1 }), rules))).toBe('QUOTA_EXCEEDED');
    });

    it('lists open uploads newest first with a cursor, and stale ones across workspaces', async () => {
      const ws = workspace();
      const started = [];
      for (let index = 0; index < 3; index += 1) started.push(await catalog.beginUpload(newUpload(ws, { fileName: `u${index}` }), {}));
      await catalog.finishUpload(ws, started[1]!.uploadId, 'expired');
      const first = await catalog.listOpenUploads(ws, { limit: 1 });
      expect(first.uploads.map((upload) => upload.fileName)).toEqual(['u2']);
      const second = await catalog.listOpenUploads(ws, { limit: 1, cursor: first.nextCursor });
      expect(second.uploads.map((upload) => upload.fileName)).toEqual(['u0']);
      expect(second.nextCursor).toBeUndefined();
      const stale = await catalog.listStaleUploads(new Date(started[2]!.startedAt.getTime()), 1000);
      expect(stale.map((upload) => upload.uploadId)).toContain(started[0]!.uploadId);
      expect(stale.map((upload) => upload.uploadId)).not.toContain(started[2]!.uploadId);
    });

    it('imports an asset once and scans every asset in key order', async () => {
      const ws = workspace();
      const asset: AssetRecord = {
        workspaceId: ws,
        assetId: 'imported1',
        key: `${ws}/digital_assets/imported1`,
        fileName: null,
        fileType: 'image/png',
        size: 5,
        etag: '"i"',
        checksum: null,
        createdAt: tick(),
        createdBy: null,
      };
      expect(await catalog.importAsset(asset)).toBe(true);
      expect(await catalog.importAsset(asset)).toBe(false);
      expect(await catalog.usage(ws, {})).toMatchObject({ assets: 1, storedBytes: 5 });
      const keys: string[] = [];
      let afterKey: string | undefined;
      for (;;) {
        const rows = await catalog.scanAssets({ afterKey, limit: 7 });
        if (rows.length === 0) break;
        keys.push(...rows.map((row) => row.key));
        afterKey = rows.at(-1)!.key;
      }
      expect(keys).toContain(asset.key);
      expect([...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(keys);
    });

    it('imports an open upload found in the store once, reserving nothing, and lists it as open', async () => {
      const ws = workspace();
      await catalog.setQuota(ws, 0);
      const found = newUpload(ws, { fileName: null, startedBy: null });
      expect(await catalog.importUpload(found)).toBe(true);
      expect(await catalog.importUpload({ ...found, fileType: 'image/png' })).toBe(false);
      expect(await catalog.findUpload(ws, found.uploadId)).toMatchObject({ state: 'open', reservedBytes: 0, fileType: 'application/pdf' });
      expect((await catalog.listOpenUploads(ws, { limit: 10 })).uploads.map((upload) => upload.uploadId)).toEqual([found.uploadId]);
      expect(await catalog.usage(ws, {})).toMatchObject({ openUploads: 1, reservedBytes: 0 });

      const finished = await catalog.beginUpload(newUpload(workspace()), {});
      await catalog.finishUpload(finished.workspaceId, finished.uploadId, 'aborted');
      expect(await catalog.importUpload(finished)).toBe(false);
      expect(await catalog.findUpload(finished.workspaceId, finished.uploadId)).toMatchObject({ state: 'aborted' });
    });

    it('says what opening it migrated', () => {
      expect(catalog.migrations.current).toMatch(/^\d{4}_/);
      expect(Array.isArray(catalog.migrations.applied)).toBe(true);
    });

    it('answers the readiness check', async () => {
      await catalog.checkReady();
    });
  });
}
