import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.js';
import type { S3Timeouts } from '../src/storage/s3/index.js';
import type { ObjectStore } from '../src/storage/store.js';
import { useCleanups } from './support/cleanups.js';
import { answerS3Error, answerXml, closedPortEndpoint, type FakeS3, fakeS3Store, startFakeS3 } from './support/s3-fake-server.js';
import { readAll } from './support/s3-harness.js';

/** Every test here must end well within this, hang or not. */
const BOUND_MS = 10_000;

const { defer } = useCleanups();

async function fakeS3(handler: Parameters<typeof startFakeS3>[0]): Promise<FakeS3> {
  const server = await startFakeS3(handler);
  defer(() => server.close());
  return server;
}

/** A store on the given endpoint. Static credentials: the default chain would probe the network. */
function storeAt(endpoint: string, timeouts?: Partial<S3Timeouts>): ObjectStore {
  const store = fakeS3Store(endpoint, { timeouts });
  defer(async () => store.close?.());
  return store;
}

async function failure(promise: Promise<unknown>): Promise<{ error: AppError; ms: number }> {
  const started = performance.now();
  const error = await promise.then(
    () => new Error('expected a failure, got success'),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return { error: error as AppError, ms: performance.now() - started };
}

const corsXml =
  '<?xml version="1.0" encoding="UTF-8"?><CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>';

const completeOk =
  '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult><Location>http://127.0.0.1/fault-bucket/k</Location><Bucket>fault-bucket</Bucket><Key>k</Key><ETag>"0123456789abcdef0123456789abcdef-2"</ETag></CompleteMultipartUploadResult>';

const listPartsOk =
  '<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult><Bucket>fault-bucket</Bucket><Key>k</Key><UploadId>u</UploadId><MaxParts>1</MaxParts><IsTruncated>false</IsTruncated></ListPartsResult>';

const someParts = [
  { partNumber: 1, etag: '"0123456789abcdef0123456789abcdef"' },
  { partNumber: 2, etag: 'fedcba9876543210fedcba9876543210' },
];

/** The driver checks the upload with ListParts (GET) before it completes (POST). */
function answerUploadOpen(request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method !== 'GET') return false;
  answerXml(response, listPartsOk);
  return true;
}

/** S3's way of failing a CompleteMultipartUpload late: 200 headers, keep-alive spaces, then an error. */
function answer200WithError(response: ServerResponse, code: string, message: string): void {
  response.writeHead(200, { 'content-type': 'application/xml', 'x-amz-request-id': 'late-error' });
  response.write('<?xml version="1.0" encoding="UTF-8"?>\n   ');
  response.end(`<Error><Code>${code}</Code><Message>${message}</Message><RequestId>late-error</RequestId></Error>`);
}

