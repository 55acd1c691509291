import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { assetId, etag, fileType, MAX_PARTS, partNumber, partSize, uploadId } from '../schemas.js';
import { assetKey, newAssetId } from '../storage/keys.js';
import { multipartEtag } from '../storage/multipart.js';
import type { ObjectStore } from '../storage/store.js';
import { workspaceProcedure } from '../trpc.js';
import { assertFileTypeAllowed, assertWithinSizeLimit } from '../upload-rules.js';

/** The documented lifetime of a part URL. */
export const PART_URL_EXPIRES_IN = 3600;

const uploadRef = z.object({ assetId, uploadId });

const completeInput = uploadRef.extend({
  parts: z
    .array(z.object({ partNumber, etag }), { error: 'must be a list of { partNumber, etag }' })
    .min(1, { error: 'must list at least one part' })
    .max(MAX_PARTS, { error: `must list at most ${MAX_PARTS} parts` }),
});

const signPartInput = uploadRef.extend({
  partNumber,
  /** Pins the URL to a body of exactly this many bytes. */
  contentLength: partSize.optional(),
});

const signPartsInput = uploadRef
  .extend({
    partNumbers: z
      .array(partNumber, { error: 'must be a list of part numbers' })
      .min(1, { error: 'must list at least one part number' })
      .max(MAX_PARTS, { error: `must list at most ${MAX_PARTS} part numbers` })
      .refine((numbers) => new Set(numbers).size === numbers.length, { error: 'must not repeat a part number' }),
    /** One byte length per part number: each URL then accepts a body of exactly that size. */
    partSizes: z.array(partSize, { error: 'must be a list of byte lengths' }).max(MAX_PARTS).optional(),
  })
  .refine((input) => !input.partSizes || input.partSizes.length === input.partNumbers.length, {
    error: 'must give one size per part number',
    path: ['partSizes'],
  });

export const uploadRouter = {
  start: workspaceProcedure.input(z.object({ fileType })).mutation(async ({ ctx, input }) => {
    assertFileTypeAllowed(input.fileType, ctx.uploads);
    const newId = newAssetId();
    const key = assetKey(input.workspaceId, newId);
    const { uploadId: createdId } = await ctx.store.createMultipartUpload(key, input.fileType);
    return { uploadId: createdId, assetId: newId, key };
  }),

  signPart: workspaceProcedure.input(signPartInput).query(async ({ ctx, input }) => {
    const key = assetKey(input.workspaceId, input.assetId);
    const contentLengths = input.contentLength === undefined ? undefined : [input.contentLength];
    if (contentLengths) assertWithinSizeLimit(input.contentLength!, ctx.uploads);
    await ctx.store.assertUploadOpen(key, input.uploadId);
    const [url] = await ctx.store.signPartUrls(key, input.uploadId, [input.partNumber], PART_URL_EXPIRES_IN, { contentLengths });
    return { url: url!, expiresIn: PART_URL_EXPIRES_IN };
  }),

  /** One upload check for the whole batch: a client signs hundreds of parts in one call. */
  signParts: workspaceProcedure.input(signPartsInput).mutation(async ({ ctx, input }) => {
    const key = assetKey(input.workspaceId, input.assetId);
    if (input.partSizes)
      assertWithinSizeLimit(
        input.partSizes.reduce((sum, size) => sum + size, 0),
        ctx.uploads,
      );
    await ctx.store.assertUploadOpen(key, input.uploadId);
    const urls = await ctx.store.signPartUrls(key, input.uploadId, input.partNumbers, PART_URL_EXPIRES_IN, {
      contentLengths: input.partSizes,
    });
    return {
      parts: input.partNumbers.map((number, index) => ({ partNumber: number, url: urls[index]! })),
      expiresIn: PART_URL_EXPIRES_IN,
    };
  }),

  listParts: workspaceProcedure.input(uploadRef).query(async ({ ctx, input }) => {
    const key = assetKey(input.workspaceId, input.assetId);
    return { parts: await ctx.store.listParts(key, input.uploadId) };
  }),

  complete: workspaceProcedure.input(completeInput).mutation(async ({ ctx, input }) => {
    const key = assetKey(input.workspaceId, input.assetId);
    if (ctx.uploads.maxUploadBytes !== undefined) await assertPartsWithinLimit(ctx.store, key, input.uploadId, input.parts, ctx.uploads);
    const { etag: objectEtag } = await completeOnce(ctx.store, key, input.uploadId, input.parts);
    return { success: true as const, key, location: `s3://${ctx.store.bucket}/${key}`, etag: objectEtag };
  }),

  abort: workspaceProcedure.input(uploadRef).mutation(async ({ ctx, input }) => {
    await ctx.store.abortMultipartUpload(assetKey(input.workspaceId, input.assetId), input.uploadId);
    return { success: true as const };
  }),
} satisfies TRPCRouterRecord;

/** The limit is judged on what the store holds, not on what the caller says it sent. */
async function assertPartsWithinLimit(
  store: ObjectStore,
  key: string,
  id: string,
  parts: ReadonlyArray<{ partNumber: number }>,
  rules: Parameters<typeof assertWithinSizeLimit>[1],
): Promise<void> {
  let stored: Awaited<ReturnType<ObjectStore['listParts']>>;
  try {
    stored = await store.listParts(key, id);
  } catch (error) {
    // A finished upload is judged by completeOnce (a retried complete must still succeed).
    if (error instanceof AppError && error.appCode === 'INVALID_UPLOAD_ID') return;
    throw error;
  }
  const listed = new Set(parts.map((part) => part.partNumber));
  const total = stored.filter((part) => listed.has(part.partNumber)).reduce((sum, part) => sum + part.size, 0);
  assertWithinSizeLimit(total, rules);
}

/**
 * A complete whose answer was lost gets retried; the upload is gone by then. When the object at
 * the key is exactly what these parts assemble to (same multipart ETag), the retry succeeds too.
 */
async function completeOnce(
  store: ObjectStore,
  key: string,
  id: string,
  parts: ReadonlyArray<{ partNumber: number; etag: string }>,
): Promise<{ etag: string }> {
  try {
    return await store.completeMultipartUpload(key, id, parts);
  } catch (error) {
    if (!(error instanceof AppError) || error.appCode !== 'INVALID_UPLOAD_ID') throw error;
    const expected = multipartEtag(parts.map((part) => part.etag));
    const existing = expected ? await store.headObject(key) : null;
    if (existing && existing.etag === expected) return { etag: existing.etag };
    throw error;
  }
}
