import { describe, expectTypeOf, it } from 'vitest';
import type { ErrorCode } from '../src/index.js';
import {
  createS3ServiceClient,
  type PartRetry,
  type S3ServiceError,
  type S3ServiceErrorCode,
  type UploadError,
  type UploadHandle,
  type UploadProgress,
  type UploadResult,
} from '../src/index.js';

// Checked by `tsc --noEmit` (the typecheck script) and by vitest's typecheck mode; never run.
const client = createS3ServiceClient({ url: 'http://127.0.0.1:3000' });

describe('router types reach the client', () => {
  it('upload.start resolves to the procedure output', () => {
    expectTypeOf(client.trpc.upload.start.mutate).returns.resolves.toEqualTypeOf<{ uploadId: string; assetId: string; key: string }>();
  });

  it('upload.signParts and listParts carry their outputs', () => {
    expectTypeOf(client.trpc.upload.signParts.mutate).returns.resolves.toEqualTypeOf<{
      parts: { partNumber: number; url: string; headers?: Record<string, string> }[];
      expiresIn: number;
    }>();
    expectTypeOf(client.trpc.upload.listParts.query).returns.resolves.toEqualTypeOf<{
      parts: { partNumber: number; etag: string; size: number; checksum?: string }[];
      checksumAlgorithm: 'SHA256' | null;
    }>();
  });

  it('superjson keeps Dates as Dates', () => {
    expectTypeOf(client.trpc.object.head.query).returns.resolves.toHaveProperty('lastModified').toEqualTypeOf<Date>();
  });

  it('inputs are checked', () => {
    expectTypeOf(client.trpc.upload.start.mutate).parameter(0).toEqualTypeOf<{
      workspaceId: string;
      fileType: string;
      fileName?: string;
      fileSize?: number;
      partSize?: number;
      checksumAlgorithm?: 'SHA256';
    }>();
    // @ts-expect-error fileType is required
    void client.trpc.upload.start.mutate({ workspaceId: 'ws' });
    // @ts-expect-error partNumbers are numbers
    void client.trpc.upload.signParts.mutate({ workspaceId: 'ws', assetId: 'a', uploadId: 'u', partNumbers: ['1'] });
    // @ts-expect-error no such procedure
    void client.trpc.upload.finish;
  });
});

describe('the helpers', () => {
  it('upload resolves to the documented result', () => {
    expectTypeOf(client.upload).returns.resolves.toEqualTypeOf<UploadResult>();
    expectTypeOf<UploadResult>().toEqualTypeOf<{
      key: string;
      assetId: string;
      uploadId: string;
      location: string;
      size: number;
      etag: string;
      checksum?: string;
    }>();
    expectTypeOf<UploadProgress>().toEqualTypeOf<{ loaded: number; total?: number; part?: number; kept?: true }>();
  });

  it('upload takes the documented inputs', () => {
    void client.upload(new Blob([]), { workspaceId: 'ws' });
    void client.upload(new Uint8Array(1), { workspaceId: 'ws' });
    void client.upload(new ArrayBuffer(1), { workspaceId: 'ws' });
    void client.upload('/tmp/file.pdf', { workspaceId: 'ws' });
    void client.upload(new ReadableStream<Uint8Array>(), { workspaceId: 'ws' });
    // @ts-expect-error workspaceId is required
    void client.upload(new Blob([]), {});
    // @ts-expect-error a number is no upload data
    void client.upload(42, { workspaceId: 'ws' });
  });

  it('upload returns a handle: awaitable as before, with its pause switch, and tells retries', () => {
    expectTypeOf(client.upload).returns.toEqualTypeOf<UploadHandle>();
    expectTypeOf<UploadHandle>().toMatchTypeOf<Promise<UploadResult>>();
    expectTypeOf<UploadHandle['pause']>().toEqualTypeOf<() => void>();
    expectTypeOf<UploadHandle['resume']>().toEqualTypeOf<() => void>();
    expectTypeOf<UploadHandle['paused']>().toEqualTypeOf<boolean>();
    expectTypeOf<PartRetry['reason']>().toEqualTypeOf<'failed' | 'expired' | 'paused'>();
    void client.upload(new Blob([]), {
      workspaceId: 'ws',
      onRetry: ({ partNumber, attempt, error, delayMs }) => [partNumber, attempt, error?.code, delayMs],
    });
  });

  it('downloadUrl and delete resolve to the procedure outputs', () => {
    expectTypeOf(client.downloadUrl).returns.resolves.toEqualTypeOf<{ url: string; expiresIn: number }>();
    expectTypeOf(client.delete).returns.resolves.toEqualTypeOf<{ success: true }>();
    expectTypeOf(client.download).returns.resolves.toEqualTypeOf<Response>();
  });
});

describe('error codes', () => {
  it("are the server's codes plus the client's own, typed for a switch", () => {
    expectTypeOf<ErrorCode>().toMatchTypeOf<S3ServiceErrorCode>();
    expectTypeOf<
      'INVALID_UPLOAD_ID' | 'UPLOAD_FAILED' | 'S3_ERROR' | 'MISSING_PARAMETER' | 'NETWORK_ERROR' | 'MISSING_ETAG'
    >().toMatchTypeOf<S3ServiceErrorCode>();
    expectTypeOf<UploadError['code']>().toEqualTypeOf<S3ServiceErrorCode>();
    expectTypeOf<UploadError>().toMatchTypeOf<S3ServiceError>();
    // @ts-expect-error not a code
    const wrong: S3ServiceErrorCode = 'NO_SUCH_CODE';
    void wrong;
  });
});
