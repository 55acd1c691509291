import { initTRPC } from '@trpc/server';
import { z } from 'zod';
import type { AppContext } from './context.js';
import { toAppError } from './errors.js';
import { workspaceId } from './schemas.js';
import { wireTransformer } from './wire-transformer.js';

/**
 * Event streams (SSE) send a comment this often, so proxies that cut quiet connections (60 s is
 * common) leave them open, and the client reconnects when it heard nothing for the longer span.
 */
const SSE_PING_MS = 15_000;
const SSE_RECONNECT_AFTER_SILENCE_MS = 40_000;

const t = initTRPC.context<AppContext>().create({
  transformer: wireTransformer,
  isDev: false,
  sse: { ping: { enabled: true, intervalMs: SSE_PING_MS }, client: { reconnectAfterInactivityMs: SSE_RECONNECT_AFTER_SILENCE_MS } },
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

/**
 * Signing calls spend the workspace's budget of signed URLs (RATE_LIMIT_SIGNED_URLS_PER_WORKSPACE),
 * which counts their work, instead of a call each: a client signing checksummed parts makes one
 * call a part, and a fast upload would run out of calls long before it signed many URLs.
 */
const SPENDS_URL_BUDGET = new Set(['upload.signPart', 'upload.signParts']);

/**
 * Every procedure that names a workspace goes through here, and only here, to be authorized. In
 * this order, after the validated id: the policy decides, the request log learns the workspace,
 * the workspace's rate budget is spent. A caller the policy refuses never reaches the budget, so
 * it cannot spend another tenant's. One middleware, not three: each step of tRPC's chain copies
 * the call's options and context, which was a tenth of a signing call.
 */
export const workspaceProcedure = t.procedure.input(z.object({ workspaceId })).use(async ({ ctx, input, path, next }) => {
  const grant = await ctx.policy.authorizeWorkspace(ctx.caller, input.workspaceId);
  ctx.hooks.noteWorkspace?.(input.workspaceId);
  if (!SPENDS_URL_BUDGET.has(path)) await ctx.hooks.spendWorkspaceBudget?.(input.workspaceId);
  // Who the token says the caller is, recorded with what they upload; null without tokens.
  return next({ ctx: { actor: grant?.subject ?? null } });
});

/** Bucket-wide configuration. */
export const adminProcedure = t.procedure.use(async ({ ctx, next }) => {
  await ctx.policy.authorizeAdmin(ctx.caller);
  return next();
});

/**
 * A workspace's own configuration (its webhooks): the caller must hold the admin role and be
 * allowed this workspace, so an admin of one tenant cannot read or point another's webhooks.
 */
export const workspaceAdminProcedure = workspaceProcedure.use(async ({ ctx, next }) => {
  await ctx.policy.authorizeAdmin(ctx.caller);
  return next();
});
