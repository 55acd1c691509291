import type { TRPCRouterRecord } from '@trpc/server';
import pLimit from 'p-limit';
import { z } from 'zod';
import { describeChecksum } from '../assets/objects.js';
import { abortUpload, completeUpload, listStoredParts, prepareSigning, startUpload } from '../assets/uploads.js';
import type { UploadRecord } from '../catalog/catalog.js';
import { isAppError } from '../errors.js';
import {
  assetId,
  checksumAlgorithm,
  etag,
  fileName,
  fileSize,
  fileType,
  MAX_PARTS,
  partChecksum,
  partNumber,
  partSize,
  uploadId,
} from '../schemas.js';
import type { ObjectStore } from '../storage/store.js';
import { workspaceProcedure } from '../trpc.js';

/** The documented lifetime of a part URL. */
export const PART_URL_EXPIRES_IN = 3600;

const uploadRef = z.object({ assetId, uploadId });

const startInput = z.object({
  fileType,
  /** Saved with the asset and served back as the download's name. */
  fileName: fileName.optional(),
  /** The whole file's size: held against the workspace's quota from the start. */
  fileSize: fileSize.optional(),
  /** The part size the client will use, so another device can resume with the same cut. */
  partSize: partSize.min(1, { error: 'must be at least 1 byte' }).optional(),
  /** Each part is then signed with its checksum, which the store holds its bytes to. */
  checksumAlgorithm: checksumAlgorithm.optional(),
});

const completeInput = uploadRef.extend({
  parts: z
    .array(z.object({ partNumber, etag, checksum: partChecksum.optional() }), { error: 'must be a list of { partNumber, etag }' })
    .min(1, { error: 'must list at least one part' })
    .max(MAX_PARTS, { error: `must list at most ${MAX_PARTS} parts` }),
});

const signPartInput = uploadRef.extend({
  partNumber,
  /** Pins the URL to a body of exactly this many bytes. */
  contentLength: partSize.optional(),
  /** Pins the URL to a body with this SHA-256 (uploads started with a checksumAlgorithm). */
  checksum: partChecksum.optional(),
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
    /** One base64 SHA-256 per part number: each URL then accepts only a body with those bytes. */
    checksums: z.array(partChecksum, { error: 'must be a list of base64 SHA-256 checksums' }).max(MAX_PARTS).optional(),
  })
  .refine((input) => !input.partSizes || input.partSizes.length === input.partNumbers.length, {
    error: 'must give one size per part number',
    path: ['partSizes'],
  })
  .refine((input) => !input.checksums || input.checksums.length === input.partNumbers.length, {
    error: 'must give one checksum per part number',
    path: ['checksums'],
  });

const listOpenInput = z.object({
  cursor: z.string().min(1).max(1024).optional(),
  limit: z.number().int().min(1, { error: 'must be from 1 to 100' }).max(100, { error: 'must be from 1 to 100' }).default(20),
});

/** Parts are counted in the store for a page of open uploads at once, a few at a time. */
const PART_COUNT_CONCURRENCY = 8;

