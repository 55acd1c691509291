import type { S3ServiceErrorCode } from '@s3-service/client';

/** An error as the page shows it: the service's code, and what it means for the person. */
export interface ErrorView {
  /** The server's (or the SDK's) code; CANCELLED for an abort. */
  code: string;
  /** One sentence for people, then the server's own message. */
  text: string;
  status?: number;
  /**
   * Whether trying the same thing again can succeed (the network, the store or the server's
   * load was the trouble): only then does the page offer Retry. Otherwise `text` says what to
   * change instead (the file, the token, the settings, the server's limits).
   */
  retryable: boolean;
}

/**
 * What each code means to someone at this page, and what they can do about it. The words of a
 * code that a retry cannot fix say what to do instead, since the page offers no Retry for it.
 */
const WORDS: Partial<Record<S3ServiceErrorCode, string>> = {
  NETWORK_ERROR:
    'Could not reach the API or the store. Check the API URL; a store on another origin also needs CORS rules (POST /s3/updateBucketConfig applies the defaults).',
  MISSING_ETAG:
    "The store hid the ETag header from the browser: the bucket's CORS rules must expose ETag (POST /s3/updateBucketConfig applies them), then pick the file again.",
  UNEXPECTED_RESPONSE: 'The API URL answered with something that is not this service. Check the API URL in Settings.',
  UNAUTHORIZED: 'The server wants a valid token: put one in Settings, then pick the file again.',
  FORBIDDEN: 'This token may not use this workspace. Check the workspace and the token in Settings.',
  FILE_TYPE_NOT_ALLOWED:
    'The server does not accept files of this type. Choose a file of another type, or ask for this type to be allowed.',
  PAYLOAD_TOO_LARGE: 'The file is larger than this server accepts. Choose a smaller file, or ask for a higher limit.',
  INVALID_UPLOAD_ID: 'The upload is gone from the server (finished, cancelled or expired); a retry starts it again.',
  UPLOAD_FAILED: 'The store could not put the parts together.',
  CHECKSUM_MISMATCH: "A part's bytes changed on the way (or the file changed while it was being sent); try again.",
  FILE_TYPE_MISMATCH:
    "The file's contents are not of the type it claims (for example a web page named as an image), so it was not kept. Choose the right file, or give it a name of its real type.",
  REQUEST_TOO_LARGE: 'The page asked the server for too much at once; try again with fewer files at a time.',
  NOT_SUPPORTED: 'The object store does not support this operation.',
  INVALID_SIGNATURE: 'The store refused a signed URL (expired or altered); a retry signs again.',
  NOT_FOUND: 'Nothing is there any more; it may have been deleted.',
  RATE_LIMITED: 'Too many requests right now; try again in a moment.',
  QUOTA_EXCEEDED: "The workspace's storage quota has no room for this file; delete assets or ask for a larger quota.",
  CATALOG_UNAVAILABLE: "The server's catalogue database cannot be reached right now; try again in a moment.",
  S3_ERROR: 'The object store failed or could not be reached.',
  STORE_TIMEOUT: 'The object store did not answer in time.',
  INVALID_PARAMETER: 'The server refused a value, and would refuse it again. Check the file name and the settings.',
  MISSING_PARAMETER: 'The server missed a value, and would miss it again. Check the settings.',
  INTERNAL_ERROR: 'The server failed; its log says why.',
};

/**
 * Codes a retry can fix: no answer, a late one, a server or store that was busy or down, a
 * signed URL that ran out (a new attempt signs again), a part changed on the way (sent again),
 * an upload gone from the server (a retry starts a new one).
 */
const RETRYABLE = new Set<string>([
  'NETWORK_ERROR',
  'S3_ERROR',
  'STORE_TIMEOUT',
  'RATE_LIMITED',
  'CATALOG_UNAVAILABLE',
  'INTERNAL_ERROR',
  'INVALID_SIGNATURE',
  'CHECKSUM_MISMATCH',
  'INVALID_UPLOAD_ID',
  'UPLOAD_FAILED',
  'REQUEST_TOO_LARGE',
]);

/**
 * Codes that fail the same way every time: the file itself (type, size, quota, contents), the
 * caller (token, workspace, values) or the deployment (CORS, the store's features).
 */
const FINAL = new Set<string>([
  'CANCELLED',
  'FILE_TYPE_NOT_ALLOWED',
  'FILE_TYPE_MISMATCH',
  'PAYLOAD_TOO_LARGE',
  'QUOTA_EXCEEDED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'INVALID_PARAMETER',
  'MISSING_PARAMETER',
  'NOT_FOUND',
  'RANGE_NOT_SATISFIABLE',
  'NOT_SUPPORTED',
  'MISSING_ETAG',
  'UNEXPECTED_RESPONSE',
  'WEBHOOK_TARGET_NOT_ALLOWED',
  'WEBHOOK_NOT_FOUND',
]);

/** Statuses a retry can fix, as the SDK's isTransient counts them: timeouts, throttling, the server's trouble. */
const TRANSIENT_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Whether a retry of the same request can succeed. A code this page does not know (a newer
 * server's) is judged by its status; an error with neither (a bug, a browser hiccup) gets Retry.
 */
export function isRetryable(code: string, status?: number): boolean {
  if (RETRYABLE.has(code)) return true;
  if (FINAL.has(code)) return false;
  return status === undefined || TRANSIENT_STATUSES.has(status);
}

/**
 * Reads the SDK's errors (S3ServiceError and UploadError carry `code` and `status`) and raw tRPC
 * errors of direct `client.trpc` calls (the code is in `data.code`). Duck-typed, because the page
 * also sees tRPC's own error class, which the SDK does not re-export.
 */
export function describeError(error: unknown): ErrorView {
  const shape = (error ?? {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    status?: unknown;
    data?: { code?: unknown; httpStatus?: unknown } | null;
  };
  const message = typeof shape.message === 'string' ? shape.message : String(error);
  if (shape.name === 'AbortError') return { code: 'CANCELLED', text: 'Cancelled.', retryable: false };

  let code: string | undefined;
  let status: number | undefined;
  if (typeof shape.code === 'string') {
    code = shape.code;
    status = typeof shape.status === 'number' ? shape.status : undefined;
  } else if (shape.data && typeof shape.data.code === 'string') {
    code = shape.data.code;
    status = typeof shape.data.httpStatus === 'number' ? shape.data.httpStatus : undefined;
  } else if (shape.name === 'TRPCClientError') {
    // A tRPC call that got no tRPC answer: the request never reached the service.
    code = 'NETWORK_ERROR';
  }
  if (!code) return { code: 'ERROR', text: message, retryable: true };
  const words = WORDS[code as S3ServiceErrorCode];
  const view: ErrorView = {
    code,
    text: words ? [words, serverSays(message)].filter(Boolean).join(' ') : message,
    retryable: isRetryable(code, status),
  };
  if (status !== undefined) view.status = status;
  return view;
}

/** The server's message, unless it only repeats the status line. */
function serverSays(message: string): string {
  const trimmed = message.trim();
  return trimmed && !/^HTTP \d{3}\b/.test(trimmed) ? `(${trimmed})` : '';
}
