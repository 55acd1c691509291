import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { objectKey } from '../schemas.js';
import { parseAssetKey } from '../storage/keys.js';
import { workspaceProcedure } from '../trpc.js';

const byteRange = z.union([
  z.object({ start: z.number().int().min(0), end: z.number().int().min(0).optional() }),
  // A suffix of 0 bytes is valid input and unsatisfiable (416), judged by the store as S3 would.
  z.object({ suffixLength: z.number().int().min(0) }),
]);

/**
 * Opens an object as a stream. A stream cannot cross the tRPC wire, so this router is reachable
 * only through the server-side caller of the REST adapter, never mounted at /trpc.
 */
export const downloadRouter = {
  open: workspaceProcedure.input(z.object({ key: objectKey, range: byteRange.optional() })).query(async ({ ctx, input }) => {
    const { key } = parseAssetKey(input.workspaceId, input.key);
    return ctx.store.getObject(key, { range: input.range, signal: ctx.signal });
  }),
} satisfies TRPCRouterRecord;
