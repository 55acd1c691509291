import type { Request, Response } from 'express';
import type { AccessPolicy } from '../auth/policy.js';
import type { UploadRules } from '../config.js';
import type { Logger } from '../logger.js';
import type { ObjectStore } from '../storage/store.js';
import { createContextInner, type AppContext } from '../trpc.js';

export interface AppDependencies {
  store: ObjectStore;
  policy: AccessPolicy;
  uploads: UploadRules;
  logger: Logger;
}

/** One context per HTTP request, for /trpc and /s3 alike. */
export function createRequestContext(deps: AppDependencies, req: Request, res: Response): AppContext {
  return createContextInner({
    ...deps,
    caller: { headers: req.headers, ip: req.ip },
    signal: closeSignal(res),
  });
}

/** Fires when the client goes away before the response finished. */
function closeSignal(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
  });
  return controller.signal;
}
