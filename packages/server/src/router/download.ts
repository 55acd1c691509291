import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { isAppError } from '../errors.js';
import { objectKey } from '../schemas.js';
import { UnsatisfiableRangeError } from '../storage/byte-range.js';
import { parseChecksum } from '../storage/checksum.js';
import { parseAssetKey } from '../storage/keys.js';
import type { ObjectStore } from '../storage/store.js';
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
    // The name comes from the catalogue, asked beside the store so the first byte waits for neither twice.
    const [object, asset] = await Promise.all([
      ctx.store.getObject(key, { range: input.range, signal: ctx.signal() }).catch(async (error: unknown) => {
        throw await withObjectSize(ctx.store, key, error);
      }),
      ctx.catalog.findAsset(input.workspaceId, key).catch(() => null),
    ]);
    // S3 tells an object's checksum only when asked apart; the catalogue recorded it at complete.
    const checksum = object.checksum ?? parseChecksum(asset?.checksum);
    // The catalogue's type is what complete found the bytes to be; the store keeps the declared one.
    const contentType = asset?.fileType || object.contentType;
    return { ...object, contentType, fileName: asset?.fileName ?? null, ...(checksum ? { checksum } : {}) };
  }),
} satisfies TRPCRouterRecord;

/** A 416 names the object's size; S3 does not tell it with its refusal, so it is asked for. */
async function withObjectSize(store: ObjectStore, key: string, error: unknown): Promise<unknown> {
  if (!isAppError(error) || error.appCode !== 'RANGE_NOT_SATISFIABLE') return error;
  if (error instanceof UnsatisfiableRangeError && error.objectSize !== undefined) return error;
  const size = (await store.headObject(key).catch(() => null))?.size;
  return new UnsatisfiableRangeError(error.message, size);
}