describe('s3 driver when S3 misbehaves', () => {
  it('answers S3_ERROR quickly when nothing listens at the endpoint', { timeout: BOUND_MS }, async () => {
    const store = storeAt(await closedPortEndpoint(), { connect: 1_000 });
    const { error, ms } = await failure(store.headObject('ws/digital_assets/a'));
    expect(error.appCode).toBe('S3_ERROR');
    expect(error.message).toMatch(/HeadObject failed: could not reach S3 .*ECONNREFUSED/);
    expect(ms).toBeLessThan(5_000);
  });

  it('retries 503 SlowDown and succeeds on the third attempt', { timeout: BOUND_MS }, async () => {
    const server = await fakeS3((_request, response, index) => {
      if (index < 2) answerS3Error(response, 503, 'SlowDown', 'Please reduce your request rate.', `slow-${index}`);
      else answerXml(response, corsXml);
    });
    const rules = await storeAt(server.endpoint).getCorsRules();
    expect(rules).toEqual([{ AllowedMethods: ['GET'], AllowedOrigins: ['*'] }]);
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual(
      Array.from({ length: 3 }, () => 'GET /fault-bucket/?cors='),
    );
  });

  it('answers S3_ERROR naming the S3 error, status and request id after retrying a 500', { timeout: BOUND_MS }, async () => {
    const server = await fakeS3((_request, response, index) =>
      answerS3Error(response, 500, 'InternalError', 'We encountered an internal error. Please try again.', `req-${index}`),
    );
    const { error } = await failure(storeAt(server.endpoint).createMultipartUpload('ws/digital_assets/a', 'text/plain'));
    expect(error.appCode).toBe('S3_ERROR');
    expect(error.message).toBe(
      'S3 CreateMultipartUpload failed: InternalError (HTTP 500, request id req-2, after 3 attempts): We encountered an internal error. Please try again.',
    );
    expect(server.requests).toHaveLength(3);
  });

  it('answers S3_ERROR for a 502 from a proxy that is not XML', { timeout: BOUND_MS }, async () => {
    const server = await fakeS3((_request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<html><body>Bad Gateway</body></html>');
    });
    const { error } = await failure(storeAt(server.endpoint).listParts('ws/digital_assets/a', 'upload-1'));
    expect(error.appCode).toBe('S3_ERROR');
    expect(error.message).toMatch(/^S3 ListParts failed: .*HTTP 502/);
  });

  it('answers STORE_TIMEOUT, not a hang, when S3 accepts the request and never answers', { timeout: BOUND_MS }, async () => {
    const server = await fakeS3(() => {
      // Never answer: the driver's response timeout must end the wait.
    });
    const { error, ms } = await failure(storeAt(server.endpoint, { response: 300 }).assertUploadOpen('ws/digital_assets/a', 'u'));
    expect(error.appCode).toBe('STORE_TIMEOUT');
    expect(error.message).toMatch(/ListParts failed: S3 did not answer in time \(TimeoutError/);
    expect(server.requests.length).toBeGreaterThanOrEqual(1);
    expect(ms).toBeLessThan(5_000);
  });

  describe('CompleteMultipartUpload refused by S3', () => {
    it.each([
      ['InvalidPart', 'One or more of the specified parts could not be found.'],
      ['InvalidPartOrder', 'The list of parts was not in ascending order.'],
      ['EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size'],
    ])('translates %s into UPLOAD_FAILED naming it', { timeout: BOUND_MS }, async (code, message) => {
      const server = await fakeS3((request, response) => {
        if (!answerUploadOpen(request, response)) answerS3Error(response, 400, code, message, 'refused');
      });
      const { error } = await failure(storeAt(server.endpoint).completeMultipartUpload('ws/digital_assets/a', 'u', someParts));
      expect(error.appCode).toBe('UPLOAD_FAILED');
      expect(error.message).toContain(`${code}: ${message}`);
      expect(server.requests.map((seen) => seen.method)).toEqual(['GET', 'POST']);
    });

    it('translates NoSuchUpload at completion into INVALID_UPLOAD_ID', { timeout: BOUND_MS }, async () => {
      const server = await fakeS3((request, response) => {
        if (!answerUploadOpen(request, response))
          answerS3Error(response, 404, 'NoSuchUpload', 'The specified upload does not exist.', 'gone');
      });
      const { error } = await failure(storeAt(server.endpoint).completeMultipartUpload('ws/digital_assets/a', 'u', someParts));
      expect(error.appCode).toBe('INVALID_UPLOAD_ID');
    });
  });

  describe('CompleteMultipartUpload answered 200 with an error body', () => {
    it('translates a late InvalidPart into UPLOAD_FAILED', { timeout: BOUND_MS }, async () => {
      const server = await fakeS3((request, response) => {
        if (!answerUploadOpen(request, response))
          answer200WithError(response, 'InvalidPart', 'One or more of the specified parts could not be found.');
      });
      const { error } = await failure(storeAt(server.endpoint).completeMultipartUpload('ws/digital_assets/a', 'u', someParts));
      expect(error.appCode).toBe('UPLOAD_FAILED');
      expect(error.message).toMatch(/InvalidPart: One or more of the specified parts could not be found/);
    });

    it('translates a late InternalError into S3_ERROR', { timeout: BOUND_MS }, async () => {
      const server = await fakeS3((request, response) => {
        if (!answerUploadOpen(request, response)) answer200WithError(response, 'InternalError', 'Please try again.');
      });
      const { error } = await failure(storeAt(server.endpoint).completeMultipartUpload('ws/digital_assets/a', 'u', someParts));
      expect(error.appCode).toBe('S3_ERROR');
      expect(error.message).toMatch(/CompleteMultipartUpload failed: InternalError .*request id late-error/);
    });

    it('retries a late InternalError and returns the ETag of the retry', { timeout: BOUND_MS }, async () => {
      const bodies: string[] = [];
      let completions = 0;
      const server = await fakeS3((request, response) => {
        if (answerUploadOpen(request, response)) return;
        let body = '';
        request.setEncoding('utf8');
        request.on('data', (chunk: string) => (body += chunk));
        request.on('end', () => {
          bodies.push(body);
          if (completions++ === 0) answer200WithError(response, 'InternalError', 'Please try again.');
          else answerXml(response, completeOk);
        });
      });
      const completed = await storeAt(server.endpoint).completeMultipartUpload('ws/digital_assets/a', 'u', someParts);
      expect(completed).toEqual({ etag: '"0123456789abcdef0123456789abcdef-2"' });
      expect(server.requests.map((seen) => seen.method)).toEqual(['GET', 'POST', 'POST']);
      // Bare etags from the caller reach S3 quoted (the XML escapes the quotes).
      expect(bodies[1]).toContain('<ETag>&quot;fedcba9876543210fedcba9876543210&quot;</ETag>');
      expect(bodies[1]).toContain('<ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag>');
    });
  });

  describe('object bodies that break mid-stream', () => {
    function startBody(response: ServerResponse): void {
      response.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': 1024 * 1024,
        etag: '"0123456789abcdef0123456789abcdef"',
        'last-modified': new Date().toUTCString(),
      });
      response.write(Buffer.alloc(64 * 1024, 7));
    }

    it('errors the body stream when S3 cuts the connection', { timeout: BOUND_MS }, async () => {
      const server = await fakeS3((_request, response) => {
        startBody(response);
        setTimeout(() => response.socket?.destroy(), 50);
      });
      const object = await storeAt(server.endpoint).getObject('ws/digital_assets/a');
      expect(object.contentLength).toBe(1024 * 1024);
      await expect(readAll(object.body)).rejects.toThrow();
      expect(object.body.destroyed).toBe(true);
    });

    it('errors the body stream when S3 stops sending', { timeout: BOUND_MS }, async () => {
      const server = await fakeS3((_request, response) => startBody(response));
      const object = await storeAt(server.endpoint, { idle: 300 }).getObject('ws/digital_assets/a');
      const started = performance.now();
      await expect(readAll(object.body)).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(performance.now() - started).toBeLessThan(5_000);
    });

    it('aborts the S3 request when the caller goes away before the headers', { timeout: BOUND_MS }, async () => {
      const server = await fakeS3(() => {
        // Stall until the driver gives up.
      });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const { error, ms } = await failure(storeAt(server.endpoint).getObject('ws/digital_assets/a', { signal: controller.signal }));
      expect(error.appCode).toBe('S3_ERROR');
      expect(error.message).toMatch(/aborted/i);
      expect(ms).toBeLessThan(2_000);
      expect(server.requests).toHaveLength(1);
    });
  });
});
