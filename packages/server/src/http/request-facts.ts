import type { ServerResponse } from 'node:http';
import type { AppError, ErrorCode } from '../errors.js';

/**
 * What the request log reports besides method, URL, status and latency, noted while the request
 * runs by the parts that learn it: the authorized workspace, the error code, S3's request id.
 */
export interface RequestFacts {
  /** Workspaces the caller was authorized for; a tRPC batch may name several. */
  workspaces: Set<string>;
  code?: ErrorCode;
  /** The error's message as the caller got it (never a stack or an internal detail). */
  error?: string;
  /** S3's `x-amz-request-id` of a failed store call, to look the request up on the S3 side. */
  storeRequestId?: string;
  /** A 5xx's error with its cause, for the request log's closing line (never for the caller). */
  failure?: AppError;
  /** Set by the per-IP limit; each API surface refuses the request in its own error format. */
  rateLimited?: AppError;
}

/** Keyed by the response so that nothing outlives the request and no test must reset anything. */
const factsByResponse = new WeakMap<ServerResponse, RequestFacts>();

export function requestFacts(res: ServerResponse): RequestFacts {
  let facts = factsByResponse.get(res);
  if (!facts) {
    facts = { workspaces: new Set() };
    factsByResponse.set(res, facts);
  }
  return facts;
}

/** Notes the code and, when a store call failed, S3's request id from the SDK error's metadata. */
export function noteError(res: ServerResponse, error: AppError): void {
  const facts = requestFacts(res);
  facts.code = error.appCode;
  facts.error = error.message;
  if (error.status >= 500) facts.failure = error;
  const requestId = storeRequestId(error);
  if (requestId) facts.storeRequestId = requestId;
}

function storeRequestId(error: unknown): string | undefined {
  // Walk the cause chain: AppError -> (TRPCError ->) the SDK's exception with `$metadata`.
  for (let current = error, depth = 0; current && depth < 5; depth += 1) {
    const requestId = (current as { $metadata?: { requestId?: unknown } }).$metadata?.requestId;
    if (typeof requestId === 'string' && requestId !== '') return requestId;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
