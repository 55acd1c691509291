import type { Request, Response } from 'express';
import type { AccessPolicy } from '../auth/policy.js';
import type { UploadRules } from '../config.js';
import type { Logger } from '../logger.js';
import type { ObjectStore } from '../storage/store.js';
import { type AppContext, createContextInner } from '../trpc.js';
import type { WorkspaceLimiter } from './rate-limit.js';
import { requestFacts } from './request-facts.js';
import { loggerOf } from './request-log.js';

export interface AppDependencies {
  store: ObjectStore;
  policy: AccessPolicy;
  uploads: UploadRules;
  logger: Logger;
  /** The per-workspace budget; absent: no per-workspace limit. */
  workspaceLimiter?: WorkspaceLimiter;
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
  const close = closeSignal(res);
  return createContextInner({
    store: deps.store,
    policy: requestPolicy(deps, res),
    uploads: deps.uploads,
    // Made on first use, like the signal: most calls never log.
    get logger() {
      return loggerOf(req, deps.logger);
    },
    caller: { headers: req.headers, ip: req.ip },
    get signal() {
      return close();
    },
  });
}

/**
 * The access policy, plus what follows a granted workspace: the request log learns the workspace
 * and the call counts against that workspace's budget. Every procedure that names a workspace
 * asks the policy after validating its input, so REST and tRPC are counted in one place.
 */
function requestPolicy(deps: AppDependencies, res: Response): AccessPolicy {
  const { policy, workspaceLimiter } = deps;
  return {
    async authorizeWorkspace(caller, workspaceId) {
      await policy.authorizeWorkspace(caller, workspaceId);
      requestFacts(res).workspaces.add(workspaceId);
      await workspaceLimiter?.consume(workspaceId, res);
    },
    authorizeAdmin: (caller) => policy.authorizeAdmin(caller),
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
