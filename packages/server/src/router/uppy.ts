import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { workspaceProcedure } from '../trpc.js';

/** Where the app mounts Uppy's Companion S3 adapter; an endpoint is `<origin>/uppy/<capability>`. */
export const UPPY_BASE_PATH = '/uppy';

export const capabilityInput = z.object({
  /** Default one hour; at most UPPY_CAPABILITY_MAX_SECONDS (one day unless configured). */
  expiresInSeconds: z
    .number({ error: 'must be a whole number of seconds' })
    .int({ error: 'must be a whole number of seconds' })
    .min(1, { error: 'must be at least 1 second' })
    .optional(),
});

export const uppyRouter = {
  /**
   * A `companionEndpoint` for `@uppy/aws-s3`: whoever may use the workspace may let a browser
   * upload into it for a while, without handing it a bearer token (Uppy sends none). Uploads
   * started through it are recorded as the minting caller's.
   */
  capability: workspaceProcedure.input(capabilityInput).mutation(async ({ ctx, input }) => {
    const issuer = ctx.uppyCapabilities;
    if (!issuer) throw new AppError('NOT_SUPPORTED', 'this server mints no upload capabilities');
    const { capability, expiresAt } = await issuer.mint({
      workspaceId: input.workspaceId,
      subject: ctx.actor ?? undefined,
      expiresInSeconds: input.expiresInSeconds,
    });
    const base = issuer.publicUrl ?? ctx.requestOrigin() ?? '';
    return { endpoint: `${base}${UPPY_BASE_PATH}/${capability}`, capability, expiresAt: expiresAt.toISOString() };
  }),
} satisfies TRPCRouterRecord;
