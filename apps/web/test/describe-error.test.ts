import { describe, expect, it } from 'vitest';
import { describeError, isRetryable } from '../src/describe-error.js';

/** An error as the SDK throws it: S3ServiceError and UploadError carry `code` and `status`. */
function sdkError(code: string, status?: number, message = 'the server says why') {
  return Object.assign(new Error(message), { name: 'S3ServiceError', code, ...(status === undefined ? {} : { status }) });
}

describe('which errors the page offers Retry for', () => {
  it.each([
    ['NETWORK_ERROR', undefined],
    ['S3_ERROR', 502],
    ['STORE_TIMEOUT', 504],
    ['RATE_LIMITED', 429],
    ['CATALOG_UNAVAILABLE', 503],
    ['INTERNAL_ERROR', 500],
    ['INVALID_SIGNATURE', 403],
    ['CHECKSUM_MISMATCH', 400],
    ['INVALID_UPLOAD_ID', 404],
  ])('offers Retry for %s: the same request can succeed later', (code, status) => {
    expect(describeError(sdkError(code, status)).retryable).toBe(true);
  });

  it.each([
    ['FILE_TYPE_NOT_ALLOWED', 400, /Choose a file of another type/],
    ['FILE_TYPE_MISMATCH', 415, /Choose the right file/],
    ['PAYLOAD_TOO_LARGE', 413, /Choose a smaller file/],
    ['QUOTA_EXCEEDED', 413, /delete assets or ask for a larger quota/],
    ['FORBIDDEN', 403, /Check the workspace and the token in Settings/],
    ['UNAUTHORIZED', 401, /put one in Settings/],
    ['INVALID_PARAMETER', 400, /would refuse it again/],
    ['MISSING_PARAMETER', 400, /would miss it again/],
    ['MISSING_ETAG', undefined, /must expose ETag/],
    ['UNEXPECTED_RESPONSE', 200, /Check the API URL/],
  ])('offers no Retry for %s, and says what to do instead', (code, status, advice) => {
    const view = describeError(sdkError(code, status));
    expect(view).toMatchObject({ code, retryable: false });
    expect(view.text).toMatch(advice);
  });

  it('reads a raw tRPC error the same way: a refused workspace is final, no answer at all is worth a retry', () => {
    const refused = Object.assign(new Error('no access'), { name: 'TRPCClientError', data: { code: 'FORBIDDEN', httpStatus: 403 } });
    expect(describeError(refused).retryable).toBe(false);
    const unreachable = Object.assign(new Error('Failed to fetch'), { name: 'TRPCClientError', data: undefined });
    expect(describeError(unreachable)).toMatchObject({ code: 'NETWORK_ERROR', retryable: true });
  });

  it("judges a newer server's unknown code by its status", () => {
    expect(isRetryable('SOMETHING_NEW', 503)).toBe(true);
    expect(isRetryable('SOMETHING_NEW', 408)).toBe(true);
    expect(isRetryable('SOMETHING_NEW', 400)).toBe(false);
    expect(isRetryable('SOMETHING_NEW', 409)).toBe(false);
  });

  it('offers Retry for an error without a code (a browser hiccup), and none for a cancel', () => {
    expect(describeError(new TypeError('Load failed'))).toEqual({ code: 'ERROR', text: 'Load failed', retryable: true });
    expect(describeError(new DOMException('aborted', 'AbortError'))).toEqual({ code: 'CANCELLED', text: 'Cancelled.', retryable: false });
  });
});
