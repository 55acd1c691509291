import type { IncomingMessage } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, toAppError } from '../errors.js';
import { noteError } from './request-facts.js';

/** Express's body parser reports its own failures with a `type`; give them the service's codes. */
function fromBodyParser(error: unknown): AppError | undefined {
  const type = (error as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large') return new AppError('PAYLOAD_TOO_LARGE', 'request body is too large');
  if (type === 'entity.parse.failed') return new AppError('INVALID_PARAMETER', 'request body must be valid JSON');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new AppError('INVALID_PARAMETER', 'request body encoding is not supported');
  }
  return undefined;
}

/** The body could not be read because the client went away before sending all of it. */
function clientLeftMidBody(error: unknown, req: IncomingMessage): boolean {
  const type = (error as { type?: unknown } | null)?.type;
  return type === 'request.aborted' || (!req.complete && req.destroyed);
}

/**
 * The one place an error becomes `{ error, code }`; stack traces go to the log, never out. The
 * request log's closing line reports the code (and, for 5xx, the error with its cause).
 */
export function errorResponder(): ErrorRequestHandler {
  return (error, req, res, _next) => {
    if (clientLeftMidBody(error, req)) {
      // Nobody is left to answer and nothing failed here (the request log shows 499).
      res.destroy();
      return;
    }
    const appError = fromBodyParser(error) ?? toAppError(error);
    noteError(res, appError);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(appError.status).json({ error: appError.message, code: appError.appCode });
  };
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new AppError('NOT_FOUND', `no route for ${req.method} ${req.path}`));
};
