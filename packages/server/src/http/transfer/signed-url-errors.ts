import type { ErrorRequestHandler } from 'express';
import { AppError, toAppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { discardBody, REFUSED_BODY_LIMITS } from './refused-body.js';

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
    // A body refused before it was read (bad signature, unknown upload, declared too large) is
    // answered at once and then read to its end, within bounds, while the client sends it: the
    // client stops at the answer or finishes sending and reads it, either way without a reset.
    // `Connection: close` (shutdown) would end the socket with those bytes unread, so it goes;
    // the shutdown closes the connection once it is idle.
    const unread = !req.complete;
    if (unread) res.removeHeader('Connection');
    res.status(appError.status).json({ error: appError.message, code: appError.appCode });
    if (unread) discardBody(req, REFUSED_BODY_LIMITS);
  };
}

/** Express's own 4xx failures, such as a malformed percent-encoding in the path. */
function fromExpressError(error: unknown): AppError | undefined {
  if (error instanceof AppError || typeof error !== 'object' || error === null) return undefined;
  const status = (error as { status?: unknown }).status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  return new AppError('INVALID_PARAMETER', 'malformed request URL', { cause: error });
}
