import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { prepareSigning } from '../assets/uploads.js';
import { assetId, partNumber, uploadId } from '../schemas.js';
import { workspaceProcedure } from '../trpc.js';

const writePartInput = z.object({
  assetId,
  uploadId,
  partNumber,
  /** The part's bytes, held in memory by the caller (at most one part at a time). */
  body: z.custom<Uint8Array>((value) => value instanceof Uint8Array, { error: 'must be bytes' }),
});

/**
 * Parts the server itself writes into an upload, for callers that send the whole file to us (the
 * form POST of Uppy's small files) instead of PUTting parts to signed URLs. The upload is checked
 * as for signing a part of that size (catalogue, store, size limit, quota reservation), so this
 * path grants nothing a part URL would not. Bytes cannot cross the tRPC wire: this router is
 * reachable only through the server-side caller, never mounted at /trpc.
 */
export const partWriteRouter = {
  writePart: workspaceProcedure.input(writePartInput).mutation(async ({ ctx, input }) => {
    const size = input.body.byteLength;
    const key = await prepareSigning(ctx, input, [input.partNumber], [size]);
    return ctx.store.uploadPart(key, input.uploadId, input.partNumber, input.body);
  }),
} satisfies TRPCRouterRecord;