export const uploadRouter = {
  start: workspaceProcedure.input(startInput).mutation(async ({ ctx, input }) => {
    const upload = await startUpload(ctx, { ...input, actor: ctx.actor });
    return { uploadId: upload.uploadId, assetId: upload.assetId, key: upload.key };
  }),

  signPart: workspaceProcedure.input(signPartInput).query(async ({ ctx, input }) => {
    await ctx.hooks.spendSigningBudget?.(input.workspaceId, 1);
    const sizes = input.contentLength === undefined ? undefined : [input.contentLength];
    const checksums = input.checksum === undefined ? undefined : [input.checksum];
    const key = await prepareSigning(ctx, input, [input.partNumber], sizes, checksums);
    const [url] = await ctx.store.signPartUrls(key, input.uploadId, [input.partNumber], PART_URL_EXPIRES_IN, {
      contentLengths: sizes,
      checksums,
    });
    const headers = partHeaders(ctx.store, input.checksum);
    return { url: url!, expiresIn: PART_URL_EXPIRES_IN, ...(headers ? { headers } : {}) };
  }),

  /** One upload check for the whole batch: a client signs hundreds of parts in one call. */
  signParts: workspaceProcedure.input(signPartsInput).mutation(async ({ ctx, input }) => {
    await ctx.hooks.spendSigningBudget?.(input.workspaceId, input.partNumbers.length);
    const key = await prepareSigning(ctx, input, input.partNumbers, input.partSizes, input.checksums);
    const urls = await ctx.store.signPartUrls(key, input.uploadId, input.partNumbers, PART_URL_EXPIRES_IN, {
      contentLengths: input.partSizes,
      checksums: input.checksums,
    });
    return {
      parts: input.partNumbers.map((number, index) => {
        const headers = partHeaders(ctx.store, input.checksums?.[index]);
        return { partNumber: number, url: urls[index]!, ...(headers ? { headers } : {}) };
      }),
      expiresIn: PART_URL_EXPIRES_IN,
    };
  }),

  listParts: workspaceProcedure.input(uploadRef).query(async ({ ctx, input }) => {
    const { parts, checksumAlgorithm } = await listStoredParts(ctx, input);
    return { parts, checksumAlgorithm: checksumAlgorithm ?? null };
  }),

  complete: workspaceProcedure.input(completeInput).mutation(async ({ ctx, input }) => {
    const { asset } = await completeUpload(ctx, input, input.parts);
    return {
      success: true as const,
      key: asset.key,
      location: `s3://${ctx.store.bucket}/${asset.key}`,
      etag: asset.etag,
      size: asset.size,
      fileName: asset.fileName,
      checksum: describeChecksum(asset.checksum),
    };
  }),

  abort: workspaceProcedure.input(uploadRef).mutation(async ({ ctx, input }) => {
    await abortUpload(ctx, input, ctx.actor);
    return { success: true as const };
  }),

  /**
   * The workspace's unfinished uploads, newest first, with what the store holds of each: any
   * device can resume one. An upload the store no longer has (expired by a lifecycle rule) is
   * marked expired and left out.
   */
  listOpen: workspaceProcedure.input(listOpenInput).query(async ({ ctx, input }) => {
    const page = await ctx.catalog.listOpenUploads(input.workspaceId, { cursor: input.cursor, limit: input.limit });
    const limit = pLimit(PART_COUNT_CONCURRENCY);
    const described = await Promise.all(page.uploads.map((upload) => limit(() => describeOpenUpload(ctx, upload))));
    return { uploads: described.filter((upload) => upload !== undefined), nextCursor: page.nextCursor ?? null };
  }),
} satisfies TRPCRouterRecord;

/** The headers a part PUT must send besides its body: the checksum, where the store reads it from a header. */
function partHeaders(store: ObjectStore, checksum: string | undefined): Record<string, string> | undefined {
  return checksum !== undefined && store.partChecksumHeader ? { [store.partChecksumHeader]: checksum } : undefined;
}

async function describeOpenUpload(ctx: Parameters<typeof completeUpload>[0], upload: UploadRecord) {
  let parts: Awaited<ReturnType<typeof ctx.store.listParts>>;
  try {
    parts = await ctx.store.listParts(upload.key, upload.uploadId);
  } catch (error) {
    if (!isAppError(error) || error.appCode !== 'INVALID_UPLOAD_ID') throw error;
    // A complete that has assembled the object and not yet recorded it leaves the store without
    // the upload too: that one is not expired (nor listed, as it is finishing).
    if (!(await ctx.store.headObject(upload.key))) await ctx.catalog.finishUpload(upload.workspaceId, upload.uploadId, 'expired');
    return undefined;
  }
  return {
    uploadId: upload.uploadId,
    assetId: upload.assetId,
    key: upload.key,
    fileName: upload.fileName,
    fileType: upload.fileType,
    fileSize: upload.declaredSize,
    partSize: upload.partSize,
    partsDone: parts.length,
    bytesDone: parts.reduce((sum, part) => sum + part.size, 0),
    startedAt: upload.startedAt,
    startedBy: upload.startedBy,
  };
}
