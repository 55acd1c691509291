import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { expiresIn, objectKey } from '../schemas.js';
import { assetPrefix, parseAssetKey } from '../storage/keys.js';
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
});

export const objectRouter = {
  /** The workspace's assets in key order, a page at a time. */
  list: workspaceProcedure.input(listInput).query(async ({ ctx, input }) => {
    const page = await ctx.store.listObjects(assetPrefix(input.workspaceId), { cursor: input.cursor, limit: input.limit });
    return { objects: page.objects, nextCursor: page.nextCursor ?? null };
  }),

  /** A signed GET URL for `<a href>` / `<img src>`; 404 when nothing is there to fetch. */
  downloadUrl: workspaceProcedure.input(objectRef.extend({ expiresIn: expiresIn.optional() })).query(async ({ ctx, input }) => {
    const { key } = parseAssetKey(input.workspaceId, input.key);
    if (!(await ctx.store.headObject(key))) throw new AppError('NOT_FOUND', `no object at ${key}`);
    const lifetime = input.expiresIn ?? DOWNLOAD_URL_EXPIRES_IN;
    return { url: await ctx.store.signGetUrl(key, lifetime), expiresIn: lifetime };
  }),

  head: workspaceProcedure.input(objectRef).query(async ({ ctx, input }) => {
    const { key } = parseAssetKey(input.workspaceId, input.key);
    const info = await ctx.store.headObject(key);
    if (!info) throw new AppError('NOT_FOUND', `no object at ${key}`);
    return info;
  }),

  delete: workspaceProcedure.input(objectRef).mutation(async ({ ctx, input }) => {
    const { key } = parseAssetKey(input.workspaceId, input.key);
    await ctx.store.deleteObject(key);
    return { success: true as const };
  }),
} satisfies TRPCRouterRecord;
