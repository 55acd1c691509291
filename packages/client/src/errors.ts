import { TRPCClientError } from '@trpc/client';
import type { AppRouter, ErrorCode } from './contract.js';

/**
 * Codes the client raises itself, for failures the service never answered. They sit next to the
 * server's codes so that one `switch (error.code)` covers everything an upload can end with.
 */
export type ClientErrorCode =
  /** No answer: DNS, refused connection, reset socket, CORS refusal in a browser. */
  | 'NETWORK_ERROR'
  /** A part was stored but its ETag header could not be read (CORS ExposeHeaders misses ETag). */
  | 'MISSING_ETAG'
  /** An answer this client cannot read, e.g. an HTML page from a proxy. */
  | 'UNEXPECTED_RESPONSE';

/** Every code an error of this package can carry: the server's table plus the client's own. */
export type S3ServiceErrorCode = ErrorCode | ClientErrorCode;

export interface S3ServiceErrorOptions {
  /** HTTP status of the answer that carried the error, when there was one. */
  status?: number;
  cause?: unknown;
}

/** The one error class of the client: a stable `code` to switch on, the HTTP status when known. */
export class S3ServiceError extends Error {
  readonly code: S3ServiceErrorCode;
  readonly status: number | undefined;

  constructor(code: S3ServiceErrorCode, message: string, options: S3ServiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'S3ServiceError';
    this.code = code;
    this.status = options.status;
  }
}

/** Where an upload stood when it failed: enough to `resume` it or to abort it. */
export interface UploadErrorContext {
  uploadId?: string;
  assetId?: string;
  /** The part whose PUT failed, when the failure was a part's. */
  partNumber?: number;
}

/**
 * What `client.upload` rejects with (besides an AbortError). It keeps `uploadId` and `assetId`:
 * a failed upload stays open on the server so that it can be resumed with `{ resume }`.
 */
export class UploadError extends S3ServiceError {
  readonly uploadId: string | undefined;
  readonly assetId: string | undefined;
  readonly partNumber: number | undefined;

  constructor(code: S3ServiceErrorCode, message: string, options: S3ServiceErrorOptions & UploadErrorContext = {}) {
    super(code, message, options);
    this.name = 'UploadError';
    this.uploadId = options.uploadId;
    this.assetId = options.assetId;
    this.partNumber = options.partNumber;
  }

  /** The same failure, told where the upload stood. */
  static from(error: S3ServiceError, context: UploadErrorContext): UploadError {
    if (error instanceof UploadError && error.uploadId !== undefined) return error;
    return new UploadError(error.code, error.message, {
      status: error.status,
      cause: error.cause,
      ...(error instanceof UploadError ? { partNumber: error.partNumber } : {}),
      ...context,
    });
  }
}

/** Statuses a retry can fix: timeouts, throttling and the store's own trouble. */
const TRANSIENT_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** True for failures worth retrying with backoff (the same request may well succeed later). */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof S3ServiceError)) return false;
  return error.code === 'NETWORK_ERROR' || (error.status !== undefined && TRANSIENT_STATUSES.has(error.status));
}

/** Unknown codes from a newer server pass through as they are; a missing one is told by status. */
export function codeForStatus(status: number): S3ServiceErrorCode {
  if (status === 404) return 'NOT_FOUND';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 416) return 'RANGE_NOT_SATISFIABLE';
  if (status === 504) return 'STORE_TIMEOUT';
  if (status >= 500) return 'S3_ERROR';
  return 'UNEXPECTED_RESPONSE';
}

/**
 * A tRPC failure as an S3ServiceError: the service's code is in `data.code` (see the server's
 * errorFormatter); without data the request never got a tRPC answer (network, proxy page).
 */
export function fromTRPCError(error: TRPCClientError<AppRouter>): S3ServiceError {
  const data = error.data;
  if (data && typeof data.code === 'string') {
    return new S3ServiceError(data.code, error.message, { status: data.httpStatus, cause: error });
  }
  const response = error.meta?.response as { status?: unknown } | undefined;
  if (response && typeof response.status === 'number') {
    return new S3ServiceError(codeForStatus(response.status), `HTTP ${response.status}: ${error.message}`, {
      status: response.status,
      cause: error,
    });
  }
  return new S3ServiceError('NETWORK_ERROR', `could not reach the service: ${error.message}`, { cause: error });
}

/** The REST paths answer `{ error, code }`; anything else is described by its status. */
export async function fromErrorResponse(response: Response): Promise<S3ServiceError> {
  const text = await response.text().catch(() => '');
  const body = parseJson(text) as { error?: unknown; code?: unknown } | undefined;
  const status = response.status;
  if (body && typeof body.code === 'string') {
    const message = typeof body.error === 'string' ? body.error : `HTTP ${status}`;
    return new S3ServiceError(body.code as S3ServiceErrorCode, message, { status });
  }
  return new S3ServiceError(codeForStatus(status), `HTTP ${status} ${response.statusText}`.trim(), { status });
}

/** Translates whatever a tRPC call threw; anything that is not a tRPC failure passes through. */
export function toServiceError(error: unknown): unknown {
  if (error instanceof TRPCClientError) return fromTRPCError(error);
  return error;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
