import { initTRPC } from '@trpc/server';
import { z } from 'zod';
import type { AccessPolicy, CallerInfo } from './auth/policy.js';
import type { UploadRules } from './config.js';
import { toAppError } from './errors.js';
import type { Logger } from './logger.js';
import { workspaceId } from './schemas.js';
import type { ObjectStore } from './storage/store.js';
import { wireTransformer } from './wire-transformer.js';

export interface AppContext {
  store: ObjectStore;
  policy: AccessPolicy;
  uploads: UploadRules;
  logger: Logger;
  caller: CallerInfo;
  /** Aborted when the HTTP client goes away, so long reads stop with it. */
  signal?: AbortSignal;
}

/** The context without HTTP: what router tests and the REST adapter build. */
export function createContextInner(context: AppContext): AppContext {
  return context;
}

const t = initTRPC.context<AppContext>().create({
  transformer: wireTransformer,
  isDev: false,
  errorFormatter({ shape, error, input, ctx }) {
    const appError = toAppError(error, { input });
    if (appError.appCode === 'INTERNAL_ERROR') ctx?.logger.error({ err: error.cause ?? error }, 'procedure failed');
    return {
      message: appError.message,
      code: shape.code,
      data: { code: appError.appCode, httpStatus: appError.status, path: shape.data.path },
    };
  },
});

export const router = t.router;
export const mergeRouters = t.mergeRouters;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure;

/** Every procedure that names a workspace goes through here, and only here, to be authorized. */
export const workspaceProcedure = t.procedure.input(z.object({ workspaceId })).use(async ({ ctx, input, next }) => {
  await ctx.policy.authorizeWorkspace(ctx.caller, input.workspaceId);
  return next();
});

/** Bucket-wide configuration. */
export const adminProcedure = t.procedure.use(async ({ ctx, next }) => {
  await ctx.policy.authorizeAdmin(ctx.caller);
  return next();
});
