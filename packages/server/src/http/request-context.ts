import type { Request, Response } from 'express';
import { type AppContext, type CallHooks, type ContextDependencies, createContextInner } from '../context.js';
import type { WorkspaceLimiter } from './rate-limit.js';
import type { SigningLimiter } from './rate-limit-work.js';
import { requestFacts } from './request-facts.js';
import { loggerOf } from './request-log.js';

export interface AppDependencies extends ContextDependencies {
  /** The per-workspace budget; absent: no per-workspace limit. */
  workspaceLimiter?: WorkspaceLimiter;
  /** The per-workspace budget of signed part URLs; absent: none. */
  signingLimiter?: SigningLimiter;
  /** A download whose bytes stop moving this long is cut. */
  downloadIdleTimeoutMs: number;
}

/**
 * One context per HTTP request, for /trpc and /s3 alike. A request the per-IP limit refused is
 * refused here for tRPC, so that every call of a batch answers RATE_LIMITED in tRPC's own shape.
 */
export function createRequestContext(deps: AppDependencies, req: Request, res: Response): AppContext {
  const refusal = requestFacts(res).rateLimited;
  if (refusal) throw refusal;
  return createContextInner(deps, {
    caller: { headers: req.headers, ip: req.ip },
    logger: () => loggerOf(req, deps.logger),
    signal: closeSignal(res),
    hooks: requestHooks(deps, res),
    // Express reads X-Forwarded-Proto and -Host only from the proxies `trust proxy` names.
    requestOrigin: () => `${req.protocol}://${req.host}`,
  });
}

/**
 * What a call authorized for a workspace tells this request: the request log writes the
 * workspace, and the call counts against that workspace's budget (REST and tRPC alike).
 */
function requestHooks(deps: AppDependencies, res: Response): CallHooks {
  const { workspaceLimiter, signingLimiter } = deps;
  return {
    noteWorkspace: (workspaceId) => {
      requestFacts(res).workspaces.add(workspaceId);
    },
    ...(workspaceLimiter ? { spendWorkspaceBudget: (workspaceId: string) => workspaceLimiter.consume(workspaceId, res) } : {}),
    ...(signingLimiter
      ? { spendSigningBudget: (workspaceId: string, urls: number) => signingLimiter.consume(workspaceId, urls, res) }
      : {}),
  };
}

/**
 * A signal that fires when the client goes away before the response finished. Made on first use:
 * only downloads read it, and an AbortSignal costs Node 20 several microseconds to create.
 */
function closeSignal(res: Response): () => AbortSignal {
  let controller: AbortController | undefined;
  let closedEarly = false;
  const reason = () => new Error('client closed the connection');
  res.once('close', () => {
    if (res.writableFinished) return;
    closedEarly = true;
    controller?.abort(reason());
  });
  return () => {
    if (!controller) {
      controller = new AbortController();
      if (closedEarly) controller.abort(reason());
    }
    return controller.signal;
  };
}
