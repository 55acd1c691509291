import type { ErrorRequestHandler } from 'express';
import { AppError, toAppError } from '../../errors.js';
import type { Logger } from '../../logger.js';

/**
 * The signed-URL routes answer errors themselves, in the service's `{ error, code }` shape, so
 * they behave the same whatever app mounts them.
 */
export function sendSignedUrlErrors(logger?: Pick<Logger, 'error'>): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const appError = fromExpressError(error) ?? toAppError(error);
    if (res.headersSent || req.socket.destroyed) {
      // Mid-body, or the client has gone: no answer is possible, only an honest cut.
      res.destroy();
      return;
    }
    if (appError.status >= 500) logger?.error({ err: error }, 'signed URL request failed');
    // A body we did not read (refused early) is not drained: the connection ends with the answer.
    if (!req.complete) res.setHeader('Connection', 'close');
    res.status(appError.status).json({ error: appError.message, code: appError.appCode });
  };
}

/** Express's own 4xx failures, such as a malformed percent-encoding in the path. */
function fromExpressError(error: unknown): AppError | undefined {
  if (error instanceof AppError || typeof error !== 'object' || error === null) return undefined;
  const status = (error as { status?: unknown }).status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  return new AppError('INVALID_PARAMETER', 'malformed request URL', { cause: error });
}
