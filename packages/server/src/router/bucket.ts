import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { type CorsRule, corsRule, uploadExpiryDays } from '../schemas.js';
import { adminProcedure } from '../trpc.js';

/** The documented defaults: browsers may PUT parts from any origin and read each part's ETag. */
export const DEFAULT_CORS_RULES: CorsRule[] = [
  {
    AllowedMethods: ['GET', 'POST', 'PUT', 'DELETE'],
    AllowedOrigins: ['*'],
    AllowedHeaders: ['*'],
    ExposeHeaders: ['ETag'],
  },
];

/**
 * Custom rules must keep the upload flow working in browsers (a rule allows PUT, and every rule
 * that does exposes ETag) and must not admit the opaque `null` origin of sandboxed documents.
 */
const customCorsRules = z
  .array(corsRule)
  .min(1, { error: 'must hold at least one rule' })
  .max(100, { error: 'must hold at most 100 rules' })
  .superRefine((rules, ctx) => {
    const puts = rules.filter((rule) => rule.AllowedMethods.includes('PUT'));
    if (puts.length === 0) ctx.addIssue({ code: 'custom', message: 'a rule must allow PUT, or browsers cannot upload parts' });
    for (const rule of puts) {
      if (!rule.ExposeHeaders?.some((header) => header.toLowerCase() === 'etag')) {
        ctx.addIssue({ code: 'custom', message: 'every rule that allows PUT must expose ETag' });
        break;
      }
    }
    if (rules.some((rule) => rule.AllowedOrigins.some((origin) => origin.trim().toLowerCase() === 'null'))) {
      ctx.addIssue({ code: 'custom', message: 'the null origin may not be allowed' });
    }
  });

/**
 * Without rules, applies the documented defaults. With `abortIncompleteUploadsAfterDays`, also
 * has S3 abort abandoned multipart uploads that many days after they started (a lifecycle rule
 * of its own ID; the bucket's other lifecycle rules are kept). Without it, lifecycle is untouched.
 */
const updateConfig = adminProcedure
  .input(z.object({ rules: customCorsRules.optional(), abortIncompleteUploadsAfterDays: uploadExpiryDays.optional() }).optional())
  .mutation(async ({ ctx, input }) => {
    const days = input?.abortIncompleteUploadsAfterDays;
    // Refused before anything changes, so a request either applies whole or not at all here.
    if (days !== undefined && !ctx.store.abortIncompleteUploadsAfter) {
      throw new AppError(
        'INVALID_PARAMETER',
        'abortIncompleteUploadsAfterDays: this store has no lifecycle rules; run the cleanup (UPLOAD_CLEANUP_INTERVAL_MINUTES) instead',
      );
    }
    // First, so that a store without a bucket CORS API (NOT_SUPPORTED) leaves lifecycle untouched too.
    await ctx.store.putCorsRules(input?.rules ?? DEFAULT_CORS_RULES);
    if (days !== undefined) await ctx.store.abortIncompleteUploadsAfter?.(days);
    return { success: true as const };
  });

export const bucketRouter = {
  getCors: adminProcedure.query(async ({ ctx }) => ({ CORSRules: await ctx.store.getCorsRules() })),
  /** The bucket's CORS rules and, optionally, its cleanup of abandoned uploads (POST /s3/updateBucketConfig). */
  updateConfig,
  /** @deprecated It also writes lifecycle rules, which the name hides: use `bucket.updateConfig`, the same procedure. */
  updateCors: updateConfig,
} satisfies TRPCRouterRecord;
