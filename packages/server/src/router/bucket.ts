import type { TRPCRouterRecord } from '@trpc/server';
import type { CorsRule } from '../schemas.js';
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

export const bucketRouter = {
  getCors: adminProcedure.query(async ({ ctx }) => ({ CORSRules: await ctx.store.getCorsRules() })),

  updateCors: adminProcedure.mutation(async ({ ctx }) => {
    await ctx.store.putCorsRules(DEFAULT_CORS_RULES);
    return { success: true as const };
  }),
} satisfies TRPCRouterRecord;
