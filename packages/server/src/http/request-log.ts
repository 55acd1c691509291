import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import { redactUrl } from './redact-url.js';
import { requestFacts } from './request-facts.js';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id.js';

/** Probes run every few seconds; a healthy answer is not worth a line at info. */
const PROBE_PATHS = new Set(['/healthz', '/readyz']);

/** Per request: its id, and its logger once somebody asked for one. */
const loggedRequests = new WeakMap<IncomingMessage, { reqId: string; logger?: Logger }>();

/**
 * One JSON line per request when its response ends (or its connection drops): request id,
 * method, URL without secrets, route, status, latency, workspace and, on failures, the error code
 * and S3's request id. `loggerOf(req)` gives handlers a logger that carries the request id.
 *
 * Written on pino directly rather than through pino-http: that middleware serializes every
 * request into a child logger it then does not use (with the quiet options wanted here), which
 * cost more CPU per control-plane request than the request itself (BENCHMARKS.md). The child
 * logger here is made only when a line is written.
 */
export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const startedAt = performance.now();
    const reqId = requestIdFor(req);
    res.setHeader(REQUEST_ID_HEADER, reqId);
    loggedRequests.set(req, { reqId });

    const onEnd = () => {
      res.off('finish', onEnd);
      res.off('close', onEnd);
      logExchange(logger, req, res, Math.round(performance.now() - startedAt));
    };
    res.on('finish', onEnd);
    res.on('close', onEnd);
    next();
  };
}

/** The request's logger (carrying its id), or `fallback` outside a logged request. */
export function loggerOf(req: IncomingMessage, fallback: Logger): Logger {
  const entry = loggedRequests.get(req);
  if (!entry) return fallback;
  entry.logger ??= fallback.child({ reqId: entry.reqId });
  return entry.logger;
}

function logExchange(logger: Logger, req: IncomingMessage, res: ServerResponse, latencyMs: number): void {
  const status = loggedStatus(req, res);
  const failure = requestFacts(res).failure ?? (status >= 500 ? new Error(`failed with status code ${status}`) : undefined);
  const level = failure ? 'error' : PROBE_PATHS.has(pathOf(req)) && status < 400 ? 'debug' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const log = loggerOf(req, logger);
  const route = routeOf(req, res);
  if (failure) log.error({ ...describeExchange(req, res, status, latencyMs), err: failure }, `${req.method} ${route} ${status} failed`);
  else log[level](describeExchange(req, res, status, latencyMs), `${req.method} ${route} ${status}`);
}

/**
 * nginx's "client closed request": the client left before its request body had all arrived, so
 * no answer went out, whatever status the response object holds.
 */
const CLIENT_CLOSED_REQUEST = 499;

function loggedStatus(req: IncomingMessage, res: ServerResponse): number {
  return !req.complete && !res.writableFinished ? CLIENT_CLOSED_REQUEST : res.statusCode;
}

function describeExchange(req: IncomingMessage, res: ServerResponse, status: number, latencyMs: number): Record<string, unknown> {
  const facts = requestFacts(res);
  const fields: Record<string, unknown> = {
    method: req.method,
    url: redactUrl((req as Request).originalUrl ?? req.url ?? ''),
    route: routeOf(req, res),
    status,
    latencyMs,
    // A response cut before its end (client gone, download stalled) is not a success whatever its status.
    completed: res.writableFinished,
  };
  if (facts.workspaces.size > 0) fields.workspace = [...facts.workspaces].join(',');
  if (facts.code) fields.code = facts.code;
  if (facts.error) fields.error = facts.error;
  if (facts.storeRequestId) fields.storeRequestId = facts.storeRequestId;
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
