import type { S3ServiceErrorCode } from '@s3-service/client';

/** An error as the page shows it: the service's code, and what it means for the person. */
export interface ErrorView {
  /** The server's (or the SDK's) code; CANCELLED for an abort. */
  code: string;
  /** One sentence for people, then the server's own message. */
  text: string;
  status?: number;
}

/** What each code means to someone at this page, and what they can do about it. */
const WORDS: Partial<Record<S3ServiceErrorCode, string>> = {
  NETWORK_ERROR:
    'Could not reach the API or the store. Check the API URL; a store on another origin also needs CORS rules (POST /s3/updateBucketConfig applies the defaults).',
  MISSING_ETAG: "The store hid the ETag header from the browser: the bucket's CORS rules must expose ETag.",
  UNEXPECTED_RESPONSE: 'The API URL answered with something that is not this service.',
  UNAUTHORIZED: 'The server wants a valid token: put one in Settings.',
  FORBIDDEN: 'This token may not use this workspace.',
  FILE_TYPE_NOT_ALLOWED: 'The server does not accept files of this type.',
  PAYLOAD_TOO_LARGE: 'The file is larger than this server accepts.',
  INVALID_UPLOAD_ID: 'The upload is gone from the server (finished, cancelled or expired).',
  UPLOAD_FAILED: 'The store could not put the parts together.',
  CHECKSUM_MISMATCH: "A part's bytes changed on the way (or the file changed while it was being sent); try again.",
  FILE_TYPE_MISMATCH: "The file's contents are not of the type it claims (for example a web page named as an image), so it was not kept.",
  REQUEST_TOO_LARGE: 'The page asked the server for too much at once; try again with fewer files at a time.',
  NOT_SUPPORTED: 'The object store does not support this operation.',
  INVALID_SIGNATURE: 'The store refused a signed URL (expired or altered).',
  NOT_FOUND: 'Nothing is there any more; it may have been deleted.',
  RATE_LIMITED: 'Too many requests right now; try again in a moment.',
  QUOTA_EXCEEDED: "The workspace's storage quota has no room for this file; delete assets or ask for a larger quota.",
  CATALOG_UNAVAILABLE: "The server's catalogue database cannot be reached right now; try again in a moment.",
  S3_ERROR: 'The object store failed or could not be reached.',
  STORE_TIMEOUT: 'The object store did not answer in time.',
  INVALID_PARAMETER: 'The server refused a value.',
  MISSING_PARAMETER: 'The server missed a value.',
  INTERNAL_ERROR: 'The server failed; its log says why.',
};

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
  if (shape.name === 'AbortError') return { code: 'CANCELLED', text: 'Cancelled.' };

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
  if (!code) return { code: 'ERROR', text: message };
  const words = WORDS[code as S3ServiceErrorCode];
  const view: ErrorView = { code, text: words ? [words, serverSays(message)].filter(Boolean).join(' ') : message };
  if (status !== undefined) view.status = status;
  return view;
}

/** The server's message, unless it only repeats the status line. */
function serverSays(message: string): string {
  const trimmed = message.trim();
  return trimmed && !/^HTTP \d{3}\b/.test(trimmed) ? `(${trimmed})` : '';
}
