import { TRPCError } from '@trpc/server';

type TRPCCode = TRPCError['code'];

/**
 * Every error the service reports, with the HTTP status the REST paths answer and the tRPC code
 * the /trpc endpoint answers. The first four codes are promised to existing callers by the spec.
 */
export const errorCodes = {
  MISSING_PARAMETER: { status: 400, trpc: 'BAD_REQUEST', meaning: 'a required parameter is absent' },
  UPLOAD_FAILED: { status: 400, trpc: 'BAD_REQUEST', meaning: 'the store refused to assemble the upload' },
  INVALID_UPLOAD_ID: {
    status: 404,
    trpc: 'NOT_FOUND',
    meaning: 'the upload id is unknown, finished, aborted or not of this workspace and asset',
  },
  S3_ERROR: { status: 502, trpc: 'BAD_GATEWAY', meaning: 'the object store failed or could not be reached' },
  INVALID_PARAMETER: { status: 400, trpc: 'BAD_REQUEST', meaning: 'a parameter is present but malformed' },
  FILE_TYPE_NOT_ALLOWED: { status: 400, trpc: 'BAD_REQUEST', meaning: 'the fileType is not on the allowlist (ALLOWED_FILE_TYPES)' },
  NOT_FOUND: { status: 404, trpc: 'NOT_FOUND', meaning: 'no object at that key, or no such route' },
  RANGE_NOT_SATISFIABLE: { status: 416, trpc: 'BAD_REQUEST', meaning: 'the requested byte range lies outside the object' },
  UNAUTHORIZED: { status: 401, trpc: 'UNAUTHORIZED', meaning: 'no valid credentials' },
  FORBIDDEN: { status: 403, trpc: 'FORBIDDEN', meaning: 'the caller may not use this workspace or operation' },
  INVALID_SIGNATURE: { status: 403, trpc: 'FORBIDDEN', meaning: 'a signed URL was tampered with or has expired' },
  PAYLOAD_TOO_LARGE: { status: 413, trpc: 'PAYLOAD_TOO_LARGE', meaning: 'the request body is larger than allowed' },
  RATE_LIMITED: {
    status: 429,
    trpc: 'TOO_MANY_REQUESTS',
    meaning: 'too many requests from this client or for this workspace; see Retry-After',
  },
  QUOTA_EXCEEDED: {
    status: 413,
    trpc: 'PAYLOAD_TOO_LARGE',
    meaning: "the workspace's byte quota cannot hold this upload (WORKSPACE_QUOTA_BYTES or its own quota)",
  },
  CATALOG_UNAVAILABLE: {
    status: 503,
    trpc: 'SERVICE_UNAVAILABLE',
    meaning: 'the asset catalogue (the database) cannot be reached; retry shortly',
  },
  CHECKSUM_MISMATCH: {
    status: 400,
    trpc: 'BAD_REQUEST',
    meaning: "a part's bytes do not match the checksum it was signed with (altered or cut in transit)",
  },
  FILE_TYPE_MISMATCH: {
    status: 415,
    trpc: 'UNSUPPORTED_MEDIA_TYPE',
    meaning: "the object's bytes are of another type than the fileType it was uploaded as",
  },
  REQUEST_TOO_LARGE: {
    status: 413,
    trpc: 'PAYLOAD_TOO_LARGE',
    meaning: 'a request asks for more work than one request may (calls per batch, parts per request)',
  },
  NOT_SUPPORTED: {
    status: 501,
    trpc: 'NOT_IMPLEMENTED',
    meaning: 'the object store does not support this operation (for example a bucket CORS API)',
  },
  WEBHOOK_TARGET_NOT_ALLOWED: {
    status: 400,
    trpc: 'BAD_REQUEST',
    meaning: 'the webhook URL points at a private, loopback or link-local address (WEBHOOK_ALLOWED_PRIVATE_TARGETS allows them)',
  },
  WEBHOOK_NOT_FOUND: { status: 404, trpc: 'NOT_FOUND', meaning: 'no webhook endpoint of that id in this workspace' },
  STORE_TIMEOUT: { status: 504, trpc: 'GATEWAY_TIMEOUT', meaning: 'the object store did not answer in time' },
  INTERNAL_ERROR: { status: 500, trpc: 'INTERNAL_SERVER_ERROR', meaning: 'an unexpected error; details are in the server log' },
} as const satisfies Record<string, { status: number; trpc: TRPCCode; meaning: string }>;

export type ErrorCode = keyof typeof errorCodes;

/**
 * The one error class of the service. It is a TRPCError so that tRPC answers with the right
 * status on its own; REST and tRPC both read `appCode` to build `{ error, code }`.
 */
export class AppError extends TRPCError {
  readonly appCode: ErrorCode;
  readonly status: number;

  constructor(appCode: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super({ code: errorCodes[appCode].trpc, message, cause: options.cause });
    this.name = 'AppError';
    this.appCode = appCode;
    this.status = errorCodes[appCode].status;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

interface SchemaIssue {
  path: readonly PropertyKey[];
  message: string;
}

export interface ToAppErrorOptions {
  /** The raw input the caller sent, to tell a missing parameter from a malformed one. */
  input?: unknown;
  /** How the caller spelled each field, e.g. `{ partNumber: 'PartNumber' }` for the REST paths. */
  fieldNames?: Readonly<Record<string, string>>;
}

const fromTRPCCode: Partial<Record<TRPCCode, ErrorCode>> = {
  PARSE_ERROR: 'INVALID_PARAMETER',
  BAD_REQUEST: 'INVALID_PARAMETER',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_SUPPORTED: 'NOT_FOUND',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'INVALID_PARAMETER',
};

/**
 * The single translation of anything thrown into the service's error: AppErrors pass through,
 * schema failures become MISSING_PARAMETER / INVALID_PARAMETER, and everything unexpected becomes
 * INTERNAL_ERROR with a message that reveals nothing (the cause stays attached for the log).
 */
export function toAppError(error: unknown, options: ToAppErrorOptions = {}): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof TRPCError) {
    if (error.cause instanceof AppError) return error.cause;
    const issues = schemaIssues(error.cause);
    if (issues) return fromSchemaIssues(issues, options);
    const appCode = fromTRPCCode[error.code];
    if (appCode) return new AppError(appCode, error.message, { cause: error });
  }
  const issues = schemaIssues(error);
  if (issues) return fromSchemaIssues(issues, options);
  return new AppError('INTERNAL_ERROR', 'internal error', { cause: error });
}

function schemaIssues(value: unknown): SchemaIssue[] | undefined {
  if (typeof value !== 'object' || value === null || !('issues' in value)) return undefined;
  const issues = (value as { issues: unknown }).issues;
  return Array.isArray(issues) ? (issues as SchemaIssue[]) : undefined;
}

function fromSchemaIssues(issues: readonly SchemaIssue[], options: ToAppErrorOptions): AppError {
  const missing = issues.filter((issue) => valueAt(options.input, issue.path) === undefined);
  const reported = missing.length > 0 ? missing : issues;
  const describe = (issue: SchemaIssue) => {
    const name = issue.path.map((segment) => options.fieldNames?.[String(segment)] ?? String(segment)).join('.');
    const detail = missing.length > 0 ? 'is required' : issue.message;
    return name ? `${name}: ${detail}` : detail;
  };
  const message = [...new Set(reported.map(describe))].join('; ');
  return new AppError(missing.length > 0 ? 'MISSING_PARAMETER' : 'INVALID_PARAMETER', message);
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}
