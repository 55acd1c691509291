import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../logger.js';
import { redactUrl } from './redact-url.js';
import { requestFacts } from './request-facts.js';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id.js';

/** Probes run every few seconds; a healthy answer is not worth a line at info. */
const PROBE_PATHS = new Set(['/healthz', '/readyz']);

/**
 * One JSON line per request when its response ends (or its connection drops): request id,
 * method, URL without secrets, route, status, latency, workspace and, on failures, the error code
 * and S3's request id. pino-http does the bookkeeping; the line itself is this module's, flat and
 * the same on success and failure. `loggerOf(req)` gives handlers the logger that carries the id.
 */
export function requestLogger(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    // The request's logger only binds its id; the line below says everything else once.
    quietReqLogger: true,
    quietResLogger: true,
    // pino-http also binds the request to a second child logger for each request, which the
    // quiet loggers above never use: serializing it for nothing was a quarter of a signing call's
    // log cost. No line here names the request object; describeExchange says what it was.
    wrapSerializers: false,
    serializers: { req: () => undefined },
    genReqId: (req, res) => {
      const reqId = requestIdFor(req);
      res.setHeader(REQUEST_ID_HEADER, reqId);
      return reqId;
    },
    customLogLevel: (req, res) => (failureOf(req, res) ? 'error' : PROBE_PATHS.has(pathOf(req)) && res.statusCode < 400 ? 'debug' : 'info'),
    customSuccessMessage: (req, res) => messageOf(req, res),
    customErrorMessage: (req, res) => messageOf(req, res),
    customSuccessObject: (req, res, line: { responseTime: number }) => describeExchange(req, res, line.responseTime),
    customErrorObject: (req, res, _error, line: { responseTime: number }) => describeExchange(req, res, line.responseTime),
  });
}

/** The request's logger (carrying its id), or `fallback` outside a logged request. */
export function loggerOf(req: IncomingMessage, fallback: Logger): Logger {
  return (req as IncomingMessage & { log?: Logger }).log ?? fallback;
}

/** What went wrong, when something did: the error a handler noted, or a 5xx answer. */
function failureOf(req: IncomingMessage, res: ServerResponse): Error | undefined {
  const status = loggedStatus(req, res);
  return requestFacts(res).failure ?? (status >= 500 ? new Error(`failed with status code ${status}`) : undefined);
}

function messageOf(req: IncomingMessage, res: ServerResponse): string {
  const line = `${req.method} ${routeOf(req, res)} ${loggedStatus(req, res)}`;
  return failureOf(req, res) ? `${line} failed` : line;
}

/**
 * nginx's "client closed request": the client left before its request body had all arrived, so
 * no answer went out, whatever status the response object holds.
 */
const CLIENT_CLOSED_REQUEST = 499;

function loggedStatus(req: IncomingMessage, res: ServerResponse): number {
  return !req.complete && !res.writableFinished ? CLIENT_CLOSED_REQUEST : res.statusCode;
}

function describeExchange(req: IncomingMessage, res: ServerResponse, latencyMs: number): Record<string, unknown> {
  const facts = requestFacts(res);
  const status = loggedStatus(req, res);
  const fields: Record<string, unknown> = {
    method: req.method,
    url: redactUrl((req as Request).originalUrl ?? req.url ?? ''),
    // A route that failed before matching (a refused capability) is logged by its path: redacted too.
    route: redactUrl(routeOf(req, res)),
    status,
    latencyMs,
    // A response cut before its end (client gone, download stalled) is not a success whatever its status.
    completed: res.writableFinished,
  };
  if (facts.workspaces.size > 0) fields.workspace = [...facts.workspaces].join(',');
  if (facts.code) fields.code = facts.code;
  if (facts.error) fields.error = facts.error;
  if (facts.storeRequestId) fields.storeRequestId = facts.storeRequestId;
  const failure = failureOf(req, res);
  if (failure) fields.err = failure;
  return fields;
}

/**
 * The route pattern, so that lines group by endpoint: Express's matched route, or the tRPC
 * procedure path. Paths that matched nothing are not echoed, which keeps their number bounded.
 */
function routeOf(req: IncomingMessage, res: ServerResponse): string {
  const express = req as Partial<Request>;
  const path = pathOf(req);
  if (express.route && typeof express.route.path === 'string') {
    // A fixed route is its own path (the router's prefix may already be popped after an error);
    // a pattern (`/*key`) must not echo the keys it matched.
    return /[:*]/.test(express.route.path) ? `${express.baseUrl ?? ''}${express.route.path}` : path;
  }
  if (path.startsWith('/trpc/')) return path.slice(0, 200);
  if (PROBE_PATHS.has(path)) return path;
  return res.statusCode === 404 ? '(unmatched)' : path.slice(0, 200);
}

function pathOf(req: IncomingMessage): string {
  const url = (req as Partial<Request>).originalUrl ?? req.url ?? '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
