import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { workspaceId } from '../schemas.js';
import { adminProcedure, workspaceProcedure } from '../trpc.js';

const quotaBytes = z
  .number({ error: 'must be a number of bytes, or null for the server default' })
  .int({ error: 'must be a whole number of bytes' })
  .min(0, { error: 'must not be negative' })
  .max(Number.MAX_SAFE_INTEGER);

export const workspaceRouter = {
  /** What the workspace holds and may still hold: bytes, assets, open uploads and their reservations, the quota. */
  usage: workspaceProcedure.query(({ ctx, input }) => ctx.catalog.usage(input.workspaceId, ctx.quotas)),

  /** An admin sets one workspace's quota in bytes; null returns it to the server default (WORKSPACE_QUOTA_BYTES). */
  setQuota: adminProcedure.input(z.object({ workspaceId, quotaBytes: quotaBytes.nullable() })).mutation(async ({ ctx, input }) => {
    await ctx.catalog.setQuota(input.workspaceId, input.quotaBytes);
    return ctx.catalog.usage(input.workspaceId, ctx.quotas);
  }),
} satisfies TRPCRouterRecord;
