import type { ErrorCode } from '../errors.js';

/**
 * What any /s3 request can meet before or beside its route's own work: the per-IP and
 * per-workspace limits (when configured), and an unexpected failure.
 */
export const anyRequestErrors = ['RATE_LIMITED', 'INTERNAL_ERROR'] as const satisfies readonly ErrorCode[];

/** With authorization configured: no valid bearer token, or no right to the workspace or bucket. */
const accessErrors = ['UNAUTHORIZED', 'FORBIDDEN'] as const satisfies readonly ErrorCode[];

/** The store failed or did not answer in time, or the catalogue (the database) could not be reached. */
const storeErrors = ['S3_ERROR', 'STORE_TIMEOUT', 'CATALOG_UNAVAILABLE'] as const satisfies readonly ErrorCode[];

/** A route's inputs can be absent or malformed. */
export const inputErrors = ['MISSING_PARAMETER', 'INVALID_PARAMETER'] as const satisfies readonly ErrorCode[];

/** The codes of a route that authorizes its caller and calls the store, plus its own. */
export function storeRouteErrors(...specific: ErrorCode[]): ErrorCode[] {
  return [...accessErrors, ...specific, ...storeErrors, ...anyRequestErrors];
}
