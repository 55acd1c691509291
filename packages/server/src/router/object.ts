import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { deleteAsset, describeAsset, findAsset } from '../assets/objects.js';
import { AppError } from '../errors.js';
import { catalogText, expiresIn, objectKey } from '../schemas.js';
import { parseAssetKey } from '../storage/keys.js';
import { workspaceProcedure } from '../trpc.js';

export const DOWNLOAD_URL_EXPIRES_IN = 3600;

const objectRef = z.object({ key: objectKey });

const listInput = z.object({
  cursor: z
    .string({ error: 'must be a cursor returned by object.list' })
    .min(1)
    .max(1024)
    .regex(/^[\x20-\x7e]+$/, { error: 'must be a cursor returned by object.list' })
    .optional(),
  limit: z.number().int().min(1, { error: 'must be from 1 to 1000' }).max(1000, { error: 'must be from 1 to 1000' }).default(100),
  /** `newest` (default): most recently completed first; `name`: by file name, ignoring case. */
  order: z.enum(['newest', 'name'], { error: 'must be newest or name' }).default('newest'),
  /** Only assets whose file name contains this text, ignoring case. */
  nameContains: catalogText().min(1).max(255, { error: 'must be at most 255 characters' }).optional(),
});

export const objectRouter = {
  /** The workspace's assets from the catalogue: one query a page, names included, no store request per asset. */
  list: workspaceProcedure.input(listInput).query(async ({ ctx, input }) => {
    const page = await ctx.catalog.listAssets(input.workspaceId, input);
    return { objects: page.assets.map(describeAsset), nextCursor: page.nextCursor ?? null };
  }),

  /** A signed GET URL for `<a href>` / `<img src>`, saved under the asset's name; 404 when nothing is there to fetch. */
  downloadUrl: workspaceProcedure.input(objectRef.extend({ expiresIn: expiresIn.optional() })).query(async ({ ctx, input }) => {
    const { key } = parseAssetKey(input.workspaceId, input.key);
    const asset = await findAsset(ctx, input.workspaceId, key);
    if (!asset) throw new AppError('NOT_FOUND', `no object at ${key}`);
    const lifetime = input.expiresIn ?? DOWNLOAD_URL_EXPIRES_IN;
    const url = await ctx.store.signGetUrl(key, lifetime, {
      fileName: asset.fileName ?? undefined,
      contentType: asset.fileType || undefined,
    });
    return { url, expiresIn: lifetime };
  }),

  head: workspaceProcedure.input(objectRef).query(async ({ ctx, input }) => {
    const { key } = parseAssetKey(input.workspaceId, input.key);
    const asset = await findAsset(ctx, input.workspaceId, key);
    if (!asset) throw new AppError('NOT_FOUND', `no object at ${key}`);
    return describeAsset(asset);
  }),

  delete: workspaceProcedure.input(objectRef).mutation(async ({ ctx, input }) => {
    const { key } = parseAssetKey(input.workspaceId, input.key);
    await deleteAsset(ctx, input.workspaceId, key, ctx.actor);
    return { success: true as const };
  }),
} satisfies TRPCRouterRecord;
