import { AppError, type ErrorCode, isAppError } from '../../errors.js';

/**
 * What an SDK failure looks like from outside: S3 service errors carry the S3 error code as
 * `name` and the HTTP exchange in `$metadata`; network failures are plain Node errors with `code`.
 */
interface SdkFailure {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
}

/**
 * How one call site reads S3's answers it expects: keys are S3 error names (`NoSuchUpload`) or
 * HTTP statuses (`'404'`, for answers without a body such as HEAD, where the SDK can only guess
 * a name). Values say which AppError the caller should see.
 */
export type ExpectedFailures = Readonly<Record<string, { code: ErrorCode; message: string }>>;

/**
 * Errors about the bucket itself, never about the key or upload a call names: a status match
 * (404) must not turn a missing bucket into "upload not found".
 */
const BUCKET_LEVEL_ERRORS = new Set(['NoSuchBucket', 'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch']);

/**
 * The one place where SDK exceptions become AppErrors. Expected answers (a missing upload, an
 * unsatisfiable range) keep their meaning; a call that timed out is STORE_TIMEOUT; everything
 * else, including refused connections and DNS failures, is an S3_ERROR. Messages name the S3
 * error, status and request id so an operator can look the request up on the S3 side.
 */
export function toStoreError(error: unknown, operation: string, expected: ExpectedFailures = {}): AppError {
  if (isAppError(error)) return error;
  const failure = (typeof error === 'object' && error !== null ? error : {}) as SdkFailure;
  const name = typeof failure.name === 'string' ? failure.name : 'Error';
  const status = failure.$metadata?.httpStatusCode;
  const reason = typeof failure.message === 'string' && failure.message !== '' ? failure.message : String(error);

  const match =
    lookup(expected, name) ?? (status !== undefined && !BUCKET_LEVEL_ERRORS.has(name) ? lookup(expected, String(status)) : undefined);
  if (match) {
    return new AppError(match.code, `${match.message} (S3 ${name}: ${reason})`, { cause: error });
  }
  const code: ErrorCode = isTimeout(failure, name, status) ? 'STORE_TIMEOUT' : 'S3_ERROR';
  return new AppError(code, `S3 ${operation} failed: ${describeFailure(failure, name, status, reason)}`, { cause: error });
}

/**
 * The client's own limits (connect, response, socket idle) fired: no HTTP answer came in time.
 * The SDK also names ECONNRESET and EPIPE `TimeoutError`; those are broken connections, not slowness.
 */
function isTimeout(failure: SdkFailure, name: string, status: number | undefined): boolean {
  return status === undefined && name === 'TimeoutError' && failure.code !== 'ECONNRESET' && failure.code !== 'EPIPE';
}

/** Own keys only: an error named `constructor` must not match Object.prototype. */
function lookup(expected: ExpectedFailures, key: string) {
  return Object.hasOwn(expected, key) ? expected[key] : undefined;
}

function describeFailure(failure: SdkFailure, name: string, status: number | undefined, reason: string): string {
  const networkCode = typeof failure.code === 'string' ? failure.code : undefined;
  // No status means no HTTP answer at all: the endpoint was unreachable or the request timed out.
  if (status === undefined) {
    const what =
      name === 'TimeoutError' ? 'S3 did not answer in time' : name === 'AbortError' ? 'the request was aborted' : 'could not reach S3';
    return `${what} (${[name, networkCode].filter(Boolean).join(', ')}): ${reason}`;
  }
  const requestId = failure.$metadata?.requestId ?? 'none';
  const attempts = failure.$metadata?.attempts;
  const tries = attempts !== undefined && attempts > 1 ? `, after ${attempts} attempts` : '';
  return `${name} (HTTP ${status}, request id ${requestId}${tries}): ${reason}`;
}
